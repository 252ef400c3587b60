"""The inbox: each file a till sends is claimed, checked, imported once, then put away.

A file's way, and why each step is there:

1. Claimed: one `os.rename` out of the till's `from_pos/` into `processing/<TILL>/`. The
   rename is atomic, so of several threads (the FTP callback, the watcher, a scan) only
   one gets the file; the file is also locked (`flock`) while in hand, so a scan of
   `processing/` never takes a file another thread or process is working on.
2. Recorded: an `ExchangeFile` row and a `received` event, committed at once. If the
   process dies from here on, the file lies in `processing/` and the row says how far it
   got; the next start finishes the job instead of doing it twice.
3. Checked: the codec's checks (header, count, SHA-256, every record) plus those only the
   inbox can make: the name, the header and the account agree on till, kind and sequence;
   the till has an account and the file names its store.
4. Decided and imported in one transaction: the same till, kind and sequence with the same
   content seen before is a `duplicate` (nothing changes); with other content a `conflict`
   held for the operator; a sequence beyond the next expected one logs a `gap`; otherwise
   the file is imported and the row marked `imported` in the same commit.
5. Put away: to `archive/<date>/<TILL>/`, or to `quarantine/<TILL>/` with a `.reason` text.
   Nothing a till sent is deleted, and one bad file never stops the next.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from peewee import InterfaceError, OperationalError

from exchange.folders import ExchangeFolders, reason_file
from exchange.importers import ImportResult, import_parsed, touch_contact
from exchange.records import INCOMING_KINDS, ShopV2Error
from exchange.shopv2 import PART_SUFFIX, ParsedFile, has_valid_trailer, parse_file, parse_name
from models.db import write_transaction
from models.errors import BooksError, NotFoundError
from models.exchange_log import HELD_STATES, log_event
from models.i18n import _
from models.org import Store, Till, now
from models.till_records import ExchangeFile

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None  # type: ignore[assignment]

__all__ = ["Inbox", "Outcome"]

#: Done with: these files go to the archive.
_ARCHIVED_STATES = ("imported", "duplicate", "discarded")
#: An earlier file in one of these states makes a copy of it a duplicate: its content was
#: taken in, or is held or set aside by the operator. A `duplicate` is left out (its original
#: is there to match), so a held file retried is never a duplicate of its own copy.
_DECIDED_STATES = ("imported", "conflict", "discarded")
#: A copy that fails its checks again is also a duplicate of a quarantined one (still held).
_HELD_COPY_STATES = (*_DECIDED_STATES, "quarantined")
_SUFFIX = re.compile(r"~\d+(?=\.[^.]*$|$)")
_MAX_NOTES = 20
#: A till code as file names and folders carry it; a header naming anything else is not
#: trusted for a folder name (the check then refuses the file).
_TILL_CODE = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass
class Outcome:
    """What became of one file: the event, the counts of what it did, and why."""

    file: str
    till: str
    kind: str
    seq: int | None
    #: "imported", "duplicate", "conflict", "quarantined" or "discarded"
    event: str
    counts: dict[str, int] = field(default_factory=dict)
    detail: str = ""
    #: Where the file lies now.
    path: Path | None = None
    #: The line a quarantined file failed at, when one is to blame.
    line: int | None = None


class _Refused(Exception):
    """A file that fails a check: quarantined with this reason and line."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int | None]:
    """An exclusive lock on the file at `path` (its inode), or None if busy or gone.

    `flock` locks belong to an open file, so two threads of one process exclude each other
    as two processes do, and a killed holder's lock goes with it.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, IsADirectoryError):
        yield None
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
        yield fd
    finally:
        os.close(fd)


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def original_name(name: str) -> str:
    """A file's name without the `~N` a busy folder added (`sales_T01_00000001~1.jsonl`)."""
    return _SUFFIX.sub("", name, count=1)


def _order(path: Path) -> tuple:
    """Files of a till in kind and sequence order; names that are no ShopV2 name last."""
    parsed = parse_name(original_name(path.name))
    if parsed is None:
        return (1, "", 0, path.name)
    return (0, parsed.kind, parsed.seq, path.name)


def _ranges(numbers: list[int]) -> str:
    """`[3, 4, 5, 9]` as `3-5, 9`."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _header_till(data: bytes) -> str | None:
    """The till a file's header names, read leniently (the full check comes later)."""
    first = data.split(b"\n", 1)[0]
    try:
        header = json.loads(first)
    except ValueError:
        return None
    till = header.get("till") if isinstance(header, dict) else None
    return till if isinstance(till, str) and _TILL_CODE.fullmatch(till) else None


class Inbox:
    """Takes the tills' files into the books: from the upload folders, by hand, or again."""

    def __init__(self, folders: ExchangeFolders, *, settle_seconds: float = 120.0) -> None:
        """`settle_seconds`: how long a file without a valid trailer may still be uploading.

        A till that cannot rename uploads under the final name; such a file is taken once
        its trailer checks out, or, failing that, once it has not changed for this long
        (then it is broken and goes to quarantine rather than waiting for ever).
        """
        self.folders = folders
        self.settle_seconds = settle_seconds

    # -- taking files ---------------------------------------------------------------------

    def take(self, path: Path | str, complete: bool = False) -> Outcome | None:
        """Take one file from a till's `from_pos/` (or a leftover in `processing/`).

        None when the file is not ready (a `.part` name, or no valid trailer yet and
        recently changed), is gone, or another taker has it. `complete=True` says the
        caller knows the upload is finished (renamed from `.part`, or its STOR ended).
        """
        path = Path(path)
        if path.name.endswith(PART_SUFFIX) or path.name.startswith("."):
            return None
        where = self._locate(path)
        if where is None:
            return None
        folder, till = where
        if folder == "processing":
            return self._take_leftover(path, till)
        if not complete and not self._complete(path):
            return None
        return self._claim(path, till)

    def scan(self) -> list[Outcome]:
        """Take everything waiting: leftovers in `processing/` first, then every till's uploads.

        Per till, files go in kind and sequence order, so a gap is seen as a gap.
        """
        outcomes: list[Outcome] = []
        for till in self.folders.processing_tills():
            for path in sorted(self._files(self.folders.processing(till)), key=_order):
                outcome = self._take_leftover(path, till)
                if outcome is not None:
                    outcomes.append(outcome)
        for till in self.folders.till_codes():
            for path in sorted(self._files(self.folders.from_pos(till)), key=_order):
                outcome = self.take(path)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def import_paths(self, paths: Iterable[Path | str]) -> list[Outcome]:
        """Import files given by hand (`iis import`): each is copied in, the original stays.

        The till is the one the file's header names.
        """
        outcomes = []
        for given in paths:
            source = Path(given)
            if not source.is_file():
                raise NotFoundError(_("no file {path}").format(path=source))
            data = source.read_bytes()
            name = parse_name(source.name)
            till = _header_till(data) or (name.till if name and name.till else None) or "UNKNOWN"
            folder = self.folders.processing(till)
            folder.mkdir(parents=True, exist_ok=True)
            copying = folder / f".{source.name}.{os.getpid()}.{threading.get_ident()}.copying"
            shutil.copyfile(source, copying)
            with _locked(copying):
                target = self.folders.move(copying, folder, source.name)
                outcome = self._process(target, till, source.name, hand=True)
            outcomes.append(outcome)
        return outcomes

    # -- the operator's decisions ---------------------------------------------------------

    def retry(self, ref: str | int, by: str = "") -> Outcome:
        """Import a quarantined or conflicting file again (after a fix in the file or books).

        A conflict retried is imported although its sequence was imported before: the
        operator has decided. Receipts the books already hold are still skipped. `by`,
        the operator's code, goes into the log beside the time.
        """
        row = self.find_held(ref)
        source = self.folders.absolute(row.path)
        with _locked(source) as fd:
            if fd is None:
                raise BooksError(
                    _("file {name} is not in {path} or is busy").format(
                        name=row.name, path=row.path
                    )
                )
            force = row.state == "conflict"
            previous = row.reason
            old_reason = reason_file(source)
            target = self.folders.move(source, self.folders.processing(row.till))
            with contextlib.suppress(FileNotFoundError):
                old_reason.unlink()
            with write_transaction():
                row.state = "received"
                row.path = self.folders.relative(target)
                row.save()
                log_event("retried", row.till, row.kind, row.seq, row.name, _by(by, previous))
            return self._process(target, row.till, row.name, row=row, force=force)

    def discard(self, ref: str | int, reason: str, by: str = "") -> Outcome:
        """Set a quarantined or conflicting file aside: archived and marked, never deleted."""
        if not reason.strip():
            raise BooksError(_("discarding a file needs a reason"))
        row = self.find_held(ref)
        source = self.folders.absolute(row.path)
        with _locked(source) as fd:
            if fd is None:
                raise BooksError(
                    _("file {name} is not in {path} or is busy").format(
                        name=row.name, path=row.path
                    )
                )
            old_reason = reason_file(source)
            target = self.folders.to_archive(source, row.till)
            text = _("discarded: {reason}").format(reason=reason.strip())
            if row.reason:
                text += "\n" + _("it was held because: {reason}").format(reason=row.reason)
            self.folders.write_reason(target, text)
            with contextlib.suppress(FileNotFoundError):
                old_reason.unlink()
            with write_transaction():
                row.state = "discarded"
                row.reason = text
                row.path = self.folders.relative(target)
                row.processed_at = now()
                row.save()
                detail = _by(by, reason.strip())
                log_event("discarded", row.till, row.kind, row.seq, row.name, detail)
        return Outcome(row.name, row.till, row.kind, row.seq, "discarded", {}, text, target)

    def find_held(self, ref: str | int) -> ExchangeFile:
        """The quarantined or conflicting file `ref` names: its id, path, or file name."""
        held = ExchangeFile.select().where(
            (ExchangeFile.direction == "in") & ExchangeFile.state.in_(list(HELD_STATES))
        )
        text = str(ref).strip()
        if text.isdigit():
            row = held.where(ExchangeFile.id == int(text)).first()
            if row is not None:
                return row
        wanted = Path(text)
        relative = self.folders.relative(wanted) if wanted.is_absolute() else wanted.as_posix()
        rows = [
            r
            for r in held
            if r.path == relative or Path(r.path).name == wanted.name or r.name == wanted.name
        ]
        exact = [r for r in rows if r.path == relative]
        if exact:
            return exact[0]
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise NotFoundError(
                _("no quarantined or conflicting file {ref}; see `iis exchange quarantine`").format(
                    ref=text
                )
            )
        raise BooksError(
            _("{ref} names several held files; give one of: {paths}").format(
                ref=text, paths=", ".join(r.path for r in rows)
            )
        )

    def waiting_counts(self) -> dict[str, int]:
        """Per till, the complete-looking files still waiting in its upload folder."""
        return {
            till: sum(1 for _path in self._files(self.folders.from_pos(till)))
            for till in self.folders.till_codes()
        }

    # -- the pipeline -----------------------------------------------------------------------

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return [
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(PART_SUFFIX)
        ]

    def _locate(self, path: Path) -> tuple[str, str] | None:
        parent = path.parent
        try:
            if parent.name == "from_pos" and parent.parent.parent.resolve() == (
                self.folders.tills.resolve()
            ):
                return "from_pos", parent.parent.name
            if parent.parent.resolve() == self.folders.processing_root.resolve():
                return "processing", parent.name
        except OSError:
            return None
        return None

    def _complete(self, path: Path) -> bool:
        try:
            data = path.read_bytes()
            changed = path.stat().st_mtime
        except FileNotFoundError:
            return False
        return has_valid_trailer(data) or time.time() - changed >= self.settle_seconds

    def _claim(self, path: Path, till: str) -> Outcome | None:
        with _locked(path) as fd:
            if fd is None:
                return None
            claimed = self.folders.claim(path, till)
            if claimed is None:
                return None
            if _same_file(claimed, fd):
                return self._process(claimed, till, path.name)
        # A newer upload took the name between our lock and our rename: take it as a leftover.
        return self._take_leftover(claimed, till)

    def _take_leftover(self, path: Path, till: str) -> Outcome | None:
        """A file in `processing/`: resume it where a crash left it, exactly once."""
        with _locked(path) as fd:
            if fd is None or not _same_file(path, fd):
                return None
            relative = self.folders.relative(path)
            row = (
                ExchangeFile.select()
                .where((ExchangeFile.direction == "in") & (ExchangeFile.path == relative))
                .order_by(ExchangeFile.id.desc())
                .first()
            )
            if row is not None and row.state != "received":
                return self._put_away(row, path)
            name = row.name if row is not None else original_name(path.name)
            return self._process(path, till, name, row=row)

    def _put_away(self, row: ExchangeFile, path: Path) -> Outcome:
        """Finish the move a crash interrupted: the decision is already in the books."""
        if row.state in _ARCHIVED_STATES:
            target = self.folders.to_archive(path, row.till)
        else:
            target = self.folders.to_quarantine(path, row.till, row.reason)
        row.path = self.folders.relative(target)
        row.save()
        return Outcome(row.name, row.till, row.kind, row.seq, row.state, {}, row.reason, target)

    def _process(
        self,
        path: Path,
        till: str,
        name: str,
        *,
        row: ExchangeFile | None = None,
        force: bool = False,
        hand: bool = False,
    ) -> Outcome:
        """Check, decide, import and put away one claimed file (locked by the caller)."""
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        parsed_name = parse_name(name)
        kind = parsed_name.kind if parsed_name and parsed_name.incoming else ""
        seq = parsed_name.seq if parsed_name and parsed_name.incoming else 0
        account = Till.get_or_none(Till.code == till)
        fresh = row is None
        with write_transaction():
            if row is None:
                row = ExchangeFile.create(
                    till=till,
                    direction="in",
                    kind=kind,
                    seq=seq,
                    name=name,
                    sha256=sha,
                    size=len(data),
                    state="received",
                    path=self.folders.relative(path),
                )
                detail = _("{size} bytes").format(size=len(data))
                if hand:
                    detail = _("{size} bytes, imported by hand").format(size=len(data))
                log_event("received", till, kind, seq or None, name, detail)
            else:
                row.sha256, row.size = sha, len(data)
                row.path = self.folders.relative(path)
                row.save()
            if account is not None:
                touch_contact(account)
        try:
            parsed = self._check(data, till, parsed_name, account, hand)
        except _Refused as refused:
            if fresh and row.kind and row.seq:
                with write_transaction():
                    self._log_gap(row)
            return self._refuse(row, path, refused.reason, refused.line, sha)
        if row.kind != parsed.header.kind or row.seq != parsed.header.seq:
            row.kind, row.seq = parsed.header.kind, parsed.header.seq
            row.save()
        try:
            return self._decide(row, path, parsed, account, sha, force=force, fresh=fresh)
        except (OperationalError, InterfaceError):
            raise  # the database is busy or gone: the file stays in processing for the next scan
        except (BooksError, ValueError, LookupError, ArithmeticError) as error:
            return self._refuse(row, path, _("not imported: {error}").format(error=error), None)
        except Exception as error:  # an import that breaks must not stop the files after it
            reason = _("not imported: {kind}: {error}").format(
                kind=type(error).__name__, error=error
            )
            return self._refuse(row, path, reason, None)

    def _check(
        self,
        data: bytes,
        till: str,
        name,
        account: Till | None,
        hand: bool,
    ) -> ParsedFile:
        if name is None and not hand:
            raise _Refused(
                _("the name is not a ShopV2 file name such as sales_{till}_00000001.jsonl").format(
                    till=till
                )
            )
        if name is not None and not name.incoming:
            raise _Refused(
                _("a {kind} file is sent to the tills, not by them").format(kind=name.kind)
            )
        try:
            parsed = parse_file(data)
        except ShopV2Error as error:
            raise _Refused(error.reason, error.line) from None
        header = parsed.header
        if header.kind not in INCOMING_KINDS:
            raise _Refused(
                _("line 1: a {kind} file is sent to the tills, not by them").format(
                    kind=header.kind
                ),
                1,
            )
        if header.till != till:
            raise _Refused(
                _(
                    "line 1: the header names till {named}, but the file came from till {till}"
                ).format(named=header.till, till=till),
                1,
            )
        if name is not None:
            if name.till != header.till:
                raise _Refused(
                    _("line 1: the name says till {named}, the header till {till}").format(
                        named=name.till, till=header.till
                    ),
                    1,
                )
            if name.kind != header.kind or name.seq != header.seq:
                raise _Refused(
                    _(
                        "line 1: the name says {name_kind} {name_seq}, the header {kind} {seq}"
                    ).format(
                        name_kind=name.kind,
                        name_seq=name.seq,
                        kind=header.kind,
                        seq=header.seq,
                    ),
                    1,
                )
        if account is None:
            raise _Refused(
                _(
                    "till {till} has no account: add it with `iis till add {till} --store CODE`, "
                    "then retry"
                ).format(till=till)
            )
        store = Store.get_by_id(account.store_id).code
        if header.store != store:
            raise _Refused(
                _(
                    "line 1: the header names store {named}, but till {till} belongs to {store}"
                ).format(named=header.store, till=till, store=store),
                1,
            )
        return parsed

    def _earlier(self, row: ExchangeFile) -> list[ExchangeFile]:
        """Other files of the same till, kind and sequence that were decided on before."""
        return list(
            ExchangeFile.select().where(
                (ExchangeFile.direction == "in")
                & (ExchangeFile.till == row.till)
                & (ExchangeFile.kind == row.kind)
                & (ExchangeFile.seq == row.seq)
                & (ExchangeFile.id != row.id)
                & (ExchangeFile.state != "received")
            )
        )

    def _duplicate_of(
        self,
        row: ExchangeFile,
        sha: str,
        earlier: list[ExchangeFile] | None = None,
        states: tuple[str, ...] = _DECIDED_STATES,
    ) -> ExchangeFile | None:
        """An earlier file with the same content in one of `states`; `earlier` saves a read."""
        if not row.kind:
            return None
        if earlier is None:
            earlier = self._earlier(row)
        return next((e for e in earlier if e.sha256 == sha and e.state in states), None)

    def _log_gap(self, row: ExchangeFile) -> None:
        """Log the sequences missing before this one, if any."""
        seen = (
            ExchangeFile.select(ExchangeFile.seq)
            .where(
                (ExchangeFile.direction == "in")
                & (ExchangeFile.till == row.till)
                & (ExchangeFile.kind == row.kind)
                & (ExchangeFile.id != row.id)
            )
            .order_by(ExchangeFile.seq.desc())
            .tuples()
            .first()
        )
        last = seen[0] if seen else 0
        if row.seq > last + 1:
            missing = list(range(last + 1, row.seq))
            log_event(
                "gap",
                row.till,
                row.kind,
                row.seq,
                row.name,
                _("missing {kind} files of till {till}: seq {seqs}").format(
                    kind=row.kind, till=row.till, seqs=_ranges(missing)
                ),
            )

    def _decide(
        self,
        row: ExchangeFile,
        path: Path,
        parsed: ParsedFile,
        account: Till,
        sha: str,
        *,
        force: bool,
        fresh: bool,
    ) -> Outcome:
        with write_transaction():
            earlier = self._earlier(row)
            duplicate = self._duplicate_of(row, sha, earlier)
            if duplicate is not None:
                detail = _("the same file was received before (file {id}, {state})").format(
                    id=duplicate.id, state=duplicate.state
                )
                self._mark(row, "duplicate", detail, records=parsed.count)
                log_event("duplicate", row.till, row.kind, row.seq, row.name, detail)
                event, result = "duplicate", ImportResult()
            else:
                imported = [e for e in earlier if e.state == "imported"]
                if fresh:
                    self._log_gap(row)
                if imported and not force:
                    detail = _(
                        "{kind} {seq} of till {till} was imported before with other content "
                        "(a till reinstalled?); import it with `iis exchange retry` or set it "
                        "aside with `iis exchange discard`"
                    ).format(kind=row.kind, seq=row.seq, till=row.till)
                    self._mark(row, "conflict", detail, records=parsed.count)
                    log_event("conflict", row.till, row.kind, row.seq, row.name, detail)
                    event, result = "conflict", ImportResult()
                else:
                    result = import_parsed(parsed, account)
                    detail = result.summary() or _("nothing to import")
                    if result.notes:
                        notes = result.notes[:_MAX_NOTES]
                        if len(result.notes) > _MAX_NOTES:
                            notes.append(
                                _("and {count} more").format(count=len(result.notes) - _MAX_NOTES)
                            )
                        detail += "; " + "; ".join(notes)
                    self._mark(row, "imported", "", records=parsed.count)
                    log_event("imported", row.till, row.kind, row.seq, row.name, detail)
                    event = "imported"
        if event == "conflict":
            target = self.folders.to_quarantine(path, row.till, detail)
        else:
            target = self.folders.to_archive(path, row.till)
        row.path = self.folders.relative(target)
        row.save()
        return Outcome(row.name, row.till, row.kind, row.seq, event, result.counts, detail, target)

    @staticmethod
    def _mark(row: ExchangeFile, state: str, reason: str, records: int = 0, line=None) -> None:
        row.state = state
        row.reason = reason
        row.line = line
        row.records = records
        row.processed_at = now()
        row.save()

    def _refuse(
        self, row: ExchangeFile, path: Path, reason: str, line: int | None, sha: str | None = None
    ) -> Outcome:
        """Quarantine a file that failed (or archive it as a duplicate of one held before)."""
        with write_transaction():
            duplicate = self._duplicate_of(row, sha, states=_HELD_COPY_STATES) if sha else None
            if duplicate is not None:
                detail = _("the same file was received before (file {id}, {state})").format(
                    id=duplicate.id, state=duplicate.state
                )
                self._mark(row, "duplicate", detail)
                log_event("duplicate", row.till, row.kind, row.seq or None, row.name, detail)
            else:
                self._mark(row, "quarantined", reason, line=line)
                log_event("quarantined", row.till, row.kind, row.seq or None, row.name, reason)
        if duplicate is not None:
            target = self.folders.to_archive(path, row.till)
            event = "duplicate"
        else:
            target = self.folders.to_quarantine(path, row.till, reason)
            event, detail = "quarantined", reason
        row.path = self.folders.relative(target)
        row.save()
        return Outcome(row.name, row.till, row.kind, row.seq, event, {}, detail, target, line)


def _by(operator: str, detail: str) -> str:
    """A log detail with the operator who acted, when one is known."""
    if not operator:
        return detail
    return _("by {operator}: {detail}").format(operator=operator, detail=detail)
