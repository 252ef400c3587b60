"""The exchange daemon: FTP server, folder watcher, inbox and outbox, wired together.

One `ExchangeService` runs the whole edge to the tills, headless (`iis serve`) or inside
the demo. Its threads have one job each:

- the FTP server's thread runs aioftp on its own event loop; its file events only put
  work on the queue ("stored"/"renamed" in `from_pos/` for the inbox, "deleted" in
  `to_pos/` as a till's acknowledgement);
- watchdog's threads notice files that arrive any other way and also only queue them;
- ONE worker thread owns every write the exchange makes to the books: it takes queued
  files through the inbox, scans all folders at start and every `scan_interval` (the
  safety net for any event missed), records acknowledgements, and runs the outbox when
  the books changed (SQLite's `PRAGMA data_version`, which moves only on another
  connection's commit) and every `export_interval`.

Keeping the writes on one thread means the exchange never races itself for SQLite's
write lock, and `stop()` is simple: the worker finishes (or rolls back) the file in hand
and leaves the rest where it lies, to be taken by the scan at the next start.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from peewee import SqliteDatabase

from exchange.accounts import DatabaseTillAccounts
from exchange.folders import ExchangeFolders
from exchange.ftp_server import FROM_POS, TO_POS, FtpServerOptions, FtpServerThread
from exchange.inbox import Inbox
from exchange.outbox import OUTBOX_KINDS, Acknowledged, Outbox, Published, database_marker
from exchange.watcher import FolderWatcher, is_upload
from models.db import DATABASE_FILE, database, database_url, open_database
from models.org import Till

__all__ = ["ExchangeService", "open_books"]

logger = logging.getLogger("iis.exchange")

T = TypeVar("T")

#: Kinds published as soon as the books change; statistics wait for the export interval,
#: or every imported receipt would send each till a new file.
PROMPT_KINDS = tuple(kind for kind in OUTBOX_KINDS if kind != "stats")
_STOP = object()


def open_books(data_dir: Path) -> None:
    """Bind the books of `data_dir`, unless they are the ones already open in this process."""
    db = database.obj
    if db is not None and database_url() is None and isinstance(db, SqliteDatabase):
        current = Path(db.database).resolve()
        if current == (Path(data_dir) / DATABASE_FILE).resolve():
            return
    elif db is not None and database_url() is not None:
        return
    open_database(Path(data_dir))


class ExchangeService:
    """The exchange with the tills, on threads of its own; `start()` then `stop()`."""

    def __init__(
        self,
        data_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 2121,
        passive_ports: Sequence[int] | None = None,
        certfile: Path | str | None = None,
        keyfile: Path | str | None = None,
        export_interval: float = 60.0,
        scan_interval: float = 60.0,
        *,
        settle: float = 0.3,
        poll: float = 0.5,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.folders = ExchangeFolders(self.data_dir)
        self.host = host
        self.requested_port = port
        self.options = FtpServerOptions(
            passive_ports=passive_ports,
            certfile=Path(certfile) if certfile else None,
            keyfile=Path(keyfile) if keyfile else None,
        )
        self.export_interval = export_interval
        self.scan_interval = scan_interval
        self.settle = settle
        self.poll = poll
        self.inbox: Inbox | None = None
        self.outbox = Outbox(self.folders)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._ftp: FtpServerThread | None = None
        self._watcher: FolderWatcher | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._worker_error: BaseException | None = None

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The FTP port listened on (the real one when 0 was asked)."""
        if self._ftp is None:
            raise RuntimeError("the exchange service is not running")
        return self._ftp.port

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def start(self, timeout: float = 30.0) -> None:
        """Open the books, make every till's folders, start the worker, watcher and server.

        Returns once the server listens and the worker has made its first scan.
        """
        if self._worker is not None:
            raise RuntimeError("the exchange service was already started")
        open_books(self.data_dir)
        for (code,) in Till.select(Till.code).tuples():
            self.folders.ensure(code)
        self.inbox = Inbox(self.folders)
        self._stopping.clear()
        # The watcher starts first, so a file landing during the first scan is queued too.
        self._watcher = FolderWatcher(self.folders, self._queue)
        self._watcher.start()
        self._worker = threading.Thread(target=self._work, name="iis-exchange", daemon=True)
        self._worker.start()
        try:
            if not self._ready.wait(timeout):
                raise TimeoutError("the exchange worker did not finish its first scan in time")
            if self._worker_error is not None:
                raise self._worker_error
            self._ftp = FtpServerThread(
                DatabaseTillAccounts(self.folders),
                host=self.host,
                port=self.requested_port,
                options=self.options,
                on_file_event=self._on_file_event,
            )
            self._ftp.start()
        except BaseException:
            self.stop()
            raise
        logger.info(
            "exchange running: FTP on %s:%s, data in %s", self.host, self.port, self.data_dir
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking files, let the worker finish the file in hand, join every thread."""
        self._stopping.set()
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            ftp.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(_STOP)
            worker.join(timeout)
            if worker.is_alive():
                logger.error("the exchange worker did not stop within %.0f s", timeout)
        logger.info("exchange stopped")

    def __enter__(self) -> ExchangeService:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- asking the worker -----------------------------------------------------------------------

    def call(self, func: Callable[[], T], timeout: float | None = 60.0) -> T:
        """Run `func` on the worker thread (the one that writes the exchange) and wait for it."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(("call", func, future))
        return future.result(timeout)

    def export(
        self, full: bool = False, tills: Iterable[str] | None = None, timeout: float = 120.0
    ) -> list[Published]:
        """One outbox run now, on the worker; returns what was published."""
        names = list(tills) if tills is not None else None

        def run() -> list[Published]:
            self.outbox.scan_acknowledgements()
            return self.outbox.run(full=full, tills=names)

        return self.call(run, timeout)

    def submit(self, path: Path) -> None:
        """Queue a file in a till's `from_pos/` for the inbox."""
        self._queue.put(("in", Path(path), False))

    # -- events from other threads -------------------------------------------------------------

    def _on_file_event(self, login: str, path: Path, event: str) -> None:
        """The FTP server's callback (its own thread): only queue the work."""
        folder = Path(path).parent.name
        if event in ("stored", "renamed") and folder == FROM_POS and is_upload(Path(path)):
            self._queue.put(("in", Path(path), True))
        elif event == "deleted" and folder == TO_POS:
            self._queue.put(("ack", login, Path(path)))

    # -- the worker ----------------------------------------------------------------------

    def _work(self) -> None:
        try:
            database.connect(reuse_if_open=True)
            marker = database_marker()
            self._scan()
            self._export(full_run=True)
        except BaseException as error:
            logger.exception("the exchange worker could not start")
            self._worker_error = error
            self._ready.set()
            return
        self._ready.set()
        next_scan = time.monotonic() + self.scan_interval
        next_export = time.monotonic() + self.export_interval
        changed_at: float | None = None
        try:
            while not self._stopping.is_set():
                try:
                    item = self._queue.get(timeout=self.poll)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    break
                if item is not None:
                    self._handle(item)
                if self._stopping.is_set():
                    break
                clock = time.monotonic()
                seen = database_marker()
                if seen != marker:
                    marker = seen
                    changed_at = clock
                if clock >= next_scan:
                    self._scan()
                    next_scan = time.monotonic() + self.scan_interval
                if clock >= next_export:
                    self._export(full_run=True)
                    next_export = time.monotonic() + self.export_interval
                    changed_at = None
                elif changed_at is not None and clock - changed_at >= self.settle:
                    self._export(full_run=False)
                    changed_at = None
                    marker = database_marker()
        except BaseException:
            logger.exception("the exchange worker stopped on an error")
        finally:
            self._fail_pending_calls()
            database.close()

    def _handle(self, item: tuple | Path) -> None:
        """One queued piece of work; a failure is logged and the worker goes on.

        A bare path comes from the watcher, which cannot tell whether an upload is whole
        (the inbox then checks the trailer); the FTP server's events say it is.
        """
        if isinstance(item, Path):
            item = ("in", item, False)
        what = item[0]
        try:
            if what == "in":
                assert self.inbox is not None
                outcome = self.inbox.take(item[1], complete=item[2])
                if outcome is not None:
                    logger.debug("took %s: %s", item[1], outcome)
            elif what == "ack":
                acked = self.outbox.acknowledge(item[1], Path(item[2]).name)
                if acked is not None:
                    logger.debug("acknowledged %s by %s", acked.name, acked.till)
            elif what == "call":
                _what, func, future = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(func())
                    except BaseException as error:
                        future.set_exception(error)
        except Exception:
            logger.exception("the exchange could not handle %s %s", what, item[1:])

    def _scan(self) -> None:
        """The safety net: every file waiting in any `from_pos/`, and every vanished publication."""
        assert self.inbox is not None
        try:
            outcomes = self.inbox.scan()
            if outcomes:
                logger.info("the scan took %d waiting file(s)", len(outcomes))
        except Exception:
            logger.exception("the inbox scan failed")
        self._scan_acknowledgements()

    def _scan_acknowledgements(self) -> list[Acknowledged]:
        try:
            return self.outbox.scan_acknowledgements()
        except Exception:
            logger.exception("the acknowledgement scan failed")
            return []

    def _export(self, full_run: bool) -> list[Published]:
        """Publish what changed: every kind on the interval, the prompt kinds on a change."""
        try:
            self._scan_acknowledgements()
            kinds = OUTBOX_KINDS if full_run else PROMPT_KINDS
            published = self.outbox.run(kinds=kinds)
            for item in published:
                logger.debug("published %s for %s", item.name, item.till)
            return published
        except Exception:
            logger.exception("the outbox run failed")
            return []

    def _fail_pending_calls(self) -> None:
        """Calls still queued when the worker stops get an error instead of hanging."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, tuple) and item[0] == "call":
                item[2].set_exception(RuntimeError("the exchange service stopped"))
