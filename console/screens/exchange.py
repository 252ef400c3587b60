"""The exchange screen: the tills at a glance and the live exchange log under them.

Everything here is read from the books (and, for files still waiting in a
till's upload folder, from the disk), never from the daemon's memory, so the
screen shows the truth whether or not the daemon runs. The tills table is a
handful of rows and is updated cell by cell; the log may hold millions of
events and is a `LazyTable` paged from SQL. Both keep their cursor by key when
the books change.

A quarantined file opens in a dialog with the reason and the offending line
read from the file itself, and can be retried from there.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from babel.dates import format_time, format_timedelta
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static

from console.i18n import current_language
from console.screens import LiveScreen
from console.sources import fmt_stamp, thread_connection
from console.widgets.lazy_table import Column, LazyTable, Row
from console.widgets.modals import ReasonModal
from exchange.folders import ExchangeFolders, reason_file
from models.errors import BooksError
from models.exchange_log import HELD_STATES, held_files, status_rows
from models.i18n import _
from models.operators import require_approver
from models.till_records import EXCHANGE_EVENTS, ExchangeEvent, ExchangeFile

if TYPE_CHECKING:
    from console.app import IISApp

__all__ = [
    "ExchangeScreen",
    "LogSource",
    "QuarantineListModal",
    "QuarantineModal",
    "event_label",
]

#: Events that mean a file needs the operator; they stand out in the log.
_TROUBLE = frozenset({"quarantined", "conflict", "gap"})
#: How many lines of a quarantined file are shown on each side of the offending one.
_CONTEXT_LINES = 1
#: Characters of a till's last error in its cell; the whole text is in the quarantine dialog.
_ERROR_CELL = 60
#: Characters of one line of a file shown at most (a till may write long lines).
_LINE_LIMIT = 2000


def event_label(event: str) -> str:
    """An exchange event as the operator reads it, in the current language."""
    labels = {
        "received": _("received"),
        "imported": _("imported"),
        "duplicate": _("duplicate"),
        "conflict": _("conflict"),
        "gap": _("gap"),
        "quarantined": _("quarantined"),
        "retried": _("retried"),
        "discarded": _("discarded"),
        "published": _("published"),
        "acknowledged": _("acknowledged"),
    }
    return labels.get(event, event)


def _utc(value: dt.datetime | str | None) -> dt.datetime | None:
    """A time of the books (naive UTC, or text from a raw query) as an aware UTC time."""
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def fmt_clock(value: dt.datetime | str | None, now: dt.datetime, seconds: bool = False) -> str:
    """A time as a clock reading when it is today (local), else as a short date and time."""
    moment = _utc(value)
    if moment is None:
        return ""
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return format_time(local, "medium" if seconds else "short", locale=current_language())
    return fmt_stamp(moment)


def fmt_ago(value: dt.datetime | str | None, now: dt.datetime) -> str:
    """How long ago, in the locale's narrow style ("12s", "3 мин")."""
    moment = _utc(value)
    if moment is None:
        return _("never")
    delta = max(dt.timedelta(0), now - moment)
    return format_timedelta(delta, format="narrow", threshold=1.0, locale=current_language())


def _aware(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now


@dataclass(frozen=True)
class LogSource:
    """The exchange log, newest first, optionally of one till and one event.

    Rows are keyed by the event's id, so the cursor stays on the same event
    while new ones arrive above it. `now` fixes "today" for the time column
    (tests); by default it is the moment of the fetch.
    """

    till: str | None = None
    event: str | None = None
    now: dt.datetime | None = None

    def _query(self):
        query = ExchangeEvent.select()
        if self.till:
            query = query.where(ExchangeEvent.till == self.till)
        if self.event:
            query = query.where(ExchangeEvent.event == self.event)
        return query

    def count(self) -> int:
        with thread_connection():
            return self._query().count()

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        with thread_connection():
            query = (
                self._query()
                .select(
                    ExchangeEvent.id,
                    ExchangeEvent.time,
                    ExchangeEvent.till,
                    ExchangeEvent.event,
                    ExchangeEvent.file,
                    ExchangeEvent.detail,
                )
                .order_by(ExchangeEvent.id.desc())
                .offset(offset)
                .limit(limit)
                .tuples()
            )
            rows = list(query)
        now = _aware(self.now or dt.datetime.now(dt.UTC))
        out = []
        for event_id, time, till, event, file, detail in rows:
            style = "bold red" if event in _TROUBLE else ("dim" if event == "duplicate" else "")
            cells = (
                fmt_clock(time, now, seconds=True),
                till,
                event_label(event),
                file,
                " ".join(str(detail or "").split()),
            )
            out.append(Row(event_id, cells, style))
        return out


def log_columns() -> tuple[Column, ...]:
    """Built when the screen is made, so the headings speak the current language."""
    return (
        Column("time", _("Time"), 11),
        Column("till", _("Till"), 4),
        Column("event", _("Event"), 12),
        Column("file", _("File"), 25, style="dim"),
        Column("detail", _("Detail"), 10, flex=True),
    )


def count_waiting(data_dir: Path) -> dict[str, int]:
    """Files lying in each till's upload folder, not yet taken by the inbox."""
    folders = ExchangeFolders(data_dir)
    counts: dict[str, int] = {}
    for code in folders.till_codes():
        try:
            entries = list(folders.from_pos(code).iterdir())
        except OSError:
            continue
        counts[code] = sum(1 for p in entries if p.is_file() and not p.name.startswith("."))
    return counts


#: The tills table's columns: key, heading (translated when the table is built), width.
_TILL_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("till", "Till", 4),
    ("store", "Store", 5),
    ("contact", "Contact", 8),
    ("ago", "Ago", 6),
    ("version", "Version", 9),
    ("shift", "Shift", 6),
    ("in", "In", 3),
    ("out", "Out", 3),
    ("held", "Quar.", 5),
    ("error", "Last error", None),
)


def _till_headings() -> dict[str, str]:
    return {
        "till": _("Till"),
        "store": _("Store"),
        "contact": _("Contact"),
        "ago": _("Ago"),
        "version": _("Version"),
        "shift": _("Shift"),
        "in": _("In"),
        "out": _("Out"),
        "held": _("Quar."),
        "error": _("Last error"),
    }


class ExchangeScreen(LiveScreen):
    """Tills, their queues and the live exchange log, filterable by till and event."""

    TITLE = _("Exchange")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "filter_till",
            _("Till"),
            tooltip=_("Show the log of one till (or all)"),
        ),
        Binding(
            "e",
            "filter_event",
            _("Event"),
            tooltip=_("Show one kind of event in the log (or all)"),
        ),
        Binding(
            "c",
            "clear_filters",
            _("All"),
            tooltip=_("Clear the log's filters"),
        ),
        Binding(
            "x",
            "quarantine",
            _("Quarantine"),
            tooltip=_("List the files held in quarantine, and retry them"),
        ),
        Binding(
            "l",
            "focus_log",
            _("Log"),
            show=False,
            tooltip=_("Move to the exchange log"),
        ),
        Binding(
            "s",
            "focus_tills",
            _("Tills"),
            show=False,
            tooltip=_("Move to the tills table"),
        ),
    ]

    #: Seconds between updates of the "how long ago" column (no query, just arithmetic).
    TICK: ClassVar[float] = 2.0

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._tills: dict[str, dict[str, Any]] = {}
        self._till_filter: str | None = None
        self._event_filter: str | None = None
        self._till_codes: list[str] = []

    @property
    def iis(self) -> IISApp:
        return cast("IISApp", self.app)

    def _now(self) -> dt.datetime:
        clock = getattr(self.app, "clock", None)
        return _aware(clock() if clock is not None else dt.datetime.now(dt.UTC))

    def _fixed_now(self) -> dt.datetime | None:
        """The clock the app was given for tests, else None (sources use the real time)."""
        return getattr(self.app, "fixed_now", None)

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="exchange"):
            table: DataTable[Text] = DataTable(
                id="tills", cursor_type="row", zebra_stripes=False, show_cursor=True
            )
            table.border_title = _("Tills")
            yield table
            with Horizontal(id="log-filters"):
                yield Label(_("Log"), classes="filters--title")
                yield Label(_("Till:"), classes="filters--label")
                yield Select[str](
                    [],
                    prompt=_("all"),
                    compact=True,
                    id="till-filter",
                )
                yield Label(_("Event:"), classes="filters--label")
                yield Select[str](
                    [(event_label(e), e) for e in EXCHANGE_EVENTS],
                    prompt=_("all"),
                    compact=True,
                    id="event-filter",
                )
                yield Label("", id="log-count")
            yield LazyTable(
                log_columns(),
                LogSource(now=self._fixed_now()),
                id="log",
                empty_text=_("No exchange events yet"),
            )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#tills", DataTable)
        headings = _till_headings()
        for key, _heading, width in _TILL_COLUMNS:
            table.add_column(headings[key], key=key, width=width)
        self.query_one("#log", LazyTable).focus()
        self._load_tills()
        self.set_interval(self.TICK, self._tick)

    def reload_books(self) -> None:
        self._load_tills()
        log = self.query_one("#log", LazyTable)
        # On the newest event the log follows new ones, as a tail does; elsewhere the
        # cursor stays on its event while new ones arrive above it.
        log.reload(keep_cursor=log.cursor_index > 0)

    # ---------------------------------------------------------------- the tills

    @work(thread=True, exclusive=True, group="exchange-tills", exit_on_error=False)
    def _load_tills(self) -> None:
        data_dir = Path(self.iis.data_dir)
        waiting = count_waiting(data_dir)
        with thread_connection():
            rows = status_rows(waiting_in=waiting)
        self.app.call_from_thread(self._show_tills, rows)

    def _show_tills(self, rows: list[dict[str, Any]]) -> None:
        """Put fresh till rows into the table in place, so nothing blinks and the cursor stays."""
        table = self.query_one("#tills", DataTable)
        fresh = {row["till"]: row for row in rows}
        for code in list(self._tills):
            if code not in fresh:
                table.remove_row(code)
                del self._tills[code]
        now = self._now()
        for code, row in fresh.items():
            cells = self._till_cells(row, now)
            if code in self._tills:
                old = self._till_cells(self._tills[code], now)
                for (key, _heading, _width), new, before in zip(
                    _TILL_COLUMNS, cells, old, strict=True
                ):
                    if new != before or key == "ago":
                        table.update_cell(code, key, new)
            else:
                table.add_row(*cells, key=code)
            self._tills[code] = row
        self._update_till_options(sorted(fresh))

    def _till_cells(self, row: dict[str, Any], now: dt.datetime) -> list[Text]:
        held = int(row["quarantined"] or 0)
        error = " ".join(str(row["last_error"] or "").split())[:_ERROR_CELL]
        return [
            Text(row["till"], style="bold"),
            Text(row["store"] or ""),
            Text(fmt_clock(row["last_contact"], now)),
            Text(fmt_ago(row["last_contact"], now)),
            Text(row["version"] or "", overflow="ellipsis", no_wrap=True),
            Text(_("open") if row["shift_open"] else _("closed")),
            Text(str(row["waiting_in"] or 0), justify="right"),
            Text(str(row["waiting_out"] or 0), justify="right"),
            Text(str(held), justify="right", style="bold red" if held else ""),
            Text(error, style="red" if error else "", overflow="ellipsis", no_wrap=True),
        ]

    def _tick(self) -> None:
        """Advance the "how long ago" column and the upload-folder counts between changes."""
        if not self.is_current or not self._tills:
            return
        table = self.query_one("#tills", DataTable)
        now = self._now()
        for code, row in self._tills.items():
            table.update_cell(code, "ago", Text(fmt_ago(row["last_contact"], now)))
        self._count_uploads()

    @work(thread=True, exclusive=True, group="exchange-uploads", exit_on_error=False)
    def _count_uploads(self) -> None:
        waiting = count_waiting(Path(self.iis.data_dir))
        self.app.call_from_thread(self._show_uploads, waiting)

    def _show_uploads(self, waiting: dict[str, int]) -> None:
        table = self.query_one("#tills", DataTable)
        for code, row in self._tills.items():
            count = waiting.get(code, 0)
            if count != row["waiting_in"]:
                row["waiting_in"] = count
                table.update_cell(code, "in", Text(str(count), justify="right"))

    def _update_till_options(self, codes: list[str]) -> None:
        if codes == self._till_codes:
            return
        self._till_codes = codes
        select = self.query_one("#till-filter", Select)
        value = select.value
        select.set_options([(code, code) for code in codes])
        if isinstance(value, str) and value in codes:
            select.value = value

    def _cursor_till(self) -> str | None:
        table = self.query_one("#tills", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    # ---------------------------------------------------------------- the log

    def _apply_filters(self) -> None:
        log = self.query_one("#log", LazyTable)
        log.set_source(LogSource(self._till_filter, self._event_filter, now=self._fixed_now()))

    @on(Select.Changed, "#till-filter")
    def _till_chosen(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else None
        if value != self._till_filter:
            self._till_filter = value
            self._apply_filters()

    @on(Select.Changed, "#event-filter")
    def _event_chosen(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else None
        if value != self._event_filter:
            self._event_filter = value
            self._apply_filters()

    @on(LazyTable.Counted, "#log")
    def _counted(self, event: LazyTable.Counted) -> None:
        self.query_one("#log-count", Label).update(_("{count} events").format(count=event.count))

    @on(LazyTable.LoadFailed, "#log")
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("The log could not be read"), severity="error")

    @on(DataTable.RowSelected, "#tills")
    def _till_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a till shows its log (its quarantine, when it has files held)."""
        code = str(event.row_key.value)
        self.query_one("#till-filter", Select).value = code
        self.query_one("#log", LazyTable).focus()

    @on(LazyTable.RowSelected, "#log")
    def _event_selected(self, event: LazyTable.RowSelected) -> None:
        self._open_event(int(cast(int, event.key)))

    @work(thread=True, exclusive=True, group="exchange-open", exit_on_error=False)
    def _open_event(self, event_id: int) -> None:
        with thread_connection():
            row = ExchangeEvent.get_or_none(ExchangeEvent.id == event_id)
            if row is None:
                return
            held = (
                ExchangeFile.select(ExchangeFile.id, ExchangeFile.state)
                .where(
                    (ExchangeFile.till == row.till)
                    & (ExchangeFile.name == row.file)
                    & (ExchangeFile.direction == "in")
                )
                .order_by(ExchangeFile.id.desc())
                .first()
            )
        if held is not None and held.state in HELD_STATES:
            self.app.call_from_thread(self._show_quarantined, held.id)
            return
        text = " ".join(str(row.detail or "").split()) or row.file or event_label(row.event)
        if held is not None and row.event in _TROUBLE:
            text = _("{file} is no longer held: it is {state} now.").format(
                file=row.file, state=event_label(held.state)
            )
        self.app.call_from_thread(
            self.notify, text, title=f"{row.till} · {event_label(row.event)}", timeout=8
        )

    def _show_quarantined(self, file_id: int) -> None:
        self.app.push_screen(QuarantineModal(file_id, Path(self.iis.data_dir)), self._after_retry)

    def _after_retry(self, retried: bool | None) -> None:
        if retried:
            self.reload_books()

    # ---------------------------------------------------------------- actions

    def action_filter_till(self) -> None:
        select = self.query_one("#till-filter", Select)
        select.focus()
        select.action_show_overlay()

    def action_filter_event(self) -> None:
        select = self.query_one("#event-filter", Select)
        select.focus()
        select.action_show_overlay()

    def action_clear_filters(self) -> None:
        self.query_one("#till-filter", Select).clear()
        self.query_one("#event-filter", Select).clear()
        self.query_one("#log", LazyTable).focus()

    def action_focus_log(self) -> None:
        self.query_one("#log", LazyTable).focus()

    def action_focus_tills(self) -> None:
        self.query_one("#tills", DataTable).focus()

    def action_quarantine(self) -> None:
        till = self._till_filter
        if till is None and self.focused is self.query_one("#tills", DataTable):
            till = self._cursor_till()
        self.app.push_screen(QuarantineListModal(Path(self.iis.data_dir), till), self._after_retry)


# -------------------------------------------------------------------- quarantine


@dataclass(frozen=True)
class QuarantinedFile:
    """What the operator needs to judge a held file: what, why, and the line at fault."""

    id: int
    till: str
    kind: str
    seq: int
    name: str
    state: str
    received_at: dt.datetime | None
    path: Path
    reason: str
    line: int | None
    context: tuple[tuple[int, str], ...]
    missing: bool


def read_quarantined(data_dir: Path, file_id: int) -> QuarantinedFile:
    """Read a held file's record and, from the disk, its reason and the offending line."""
    with thread_connection():
        row = ExchangeFile.get_or_none(ExchangeFile.id == file_id)
    if row is None:
        raise BooksError(_("no exchange file {id}").format(id=file_id))
    folders = ExchangeFolders(data_dir)
    path = folders.absolute(row.path) if row.path else folders.quarantine(row.till) / row.name
    reason = (row.reason or "").strip()
    note = reason_file(path)
    if not reason and note.is_file():
        reason = note.read_text(encoding="utf-8", errors="replace").strip()
    context: list[tuple[int, str]] = []
    missing = not path.is_file()
    if not missing and row.line:
        first = max(1, row.line - _CONTEXT_LINES)
        last = row.line + _CONTEXT_LINES
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(itertools.islice(handle, first - 1, last), start=first):
                context.append((number, text.rstrip("\r\n")[:_LINE_LIMIT]))
    return QuarantinedFile(
        id=row.id,
        till=row.till,
        kind=row.kind,
        seq=row.seq,
        name=row.name,
        state=row.state,
        received_at=row.received_at,
        path=path,
        reason=reason,
        line=row.line,
        context=tuple(context),
        missing=missing,
    )


def retry_quarantined(data_dir: Path, file_id: int, by: str = "") -> str:
    """Hand a held file back to the inbox; return what became of it ("imported", ...).

    The inbox locks the file, so a daemon running beside the console never takes
    it twice.
    """
    from exchange.inbox import Inbox

    with thread_connection():
        return Inbox(ExchangeFolders(data_dir)).retry(file_id, by=by).event


def discard_quarantined(data_dir: Path, file_id: int, reason: str, by: str = "") -> str:
    """Set a held file aside for good (archived with the reason, never deleted)."""
    from exchange.inbox import Inbox

    with thread_connection():
        return Inbox(ExchangeFolders(data_dir)).discard(file_id, reason, by=by).event


class QuarantineModal(ModalScreen[bool]):
    """One held file: why it was refused, the offending line, and a retry.

    Answers True when the file was retried, so the screen below reloads.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", _("Close"), tooltip=_("Back to the exchange")),
        Binding("r", "retry", _("Retry"), tooltip=_("Take the file into the inbox again")),
        Binding(
            "d",
            "discard",
            _("Discard"),
            tooltip=_("Set the file aside for good, with a reason (manager or admin)"),
        ),
    ]

    def __init__(self, file_id: int, data_dir: Path) -> None:
        super().__init__()
        self.file_id = file_id
        self.data_dir = data_dir
        self._retrying = False
        #: The file as last read and shown (None until the first read is back).
        self.shown: QuarantinedFile | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="quarantine-box") as box:
            box.border_title = _("Quarantined file")
            box.border_subtitle = _("r retry · d discard · esc close")
            with VerticalScroll(id="quarantine-body"):
                yield Static(_("Reading the file…"), id="quarantine-head", markup=False)
                yield Static("", id="quarantine-reason", markup=False)
                yield Static("", id="quarantine-line", markup=False)

    def on_mount(self) -> None:
        self.query_one("#quarantine-body").focus()
        self._load()

    @work(thread=True, exclusive=True, group="quarantine-read", exit_on_error=False)
    def _load(self) -> None:
        try:
            held = read_quarantined(self.data_dir, self.file_id)
        except (BooksError, OSError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._show, held)

    def _failed(self, message: str) -> None:
        self.query_one("#quarantine-head", Static).update(message)

    def _show(self, held: QuarantinedFile) -> None:
        self.shown = held
        received = fmt_stamp(held.received_at) if held.received_at else ""
        head = Text()
        head.append(held.name, style="bold")
        head.append(
            "\n"
            + _("till {till} · {kind} no. {seq} · received {time} · {state}").format(
                till=held.till,
                kind=held.kind,
                seq=held.seq,
                time=received,
                state=event_label(held.state),
            ),
            style="dim",
        )
        self.query_one("#quarantine-head", Static).update(head)
        reason = Text(_("Reason") + "\n", style="bold")
        reason.append(held.reason or _("(no reason recorded)"), style="red")
        self.query_one("#quarantine-reason", Static).update(reason)
        line: Text | Table
        if held.missing:
            line = Text(_("The file is not on disk at {path}.").format(path=held.path), "red")
        elif held.line is None:
            line = Text(_("The reason names no line of the file."), style="dim")
        else:
            line = Table.grid(padding=(0, 1))
            line.add_column(justify="right", no_wrap=True)
            line.add_column(overflow="fold", ratio=1)
            line.add_row("", Text(_("Line {n}").format(n=held.line), style="bold"))
            for number, text in held.context:
                at_fault = number == held.line
                line.add_row(
                    Text(str(number), style="bold" if at_fault else "dim"),
                    Text(text, style="reverse" if at_fault else "dim"),
                )
        self.query_one("#quarantine-line", Static).update(line)

    def action_close(self) -> None:
        self.dismiss(False)

    def _operator_code(self) -> str:
        operator = getattr(self.app, "operator", None)
        return operator.code if operator is not None else ""

    def action_retry(self) -> None:
        if self._retrying:
            return
        self._retrying = True
        self.notify(_("Retrying…"), timeout=2)
        self._retry()

    @work(thread=True, exclusive=True, group="quarantine-retry", exit_on_error=False)
    def _retry(self) -> None:
        try:
            state = retry_quarantined(self.data_dir, self.file_id, by=self._operator_code())
        except Exception as error:
            self.app.call_from_thread(self._retry_failed, error)
            return
        self.app.call_from_thread(self._retried, state)

    def action_discard(self) -> None:
        if self._retrying:
            return
        operator = getattr(self.app, "operator", None)
        try:
            if operator is None:
                raise BooksError(_("No operator is signed in."))
            require_approver(operator, _("discard files"))
        except BooksError as error:
            self.notify(str(error), title=_("Not allowed"), severity="error", timeout=8)
            return

        def given(reason: str | None) -> None:
            if reason:
                self._retrying = True
                self._discard(reason)

        self.app.push_screen(
            ReasonModal(
                _("Discard this file? It is archived with your reason and never imported."),
                title=_("Discard file"),
                confirm_label=_("Discard"),
            ),
            given,
        )

    @work(thread=True, exclusive=True, group="quarantine-retry", exit_on_error=False)
    def _discard(self, reason: str) -> None:
        try:
            state = discard_quarantined(
                self.data_dir, self.file_id, reason, by=self._operator_code()
            )
        except Exception as error:
            self.app.call_from_thread(self._retry_failed, error)
            return
        self.app.call_from_thread(self._retried, state)

    def _retry_failed(self, error: Exception) -> None:
        self._retrying = False
        self.notify(str(error), title=_("Retry failed"), severity="error", timeout=10)

    def _retried(self, state: str) -> None:
        self._retrying = False
        if state in HELD_STATES:
            self.notify(
                _("The file was refused again; see the reason."), severity="warning", timeout=8
            )
            self._load()
            return
        self.notify(_("The file is {state} now.").format(state=event_label(state)))
        self.dismiss(True)


class QuarantineListModal(ModalScreen[bool]):
    """The files held in quarantine (of one till, or all); enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", _("Close"), tooltip=_("Back to the exchange")),
    ]

    def __init__(self, data_dir: Path, till: str | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.till = till
        self._retried = False

    def compose(self) -> ComposeResult:
        with Vertical(id="quarantine-list-box") as box:
            box.border_title = (
                _("Quarantine of till {till}").format(till=self.till)
                if self.till
                else _("Quarantine")
            )
            box.border_subtitle = _("enter open · esc close")
            table: DataTable[str] = DataTable(id="held", cursor_type="row")
            yield table

    def on_mount(self) -> None:
        table = self.query_one("#held", DataTable)
        table.add_column(_("Till"), key="till", width=4)
        table.add_column(_("File"), key="file", width=26)
        table.add_column(_("State"), key="state", width=11)
        table.add_column(_("Reason"), key="reason")
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="quarantine-list", exit_on_error=False)
    def _load(self) -> None:
        with thread_connection():
            rows = [
                (f.id, f.till, f.name, f.state, " ".join(f.reason.split()))
                for f in held_files(self.till)
            ]
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[tuple[int, str, str, str, str]]) -> None:
        table = self.query_one("#held", DataTable)
        table.clear()
        for file_id, till, name, state, reason in rows:
            table.add_row(till, name, event_label(state), reason, key=str(file_id))
        if not rows:
            self.query_one("#quarantine-list-box").border_subtitle = _("nothing is held")

    @on(DataTable.RowSelected, "#held")
    def _open(self, event: DataTable.RowSelected) -> None:
        file_id = int(str(event.row_key.value))
        self.app.push_screen(QuarantineModal(file_id, self.data_dir), self._after)

    def _after(self, retried: bool | None) -> None:
        if retried:
            self._retried = True
            self._load()

    def action_close(self) -> None:
        self.dismiss(self._retried)
