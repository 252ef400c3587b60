"""One goods in one store: its balance, its batches by expiry, and its latest moves.

Reached from the stock list with enter. Batches that have expired show red
and those about to show yellow, so the operator sees what to write off or sell
first; enter on a move opens the document that made it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Label, Static

from console.i18n import fmt_money, fmt_qty
from console.screens import LiveScreen
from console.sources import (
    BatchesSource,
    MovesSource,
    batch_columns,
    fmt_date,
    move_columns,
    thread_connection,
)
from console.widgets.lazy_table import LazyTable
from models.catalog import Product, ProductGroup
from models.i18n import _
from models.org import Store
from models.stock import stock_rows_for

__all__ = ["GoodsScreen", "MovesTable"]


class MovesTable(LazyTable):
    """The goods' moves; enter opens the document of the move under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Open document")),
    ]


class GoodsScreen(LiveScreen):
    """Batches (with expiry) and latest moves (with documents) of one goods in a store."""

    CSS_PATH = Path(__file__).parent.parent / "stock.tcss"
    TITLE = _("Goods")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back")),
        Binding("z", "toggle_zero", _("Empty batches")),
        Binding("f5,ctrl+r", "refresh_data", _("Refresh")),
    ]

    def __init__(
        self,
        product_id: int,
        store: Store,
        *,
        today: dt.date | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.product_id = product_id
        self.store = store
        self._today = today
        self._with_zero = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("…", id="goods-header")
        yield Label(_("Batches"), classes="section")
        yield LazyTable(
            batch_columns(),
            self._batches_source(),
            id="goods-batches",
            empty_text=_("No batches in stock"),
        )
        yield Label(_("Latest moves"), classes="section")
        yield MovesTable(
            move_columns(),
            MovesSource(self.store, self.product_id),
            id="goods-moves",
            empty_text=_("No moves"),
        )
        yield Footer()

    def on_mount(self) -> None:
        self._load_header()
        self.query_one("#goods-batches", LazyTable).focus()

    def _batches_source(self) -> BatchesSource:
        return BatchesSource(
            self.store, self.product_id, with_zero=self._with_zero, today=self._today
        )

    @work(thread=True, exclusive=True, group="goods-header", exit_on_error=False)
    def _load_header(self) -> None:
        """The goods' name, group and totals in the store, read off the UI thread."""
        try:
            with thread_connection():
                product = Product.get_by_id(self.product_id)
                group = (
                    ProductGroup.get_or_none(ProductGroup.id == product.group_id)
                    if product.group_id
                    else None
                )
                group_name = group.full_name() if group is not None else ""
                (totals,) = stock_rows_for(self.store, [self.product_id])
        except Exception as error:
            self.app.call_from_thread(
                self.notify, str(error), title=_("Could not read the books"), severity="error"
            )
            return
        self.app.call_from_thread(self._show_header, product, group_name, totals)

    def _show_header(self, product: Product, group_name: str, totals: dict) -> None:
        self.sub_title = product.code
        unit = _(product.unit)
        first = f"[b]{escape(product.code)}[/b]  {escape(product.name)}"
        if group_name:
            first += f"  [dim]{escape(group_name)}[/dim]"
        second = "  ".join(
            [
                _("Store {store}").format(store=self.store.code),
                _("Qty {qty} {unit}").format(qty=fmt_qty(totals["quantity"]), unit=unit),
                _("Value {value}").format(value=fmt_money(totals["value"])),
                _("Price {price}").format(price=fmt_money(totals["price"]) or "—"),
            ]
        )
        if totals["earliest_expiry"] is not None:
            second += "  " + _("Earliest expiry {date}").format(
                date=fmt_date(totals["earliest_expiry"])
            )
        header = self.query_one("#goods-header", Static)
        header.update(f"{first}\n{second}")
        header.set_class(bool(totals["negative"]), "-negative")

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_toggle_zero(self) -> None:
        """Show emptied batches too (what was received and has gone), or hide them again."""
        self._with_zero = not self._with_zero
        self.query_one("#goods-batches", LazyTable).set_source(self._batches_source())

    def refresh_data(self) -> None:
        """The books changed: re-read the totals, batches and moves in place."""
        if not self.is_mounted:
            return
        self._load_header()
        self.query_one("#goods-batches", LazyTable).reload(keep_cursor=True)
        self.query_one("#goods-moves", LazyTable).reload(keep_cursor=True)

    def action_refresh_data(self) -> None:
        self.refresh_data()

    def reload_books(self) -> None:
        self.refresh_data()

    @on(LazyTable.RowSelected, "#goods-moves")
    def _move_selected(self, event: LazyTable.RowSelected) -> None:
        document_id = event.key[0]
        self.open_document(int(document_id))

    def open_document(self, document_id: int) -> None:
        from console.screens.document import DocumentScreen

        self.app.push_screen(DocumentScreen(document_id))

    @on(LazyTable.LoadFailed)
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("Could not read the books"), severity="error")
