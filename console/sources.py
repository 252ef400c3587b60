"""Row sources over the books for the console's `LazyTable`s.

A table asks its source for a count and for pages by position, always from a
worker thread, so nothing here may touch a widget. Peewee gives each thread
its own connection; a call opens one when its thread has none and closes it
again, so the short-lived worker threads leave no connections behind. Cells
are formatted here, in the locale's style, because a page is formatted once
and drawn many times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from babel.dates import format_date

from console.i18n import current_language, fmt_datetime, fmt_money, fmt_qty
from console.widgets.lazy_table import Column, Row
from models.db import database
from models.documents import NUMBER_PREFIX, Document
from models.i18n import _
from models.journal import JournalFilter, count_documents, document_lines, document_rows
from models.org import Store
from models.stock import (
    StockFilter,
    batch_rows,
    count_stock,
    expiry_state,
    product_moves,
    stock_page,
)

__all__ = [
    "BatchesSource",
    "DocumentsSource",
    "LinesSource",
    "ListSource",
    "MovesSource",
    "StockSource",
    "batch_columns",
    "document_columns",
    "document_number",
    "expiry_style",
    "fmt_date",
    "fmt_stamp",
    "kind_label",
    "line_columns",
    "move_columns",
    "state_label",
    "stock_columns",
    "thread_connection",
]

#: Row styles: what must catch the eye, in colours that read on dark and light themes.
NEGATIVE_STYLE = "bold red"
EXPIRED_STYLE = "red"
SOON_STYLE = "yellow"
CANCELLED_STYLE = "dim"
DRAFT_STYLE = "italic"
#: Marks beside the colour, for terminals (and eyes) without it.
EXPIRED_MARK = "!"
SOON_MARK = "~"
NEGATIVE_MARK = "-"


@contextlib.contextmanager
def thread_connection() -> Iterator[None]:
    """The calling thread's connection, opened for the call if it had none, then closed."""
    db = database.obj
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield
    finally:
        if opened:
            db.close()


#: The name other screens first imported; the same helper.
_connection = thread_connection


# ------------------------------------------------------------------ formatting


def kind_label(kind: str) -> str:
    """A document kind as an operator reads it (looked up at call time, in the current language)."""
    labels = {
        "incoming": _("Incoming"),
        "supplier_return": _("Supplier return"),
        "transfer": _("Transfer"),
        "inventory": _("Inventory"),
        "writeoff": _("Write-off"),
        "sale": _("Sale"),
        "return": _("Return"),
        "order": _("Order"),
    }
    return labels.get(kind, kind)


def state_label(state: str) -> str:
    labels = {
        "draft": _("Draft"),
        "posted": _("Posted"),
        "cancelled": _("Cancelled"),
        "rejected": _("Rejected"),
    }
    return labels.get(state, state)


def document_number(doc_id: int, kind: str, number: str) -> str:
    """The number printed on a document; a draft without one shows its id-based number."""
    return number or f"{NUMBER_PREFIX.get(kind, 'D')}-{doc_id:06d}"


def fmt_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    elif not isinstance(value, dt.date):
        value = dt.date.fromisoformat(str(value)[:10])
    return format_date(value, format="short", locale=current_language())


def fmt_stamp(value: dt.datetime | str | None, fmt: str = "short") -> str:
    """A time stamp of the books (naive UTC) in the operator's local time and locale."""
    if value is None or value == "":
        return ""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return fmt_datetime(value, fmt)


def expiry_style(expiry: dt.date | None, today: dt.date | None) -> tuple[str, str]:
    """The row style and mark for an expiry date: red when expired, yellow when soon."""
    state = expiry_state(expiry, today)
    if state == "expired":
        return EXPIRED_STYLE, EXPIRED_MARK
    if state == "soon":
        return SOON_STYLE, SOON_MARK
    return "", ""


# ------------------------------------------------------------------ columns


def stock_columns() -> tuple[Column, ...]:
    """Balances: built when a screen is made, so the headings speak the current language."""
    return (
        Column("mark", "", 1, style="bold"),
        Column("code", _("Code"), 8, style="dim"),
        Column("name", _("Goods"), 20, flex=True),
        Column("quantity", _("Qty"), 8, align="right"),
        Column("unit", _("Unit"), 4),
        Column("cost", _("Cost"), 8, align="right"),
        Column("value", _("Value"), 10, align="right"),
        Column("price", _("Price"), 8, align="right"),
    )


def batch_columns() -> tuple[Column, ...]:
    return (
        Column("mark", "", 1, style="bold"),
        Column("batch", _("Batch"), 6, align="right", style="dim"),
        Column("received", _("Received"), 10),
        Column("expiry", _("Expiry"), 10),
        Column("quantity", _("Qty"), 8, align="right"),
        Column("cost", _("Cost"), 8, align="right"),
        Column("value", _("Value"), 10, align="right"),
        Column("certificate", _("Certificate"), 8, flex=True),
    )


def move_columns() -> tuple[Column, ...]:
    return (
        Column("time", _("Time"), 17),
        Column("document", _("Document"), 11),
        Column("kind", _("Kind"), 10, flex=True),
        Column("quantity", _("Qty"), 8, align="right"),
        Column("cost", _("Cost"), 10, align="right"),
        Column("batch", _("Batch"), 6, align="right", style="dim"),
    )


def document_columns() -> tuple[Column, ...]:
    return (
        Column("kind", _("Kind"), 9),
        Column("number", _("Number"), 10),
        Column("date", _("Date"), 17),
        Column("state", _("State"), 9),
        Column("store", _("Store"), 5),
        Column("author", _("Author"), 5, flex=True),
        Column("total", _("Total"), 11, align="right"),
    )


def line_columns() -> tuple[Column, ...]:
    return (
        Column("n", "#", 3, align="right", style="dim"),
        Column("product", _("Code"), 8, style="dim"),
        Column("name", _("Goods"), 14, flex=True),
        Column("quantity", _("Qty"), 8, align="right"),
        Column("price", _("Price"), 9, align="right"),
        Column("sum", _("Sum"), 10, align="right"),
        Column("expiry", _("Expiry"), 10),
    )


# ------------------------------------------------------------------ sources


@dataclass(frozen=True)
class StockSource:
    """Goods with their balance in one store, by code, filtered by group and search.

    `today` fixes the date expiry is judged against (tests, snapshots); by
    default it is the day of the fetch.
    """

    filter: StockFilter
    today: dt.date | None = None

    def count(self) -> int:
        with thread_connection():
            return count_stock(self.filter)

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        with thread_connection():
            rows = stock_page(self.filter, offset, limit)
        return [self.row(item) for item in rows]

    def row(self, item: dict) -> Row:
        style, mark = expiry_style(item["earliest_expiry"], self.today)
        if item["negative"]:
            style, mark = NEGATIVE_STYLE, NEGATIVE_MARK
        cells = (
            mark,
            item["product"],
            item["name"],
            fmt_qty(item["quantity"]),
            _(item["unit"]),
            fmt_money(item["cost"]),
            fmt_money(item["value"]),
            fmt_money(item["price"]) if item["price"] is not None else "",
        )
        return Row(item["product_id"], cells, style)

    def with_filter(self, **changes) -> StockSource:
        """The same source with some of the filter's fields changed."""
        return StockSource(replace(self.filter, **changes), self.today)


@dataclass(frozen=True)
class DocumentsSource:
    """The documents journal, newest first, under a `JournalFilter`."""

    filter: JournalFilter = field(default_factory=JournalFilter)

    def count(self) -> int:
        with thread_connection():
            return count_documents(self.filter)

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        with thread_connection():
            rows = document_rows(self.filter, offset, limit)
        return [self.row(item) for item in rows]

    @staticmethod
    def row(item: dict) -> Row:
        state = item["state"]
        style = {"cancelled": CANCELLED_STYLE, "rejected": CANCELLED_STYLE}.get(state, "")
        if state == "draft":
            style = DRAFT_STYLE
        cells = (
            kind_label(item["kind"]),
            document_number(item["id"], item["kind"], item["number"]),
            fmt_stamp(item["date"]),
            state_label(state),
            item["store"],
            item["author"] or item["till"] or "",
            fmt_money(item["total"]),
        )
        return Row(item["id"], cells, style)


class ListSource:
    """A short list read whole on `count` and sliced by `fetch` (the table calls them in turn).

    The batches of one goods, its latest moves or a document's lines are a
    few hundred rows at most: one query, then pages cut from it.
    """

    def __init__(self) -> None:
        self._rows: list[Row] | None = None

    def load(self) -> list[Row]:
        raise NotImplementedError

    def count(self) -> int:
        with thread_connection():
            self._rows = self.load()
        return len(self._rows)

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        if self._rows is None:
            with thread_connection():
                self._rows = self.load()
        return self._rows[offset : offset + limit]


class BatchesSource(ListSource):
    """The batches of one goods in a store, earliest expiry first, with expiry marked."""

    def __init__(
        self,
        store: Store,
        product_id: int,
        *,
        with_zero: bool = False,
        today: dt.date | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.product_id = product_id
        self.with_zero = with_zero
        self.today = today

    def load(self) -> list[Row]:
        rows = []
        for item in batch_rows(self.store, [self.product_id], with_zero=self.with_zero):
            style, mark = expiry_style(item["expiry"], self.today)
            if item["quantity"] < 0:
                style, mark = NEGATIVE_STYLE, NEGATIVE_MARK
            cells = (
                mark,
                str(item["batch"]),
                fmt_date(item["received"]),
                fmt_date(item["expiry"]),
                fmt_qty(item["quantity"]),
                fmt_money(item["cost"]),
                fmt_money(item["value"]),
                item["certificate"] or "",
            )
            rows.append(Row(item["batch"], cells, style))
        return rows


class MovesSource(ListSource):
    """The latest moves of one goods in a store; a row's key starts with its document's id."""

    def __init__(self, store: Store, product_id: int, limit: int = 200) -> None:
        super().__init__()
        self.store = store
        self.product_id = product_id
        self.limit = limit

    def load(self) -> list[Row]:
        rows = []
        for item in product_moves(self.store, self.product_id, self.limit):
            style = CANCELLED_STYLE if item["state"] == "cancelled" else ""
            cells = (
                fmt_stamp(item["time"]),
                document_number(item["document_id"], item["kind"], item["number"]),
                kind_label(item["kind"]),
                fmt_qty(item["quantity"]),
                fmt_money(item["cost"]),
                str(item["batch"]),
            )
            key = (item["document_id"], item["batch"], str(item["time"]), str(item["quantity"]))
            rows.append(Row(key, cells, style))
        return rows


class LinesSource(ListSource):
    """A document's lines in their order; lines not matched to goods are marked."""

    def __init__(self, document_id: int) -> None:
        super().__init__()
        self.document_id = document_id

    def load(self) -> list[Row]:
        doc = Document.get_by_id(self.document_id)
        rows = []
        for item in document_lines(doc):
            cells = (
                str(item["n"]),
                item["product"] or "",
                item["name"] or _("(not matched)"),
                fmt_qty(item["quantity"]),
                fmt_money(item["price"]),
                fmt_money(item["sum"]),
                fmt_date(item["expiry"]),
            )
            rows.append(Row(item["line_id"], cells, "yellow" if item["unmatched"] else ""))
        return rows
