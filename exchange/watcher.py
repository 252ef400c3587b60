"""The folder watcher: notices files that land in a till's `from_pos/` however they got there.

The FTP server reports its own uploads at once; the watcher covers the rest: a till
that writes through another server or a shared folder, an operator who copies a file
in by hand. Watchdog calls back on its own threads, so the handler here only puts the
path on a queue; the service's worker, which owns the books, takes it from there.
A file is queued when it appears under its final ShopV2 name (created, moved into
place, or closed after writing, which is when a no-rename till's upload is whole).
"""

from __future__ import annotations

import logging
import queue
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from exchange.folders import ExchangeFolders
from exchange.shopv2 import parse_name

__all__ = ["FolderWatcher", "is_upload"]

logger = logging.getLogger("iis.exchange.watcher")


def is_upload(path: Path) -> bool:
    """A complete-looking till file in a `from_pos/` folder (a `.part` never is)."""
    if path.parent.name != "from_pos":
        return False
    parsed = parse_name(path.name)
    return parsed is not None and parsed.incoming


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: queue.Queue) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            target = event.dest_path
        elif isinstance(event, FileCreatedEvent | FileClosedEvent):
            target = event.src_path
        else:
            return
        path = Path(target if isinstance(target, str) else target.decode())
        if is_upload(path):
            self.sink.put(path)


class FolderWatcher:
    """A watchdog observer over every till's home, feeding upload paths to `sink`."""

    def __init__(self, folders: ExchangeFolders, sink: queue.Queue) -> None:
        self.folders = folders
        self.sink = sink
        self._observer: Observer | None = None

    def start(self) -> None:
        self.folders.tills.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(_Handler(self.sink), str(self.folders.tills), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        logger.debug("watching %s", self.folders.tills)

    def stop(self, timeout: float = 5.0) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        observer.stop()
        observer.join(timeout)
