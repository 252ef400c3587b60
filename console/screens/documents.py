"""The documents journal: every document of the books, newest first, filtered and searched.

The journal grows by thousands of receipts a day, so it is a `LazyTable`
over `DocumentsSource`: counted and paged in by SQL on a worker thread. Kind
and state filters are drop-downs for the mouse and keys that cycle them for
the keyboard; the search box finds a number (or a till's id, or an invoice).
Enter opens a document; `c` cancels a posted one (managers and admins only).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from babel.numbers import format_decimal
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Select, Static

from console.i18n import current_language
from console.screens.document import DocumentActions, DocumentScreen
from console.screens.stock import SearchInput, SearchScreen
from console.sources import DocumentsSource, document_columns, kind_label, state_label
from console.widgets.lazy_table import LazyTable
from models.documents import KINDS, STATES
from models.i18n import _, ngettext
from models.journal import JournalFilter
from models.org import Store

__all__ = ["DocumentsScreen", "DocumentsTable"]


class DocumentsTable(LazyTable):
    """The journal; enter opens the document under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Open")),
    ]


class DocumentsScreen(SearchScreen, DocumentActions):
    """The journal of documents with kind/state filters, a number search, open and cancel."""

    CSS_PATH = Path(__file__).parent.parent / "documents.tcss"
    TITLE = _("Documents")
    SEARCH_BOX = "#documents-search"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", _("Search")),
        Binding("k", "cycle_kind", _("Kind")),
        Binding("t", "cycle_state", _("State")),
        Binding("x", "clear_filters", _("Clear filters"), show=False),
        Binding("c", "cancel_document", _("Cancel document")),
        Binding("f5,ctrl+r", "refresh_data", _("Refresh")),
        Binding("enter", "open_document", _("Open document"), show=False),
    ]

    def __init__(self, store: Store | None = None, *, name: str | None = None) -> None:
        """`store` limits the journal to one store; by default it shows every store."""
        super().__init__(name=name)
        self._store = store
        self._kind: str | None = None
        self._state: str | None = None
        self._search = ""
        self._search_timer: Timer | None = None
        self._count: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="documents-bar"):
            yield Select(
                [(kind_label(kind), kind) for kind in KINDS],
                prompt=_("All kinds"),
                compact=True,
                id="documents-kind",
            )
            yield Select(
                [(state_label(state), state) for state in STATES],
                prompt=_("All states"),
                compact=True,
                id="documents-state",
            )
            yield SearchInput(placeholder=_("Number"), id="documents-search")
            yield Static("", id="documents-status")
        yield DocumentsTable(
            document_columns(),
            self._source(),
            id="documents-table",
            empty_text=_("No documents match"),
        )
        yield Footer()

    def on_mount(self) -> None:
        self._show_status()
        self.table.focus()

    # ------------------------------------------------------------------ the table

    @property
    def table(self) -> LazyTable:
        return self.query_one("#documents-table", LazyTable)

    def current_filter(self) -> JournalFilter:
        return JournalFilter(
            kind=self._kind, state=self._state, store=self._store, search=self._search
        )

    def _source(self) -> DocumentsSource:
        return DocumentsSource(self.current_filter())

    def _reload_source(self) -> None:
        self._count = None
        self.table.set_source(self._source())
        self._show_status()

    def _show_status(self) -> None:
        if self._count is None:
            text = "…"
        else:
            number = format_decimal(self._count, locale=current_language())
            text = ngettext("{count} document", "{count} documents", self._count).format(
                count=number
            )
        self.query_one("#documents-status", Static).update(text)

    @on(LazyTable.Counted, "#documents-table")
    def _counted(self, event: LazyTable.Counted) -> None:
        self._count = event.count
        self._show_status()

    @on(LazyTable.LoadFailed)
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("Could not read the books"), severity="error")

    @on(LazyTable.RowSelected, "#documents-table")
    def _row_selected(self, event: LazyTable.RowSelected) -> None:
        self.open_document(int(event.key))

    def action_open_document(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self.open_document(int(key))

    def open_document(self, document_id: int) -> None:
        self.app.push_screen(DocumentScreen(document_id))

    def action_cancel_document(self) -> None:
        key = self.table.cursor_key
        if key is None:
            self.notify(_("No document under the cursor."), severity="warning")
            return
        self.cancel_document(int(key))

    def refresh_data(self) -> None:
        """The books changed: re-read the journal, the cursor staying on its document."""
        if self.is_mounted:
            self.table.reload(keep_cursor=True)

    def reload_books(self) -> None:
        self.refresh_data()

    def action_refresh_data(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------------ filters

    @on(Select.Changed, "#documents-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        kind = None if event.value is Select.NULL else str(event.value)
        if kind != self._kind:
            self._kind = kind
            self._reload_source()

    @on(Select.Changed, "#documents-state")
    def _state_changed(self, event: Select.Changed) -> None:
        state = None if event.value is Select.NULL else str(event.value)
        if state != self._state:
            self._state = state
            self._reload_source()

    def action_cycle_kind(self) -> None:
        """The next kind, then all kinds again: the filter without leaving the list."""
        self._kind = _next(self._kind, KINDS)
        self._set_select("#documents-kind", self._kind)
        self._reload_source()

    def action_cycle_state(self) -> None:
        self._state = _next(self._state, STATES)
        self._set_select("#documents-state", self._state)
        self._reload_source()

    def action_clear_filters(self) -> None:
        self._kind = self._state = None
        self._search = ""
        self._set_select("#documents-kind", None)
        self._set_select("#documents-state", None)
        with self.prevent(Input.Changed):
            self.query_one("#documents-search", Input).value = ""
        self._reload_source()

    def set_filters(
        self, kind: str | None = None, state: str | None = None, search: str = ""
    ) -> None:
        """Show the journal under these filters, as choosing them on screen does."""
        self._kind, self._state, self._search = kind, state, search.strip()
        self._set_select("#documents-kind", kind)
        self._set_select("#documents-state", state)
        with self.prevent(Input.Changed):
            self.query_one("#documents-search", Input).value = search
        self._reload_source()

    def _set_select(self, selector: str, value: str | None) -> None:
        select = self.query_one(selector, Select)
        with self.prevent(Select.Changed):
            if value is None:
                select.clear()
            else:
                select.value = value

    @on(Input.Changed, "#documents-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._search_soon()

    @on(Input.Submitted, "#documents-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._search_now()


def _next(current: str | None, values: tuple[str, ...]) -> str | None:
    """The value after `current` in `values`; after the last, None (no filter)."""
    if current is None:
        return values[0]
    index = values.index(current) if current in values else -1
    return values[index + 1] if index + 1 < len(values) else None
