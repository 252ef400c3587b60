"""A table that shows any number of rows by paging them in from a data source.

Textual's `DataTable` measures every cell of every row it is given, so a stock
list of 100,000 goods would take seconds before its first paint. `LazyTable`
knows only how many rows there are: it draws the lines on screen with the
Line API and asks its `RowSource` for pages of rows as they scroll into view,
keeping a bounded number of pages in memory.

The source is usually SQL and may be slow, so it is called from a worker
thread and never from the UI thread; rows not loaded yet are drawn as a
placeholder until their page arrives. Calls to one table's source are made one
at a time (never concurrently), though not always from the same thread, so a
source may share one connection opened with `check_same_thread=False` or rely
on per-thread connections as peewee does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Literal, NamedTuple, Protocol

from rich.cells import cell_len, set_cell_size
from rich.errors import StyleSyntaxError
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, clamp
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.worker import get_current_worker

from models.i18n import _

__all__ = ["Column", "LazyTable", "Row", "RowSource"]

#: Control characters would break a terminal line; they are shown as spaces.
_CONTROL = {code: " " for code in (*range(32), 127)}
_ELLIPSIS = "…"
_WORKER_GROUP = "lazy-table"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its heading, how wide it is, and how its text lines up.

    `width` is in terminal cells. The flexible column (the first with `flex`
    set, else the last) takes whatever width is left, or gives some up, so the
    table fills an 80-column SSH terminal and a wide one alike. `style` is a
    Rich style string for the column's cells (e.g. "dim" for a code column).
    """

    key: str
    label: str
    width: int = 10
    align: Literal["left", "right"] = "left"
    style: str = ""
    flex: bool = False


class Row(NamedTuple):
    """One row as the source delivers it, its cells already formatted for display.

    `key` identifies the row across queries (the cursor follows it on
    `reload`, and messages carry it); `style` is a Rich style string for the
    whole row, such as "red" for expired stock.
    """

    key: Hashable
    cells: tuple[str, ...]
    style: str = ""


class RowSource(Protocol):
    """Where a `LazyTable` gets its rows: a count, and pages by position.

    Both methods may be slow and are called off the UI thread. `fetch` returns
    the rows at positions `offset` to `offset + limit - 1` of a stable order
    (fewer at the end); positions must agree with `count()`.
    """

    def count(self) -> int: ...

    def fetch(self, offset: int, limit: int) -> Sequence[Row]: ...


@dataclass(frozen=True, slots=True)
class _Job:
    """One trip to the source: optionally a count, then some pages."""

    generation: int
    source: RowSource
    page_size: int
    pages: tuple[int, ...]
    count: bool
    keep_cursor: bool


class _Loaded(Message, bubble=False):
    """A job's results, posted by the worker thread to the table itself."""

    def __init__(
        self,
        job: _Job,
        count: int | None,
        pages: dict[int, list[Row]],
        error: Exception | None,
    ) -> None:
        super().__init__()
        self.job = job
        self.count = count
        self.pages = pages
        self.error = error


class _TableMessage(Message):
    """A message from `table`, which `@on` selectors match as its control."""

    def __init__(self, table: LazyTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> LazyTable:
        return self.table


class _RowMessage(_TableMessage):
    """A message about row `index` of `table`, whose key is `key`."""

    def __init__(self, table: LazyTable, index: int, key: Hashable) -> None:
        super().__init__(table)
        self.index = index
        self.key = key


@lru_cache(maxsize=256)
def _parse_style(text: str) -> Style:
    """A row's or column's style string; a bad one shows plain rather than crashing a paint."""
    if not text:
        return Style()
    try:
        return Style.parse(text)
    except StyleSyntaxError:
        return Style()


def _fit(text: str, width: int, align: str) -> str:
    """`text` made exactly `width` cells wide: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if not text.isprintable():
        text = text.translate(_CONTROL)
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + _ELLIPSIS
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding


@dataclass(frozen=True, slots=True)
class _Paint:
    """Styles and widths shared by every line of one render pass."""

    width: int
    widths: tuple[int, ...]
    base: Style
    header: Style
    cursor: Style
    placeholder: Style


class LazyTable(ScrollView, can_focus=True):
    """A read-only table of any length whose rows are paged in from a `RowSource`.

    The first line is a fixed header; below it one line per row. The virtual
    height is the source's count, so the scrollbar is true to the whole list,
    while only the lines on screen are ever drawn. A row cursor moves with the
    keyboard (the view follows it) or a click; it reports what it rests on
    with `RowHighlighted` and, on enter, `RowSelected`, both carrying the
    row's key.
    """

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", _("Cursor up"), show=False),
        Binding("down", "cursor_down", _("Cursor down"), show=False),
        Binding("pageup", "page_up", _("Page up"), show=False),
        Binding("pagedown", "page_down", _("Page down"), show=False),
        Binding("home,ctrl+home", "cursor_first", _("First row"), show=False),
        Binding("end,ctrl+end", "cursor_last", _("Last row"), show=False),
        Binding("enter", "select_cursor", _("Select"), show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lazy-table--header",
        "lazy-table--cursor",
        "lazy-table--placeholder",
    }
    """
    | Class | Description |
    | :- | :- |
    | `lazy-table--header` | The fixed header line. |
    | `lazy-table--cursor` | The cursor row (styled differently while focused). |
    | `lazy-table--placeholder` | Rows still loading, and the text shown when there are none. |
    """

    DEFAULT_CSS = """
    LazyTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;

        & > .lazy-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .lazy-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .lazy-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .lazy-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .lazy-table--placeholder {
            color: $text-muted;
        }
    }
    """

    #: Seconds a new query may take to count before the table shows it is busy;
    #: a quick count should not flash a loading indicator.
    BUSY_DELAY: ClassVar[float] = 0.3

    class RowHighlighted(_RowMessage):
        """The cursor rests on row `index`, whose key is `key`.

        Posted once the row is loaded, so a cursor that lands on a row still
        being fetched reports when its page arrives.
        """

    class RowSelected(_RowMessage):
        """Enter (or a click on the cursor row) chose row `index`, whose key is `key`."""

    class Counted(_TableMessage):
        """The source was counted (after mounting, `set_source` or `reload`).

        Lets a screen show "N goods" or an empty search without its own query.
        """

        def __init__(self, table: LazyTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    class LoadFailed(_TableMessage):
        """The source raised; the table keeps what it shows and retries only on reload.

        The screen decides how to tell the operator (a notification, a log line).
        """

        def __init__(self, table: LazyTable, error: Exception) -> None:
            super().__init__(table)
            self.error = error

    def __init__(
        self,
        columns: Sequence[Column],
        source: RowSource | None = None,
        *,
        page_size: int = 200,
        cache_pages: int = 50,
        empty_text: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Make a table of `columns` over `source` (which may also be set later).

        Args:
            columns: The columns, left to right.
            source: Where rows come from; `None` shows an empty table until `set_source`.
            page_size: Rows per fetch. Large enough that scrolling a screen rarely
                needs a trip, small enough that one trip is quick.
            cache_pages: Pages kept in memory; the least recently drawn go first.
            empty_text: Shown when the source has no rows (default "No rows").
            name: The widget's name.
            id: The widget's id in the DOM.
            classes: The widget's CSS classes.
            disabled: Whether the widget starts disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if not columns:
            raise ValueError("a LazyTable needs at least one column")
        self._columns = tuple(columns)
        self._source = source
        self._page_size = max(1, page_size)
        self._cache_pages = max(4, cache_pages)
        self._empty_text = empty_text
        self._generation = 0
        self._count = 0
        self._counted = False
        self._pending_open: bool | None = None
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._stale: dict[int, list[Row]] = {}
        self._failed: set[int] = set()
        self._busy = False
        self._cursor = 0
        self._announced: tuple[int, Hashable] | None = None
        self._select_pending: int | None = None
        self._widths: tuple[int, tuple[int, ...]] | None = None
        self._busy_timer: Timer | None = None
        self._paint: _Paint | None = None
        if source is not None:
            self._begin(keep_cursor=False)

    # Public interface

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def source(self) -> RowSource | None:
        return self._source

    @property
    def row_count(self) -> int:
        """Rows in the table as last counted (the previous query's until a new count arrives)."""
        return self._count

    @property
    def cursor_index(self) -> int:
        """Position of the cursor row (0 when the table is empty)."""
        return self._cursor

    @cursor_index.setter
    def cursor_index(self, index: int) -> None:
        self.move_cursor(index)

    @property
    def cursor_key(self) -> Hashable | None:
        """Key of the cursor row, or `None` while it is loading or the table is empty."""
        row = self.get_row(self._cursor)
        return None if row is None else row.key

    def get_row(self, index: int) -> Row | None:
        """The row at `index` if it is loaded (as shown on screen), else `None`."""
        if not 0 <= index < self._count:
            return None
        loaded, row = self._lookup(index)
        return row if loaded else None

    def set_source(self, source: RowSource) -> None:
        """Show a new query (a search, another filter): count it and put the cursor on top.

        The rows shown stay until the new count and first page arrive, so typing
        a search does not blink the table empty on each key.
        """
        self._source = source
        self._begin(keep_cursor=False)

    def reload(self, keep_cursor: bool = True) -> None:
        """Re-read the same query after its data changed.

        With `keep_cursor`, the cursor stays on the same row (found by key near
        where it was) and on the same screen line; if the row is gone, it stays
        at the same position. Without it, the cursor goes back to the top. The
        old rows stay on screen until the new ones arrive.
        """
        if self._source is not None:
            self._begin(keep_cursor=keep_cursor)

    def move_cursor(self, index: int, *, scroll: bool = True) -> None:
        """Put the cursor on row `index` (clamped); with `scroll`, bring it into view."""
        if self._count <= 0:
            return
        index = clamp(index, 0, self._count - 1)
        if index != self._cursor:
            previous = self._cursor
            self._cursor = index
            self._select_pending = None
            self.refresh_line(previous + 1)
            self.refresh_line(index + 1)
        if scroll:
            self._scroll_to_cursor()
        self._announce()
        self._pump()

    # Actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """Move a screenful up, the view with it, so the cursor keeps its line."""
        rows = max(1, self._visible_rows)
        self.scroll_to(y=self.scroll_offset.y - rows, animate=False, force=True)
        self.move_cursor(self._cursor - rows)

    def action_page_down(self) -> None:
        """Move a screenful down, the view with it, so the cursor keeps its line."""
        rows = max(1, self._visible_rows)
        self.scroll_to(y=self.scroll_offset.y + rows, animate=False, force=True)
        self.move_cursor(self._cursor + rows)

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(self._count - 1)

    def action_select_cursor(self) -> None:
        """Post `RowSelected`, or once the cursor row's page arrives if it is still loading."""
        if self._count <= 0:
            return
        row = self.get_row(self._cursor)
        if row is None:
            self._select_pending = self._cursor
        else:
            self._select_pending = None
            self.post_message(self.RowSelected(self, self._cursor, row.key))

    # Events

    def on_mount(self) -> None:
        self._pump()

    def on_resize(self) -> None:
        self._scroll_to_cursor()
        self._pump()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """Click puts the cursor on a row; a click on the cursor row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index >= self._count:
            return
        event.stop()
        if index == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(index)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._pump()

    # Rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint = self._make_paint()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._make_paint()
        if y == 0:
            labels = [column.label for column in self._columns]
            return self._strip(labels, paint, paint.header, [paint.header] * len(labels))
        index = self.scroll_offset.y + y - 1
        if index >= self._count:
            if index == 0 and self._counted:
                text = self._empty_text if self._empty_text is not None else _("No rows")
                return self._blank(paint, paint.placeholder, text)
            return Strip.blank(paint.width, paint.base)
        loaded, row = self._lookup(index)
        on_cursor = index == self._cursor
        if not loaded:
            style = paint.placeholder + paint.cursor if on_cursor else paint.placeholder
            return self._strip([_("…")], paint, style, [style])
        if row is None:
            return self._blank(paint, paint.base + paint.cursor if on_cursor else paint.base)
        row_style = paint.base + _parse_style(row.style)
        line_style = row_style + paint.cursor if on_cursor else row_style
        cell_styles = []
        for column in self._columns:
            style = paint.base + _parse_style(column.style) + _parse_style(row.style)
            cell_styles.append(style + paint.cursor if on_cursor else style)
        return self._strip(row.cells, paint, line_style, cell_styles)

    def _make_paint(self) -> _Paint:
        base = self.rich_style
        return _Paint(
            width=self.size.width,
            widths=self._column_widths(self.scrollable_content_region.width),
            base=base,
            header=base + self.get_component_rich_style("lazy-table--header"),
            cursor=self.get_component_rich_style("lazy-table--cursor"),
            placeholder=base + self.get_component_rich_style("lazy-table--placeholder"),
        )

    def _column_widths(self, available: int) -> tuple[int, ...]:
        """Cells per column at this width: one cell of margin each side, one between columns."""
        if self._widths is not None and self._widths[0] == available:
            return self._widths[1]
        widths = [max(0, column.width) for column in self._columns]
        flex = next((i for i, column in enumerate(self._columns) if column.flex), len(widths) - 1)
        used = sum(widths) + len(widths) + 1
        widths[flex] = max(1, widths[flex] + available - used)
        result = tuple(widths)
        self._widths = (available, result)
        return result

    def _strip(
        self,
        texts: Sequence[str],
        paint: _Paint,
        line_style: Style,
        cell_styles: Sequence[Style],
    ) -> Strip:
        gap = Segment(" ", line_style)
        segments = [gap]
        for i, (column, width) in enumerate(zip(self._columns, paint.widths, strict=True)):
            if i:
                segments.append(gap)
            text = texts[i] if i < len(texts) else ""
            style = cell_styles[i] if i < len(cell_styles) else line_style
            segments.append(Segment(_fit(text, width, column.align), style))
        return Strip(segments).adjust_cell_length(paint.width, line_style)

    def _blank(self, paint: _Paint, style: Style, text: str = "") -> Strip:
        content = _fit(text, max(0, paint.width - 1), "left")
        return Strip([Segment(" " + content, style)]).adjust_cell_length(paint.width, style)

    # Paging

    @property
    def _visible_rows(self) -> int:
        """Row lines in view (the header takes one line of the viewport)."""
        return max(0, self.scrollable_content_region.height - 1)

    def _lookup(self, index: int) -> tuple[bool, Row | None]:
        """Whether the page holding `index` is at hand, and the row if that page has it.

        A page may come back shorter than the count promised (rows deleted in
        between); such positions are loaded but empty, and drawn blank rather
        than as a placeholder that would never fill.
        """
        page, offset = divmod(index, self._page_size)
        rows = self._pages.get(page)
        if rows is not None:
            self._pages.move_to_end(page)
        else:
            rows = self._stale.get(page)
            if rows is None:
                return False, None
        return True, rows[offset] if offset < len(rows) else None

    def _begin(self, keep_cursor: bool) -> None:
        """Start a new generation: a count and the pages around the cursor come first."""
        self._generation += 1
        if self._pages:
            self._stale = dict(self._pages)
        self._pages = OrderedDict()
        self._failed.clear()
        self._counted = False
        self._pending_open = keep_cursor
        self._select_pending = None
        if self.is_mounted:
            self.workers.cancel_group(self, _WORKER_GROUP)
        self._pump()

    def _pump(self) -> None:
        """Send the next trip to the source, unless one is under way.

        One trip at a time keeps calls to the source serial, and lets a fast
        scroll skip the pages it passed: what is fetched next is decided when
        the previous trip returns, from where the view is then.
        """
        if self._busy or self._source is None or not self.is_mounted:
            return
        job = self._next_job(self._source)
        if job is None:
            return
        if job.count and not job.keep_cursor:
            self._start_busy_timer()
        self._busy = True
        self._fetch(job)

    def _next_job(self, source: RowSource) -> _Job | None:
        size = self._page_size
        if self._pending_open is not None:
            keep_cursor = self._pending_open
            self._pending_open = None
            if keep_cursor:
                page = self._cursor // size
                pages = {page, page + 1, *self._visible_pages()}
                if page:
                    pages.add(page - 1)
            else:
                pages = {0}
            return _Job(
                self._generation,
                source,
                size,
                tuple(sorted(pages)),
                count=True,
                keep_cursor=keep_cursor,
            )
        if not self._counted:
            return None
        wanted = [page for page in self._visible_pages() if page not in self._pages]
        if not wanted:
            rows = max(1, self._visible_rows)
            top = self.scroll_offset.y
            for index in (top + 2 * rows, top - rows):
                if 0 <= index < self._count and index // size not in self._pages:
                    wanted.append(index // size)
        wanted = [page for page in wanted if page not in self._failed]
        if not wanted:
            return None
        return _Job(self._generation, source, size, tuple(wanted), count=False, keep_cursor=True)

    def _visible_pages(self) -> list[int]:
        top = self.scroll_offset.y
        last = min(self._count, top + max(1, self._visible_rows)) - 1
        if last < top:
            return []
        return list(range(top // self._page_size, last // self._page_size + 1))

    @work(thread=True, group=_WORKER_GROUP, exit_on_error=False)
    def _fetch(self, job: _Job) -> None:
        """Run one trip to the source on a worker thread and post the results back."""
        worker = get_current_worker()
        count: int | None = None
        pages: dict[int, list[Row]] = {}
        error: Exception | None = None
        try:
            if job.count:
                count = max(0, int(job.source.count()))
            for page in job.pages:
                if worker.is_cancelled:
                    break
                offset = page * job.page_size
                if count is not None and offset >= count:
                    continue
                pages[page] = list(job.source.fetch(offset, job.page_size))
        except Exception as exc:
            error = exc
        self.post_message(_Loaded(job, count, pages, error))

    @on(_Loaded)
    def _loaded(self, message: _Loaded) -> None:
        message.stop()
        self._busy = False
        if message.job.generation == self._generation:
            self._apply(message)
        self._pump()

    def _apply(self, message: _Loaded) -> None:
        job = message.job
        cursor_key = self.cursor_key if job.count and job.keep_cursor else None
        for page, rows in message.pages.items():
            self._pages[page] = rows
            self._pages.move_to_end(page)
        while len(self._pages) > self._cache_pages:
            self._pages.popitem(last=False)
        if message.count is not None:
            self._settle(message.count, message.pages, job.keep_cursor, cursor_key)
        if message.error is not None:
            self._failed.update(page for page in job.pages if page not in message.pages)
            if job.count and message.count is None:
                self._stop_busy()
            self.post_message(self.LoadFailed(self, message.error))
        self.refresh()
        self._announce()

    def _settle(
        self,
        count: int,
        pages: dict[int, list[Row]],
        keep_cursor: bool,
        cursor_key: Hashable | None,
    ) -> None:
        """Take a new count: place the cursor, then drop the old generation's rows.

        `cursor_key` is the key the cursor showed before the fresh pages came in;
        with `keep_cursor` the cursor follows it if it is among them.
        """
        old_cursor = self._cursor
        old_top = self.scroll_offset.y
        index = 0
        if keep_cursor:
            index = old_cursor
            if cursor_key is not None:
                found = self._find(cursor_key, pages, old_cursor)
                if found is not None:
                    index = found
        self._stale = {}
        self._counted = True
        self._stop_busy()
        self._count = count
        natural_width = sum(max(0, column.width) for column in self._columns)
        self.virtual_size = Size(natural_width + len(self._columns) + 1, count + 1)
        self._cursor = clamp(index, 0, max(0, count - 1))
        top = old_top + self._cursor - old_cursor if keep_cursor else 0
        self.scroll_to(y=top, animate=False, force=True)
        self._scroll_to_cursor()
        self.post_message(self.Counted(self, count))

    def _find(self, key: Hashable, pages: dict[int, list[Row]], near: int) -> int | None:
        """Where row `key` now is among freshly fetched pages, the match nearest `near`."""
        best: int | None = None
        for page, rows in pages.items():
            for offset, row in enumerate(rows):
                if row.key == key:
                    index = page * self._page_size + offset
                    if best is None or abs(index - near) < abs(best - near):
                        best = index
        return best

    def _scroll_to_cursor(self) -> None:
        rows = self._visible_rows
        if rows <= 0 or self._count <= 0:
            return
        top = self.scroll_offset.y
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False, force=True)

    def _announce(self) -> None:
        """Post `RowHighlighted` (and a deferred `RowSelected`) once the cursor row is known."""
        if self._count <= 0:
            self._announced = None
            return
        row = self.get_row(self._cursor)
        if row is None:
            return
        current = (self._cursor, row.key)
        if current != self._announced:
            self._announced = current
            self.post_message(self.RowHighlighted(self, self._cursor, row.key))
        if self._select_pending == self._cursor:
            self._select_pending = None
            self.post_message(self.RowSelected(self, self._cursor, row.key))

    def _start_busy_timer(self) -> None:
        self._stop_busy()
        self._busy_timer = self.set_timer(self.BUSY_DELAY, self._show_busy)

    def _show_busy(self) -> None:
        self._busy_timer = None
        if not self._counted:
            self.loading = True

    def _stop_busy(self) -> None:
        if self._busy_timer is not None:
            self._busy_timer.stop()
            self._busy_timer = None
        self.loading = False
