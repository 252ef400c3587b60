"""The drafts queue and one draft: look, correct, then approve or reject.

Drafts come from the tills (incoming invoices, counts, write-offs, returns
to suppliers, transfers; baskets arrive as customer orders) and wait here,
oldest first. Opening one shows its lines matched to goods, with what the
kind needs beside them: book and counted quantities for a count; supplier,
invoice, cost, expiry and certificate for an invoice. A line the books could
not match is marked and can be mapped to goods from a picker.

Approving posts the draft (stock and money move), rejecting keeps it with a
reason; both, and every edit, are for managers and admins only, are guarded by
a dialog, run in a worker (a busy database never freezes the screen), and are
stamped with the operator's code by the books. A refusal is a notification,
never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from peewee import JOIN, fn
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, Static

from console.i18n import fmt_money, fmt_qty
from console.messages import DocumentChanged
from console.screens import LiveScreen
from console.sources import (
    ListSource,
    document_number,
    fmt_date,
    fmt_stamp,
    kind_label,
    thread_connection,
)
from console.widgets.lazy_table import Column, LazyTable, Row
from console.widgets.modals import ConfirmModal, EditValueModal, ReasonModal
from models.catalog import Barcode, Product
from models.documents import DRAFT, INCOMING, INVENTORY, ORDER, WRITEOFF, Document, DocumentLine
from models.errors import BooksError
from models.i18n import _
from models.journal import document_lines
from models.money import AmountError, format_money, format_quantity, kopecks, milli, money
from models.operators import require_approver
from models.org import Store
from models.parties import Customer, Supplier
from models.posting import map_line, post_document, reject_draft, update_draft_line

if TYPE_CHECKING:
    from models.org import Employee

__all__ = [
    "DraftScreen",
    "DraftsScreen",
    "DraftsSource",
    "GoodsPickerModal",
    "GoodsSource",
    "parse_money_text",
    "parse_quantity_text",
]

log = logging.getLogger("iis.console")

#: Unmatched lines and documents that have them: they need the operator first.
_UNMATCHED_STYLE = "yellow"
_UNMATCHED_MARK = "?"


def writeoff_reason_label(reason: str) -> str:
    labels = {
        "expired": _("expired"),
        "damaged": _("damaged"),
        "lost": _("lost"),
        "internal": _("internal use"),
    }
    return labels.get(reason, reason)


# -------------------------------------------------------------------- parsing input


def _clean_number(text: str) -> str:
    """What an operator typed, as `Decimal` reads it: spaces gone, a comma as the point."""
    return "".join(text.split()).replace("\u00a0", "").replace(",", ".")


def parse_quantity_text(text: str) -> int:
    """A quantity typed by the operator, in thousandths; `ValueError` says what is wrong."""
    try:
        value = milli(_clean_number(text))
    except AmountError:
        raise ValueError(
            _("Enter a quantity such as 12 or 1.5 (at most three decimals).")
        ) from None
    if value < 0:
        raise ValueError(_("A quantity cannot be negative."))
    return value


def parse_money_text(text: str) -> int:
    """A price typed by the operator, in kopecks; `ValueError` says what is wrong."""
    try:
        value = kopecks(_clean_number(text))
    except AmountError:
        raise ValueError(_("Enter a price such as 89.90 (at most two decimals).")) from None
    if value < 0:
        raise ValueError(_("A price cannot be negative."))
    return value


# -------------------------------------------------------------------- the queue


def drafts_columns() -> tuple[Column, ...]:
    """Built when the screen is made, so the headings speak the current language."""
    return (
        Column("mark", "", 1, style="bold"),
        Column("date", _("Date"), 17),
        Column("number", _("Number"), 10),
        Column("kind", _("Kind"), 9, flex=True),
        Column("till", _("Till"), 4),
        Column("author", _("Author"), 6),
        Column("lines", _("Lines"), 5, align="right"),
        Column("total", _("Total"), 11, align="right"),
    )


@dataclass(frozen=True)
class DraftsSource:
    """Drafts awaiting approval, oldest first; a row's key is the document's id."""

    def _query(self):
        return Document.select().where(Document.state == DRAFT)

    def count(self) -> int:
        with thread_connection():
            return self._query().count()

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        lines = DocumentLine.select(fn.COUNT(DocumentLine.id)).where(
            DocumentLine.document == Document.id
        )
        with thread_connection():
            rows = list(
                self._query()
                .select(
                    Document.id,
                    Document.kind,
                    Document.number,
                    Document.external_id,
                    Document.date,
                    Document.till,
                    Document.author,
                    Document.cashier,
                    Document.total,
                    Document.unmatched,
                    lines.alias("lines"),
                )
                .order_by(Document.date.asc(), Document.id.asc())
                .offset(offset)
                .limit(limit)
                .tuples()
            )
        out = []
        for (
            doc_id,
            kind,
            number,
            external_id,
            date,
            till,
            author,
            cashier,
            total,
            unmatched,
            count,
        ) in rows:
            style = _UNMATCHED_STYLE if unmatched else ("italic" if kind == ORDER else "")
            cells = (
                _UNMATCHED_MARK if unmatched else "",
                fmt_stamp(date),
                external_id or document_number(doc_id, kind, number),
                kind_label(kind),
                till or "",
                author or cashier or "",
                str(count or 0),
                fmt_money(money(total)),
            )
            out.append(Row(doc_id, cells, style))
        return out


class DraftActions:
    """Approve and reject, shared by the queue and the draft screen.

    The role is checked before any dialog opens, so a cashier learns at once
    that the action is not theirs; the books check again when they write.
    """

    app: object

    def current_draft(self) -> int | None:
        """The document the action is about (the cursor row, or the open draft)."""
        raise NotImplementedError

    def after_change(self, doc_id: int, closed: bool) -> None:
        """Called on the UI thread once the books took the change."""

    @property
    def operator(self) -> Employee | None:
        return getattr(self.app, "operator", None)

    def may(self, action: str) -> bool:
        """Whether the operator's role allows `action`; if not, say so and return False."""
        screen = cast(LiveScreen, self)
        operator = self.operator
        if operator is None:
            screen.notify(_("No operator is signed in."), severity="error")
            return False
        try:
            require_approver(operator, action)
        except BooksError as error:
            screen.notify(str(error), title=_("Not allowed"), severity="error", timeout=8)
            return False
        return True

    def describe(self, doc_id: int) -> str:
        doc = Document.get_or_none(Document.id == doc_id)
        if doc is None:
            return str(doc_id)
        lines = DocumentLine.select().where(DocumentLine.document == doc_id).count()
        return _("{number} ({kind}, {lines} lines, total {total})").format(
            number=doc.external_id or doc.display_number,
            kind=kind_label(doc.kind),
            lines=lines,
            total=fmt_money(money(doc.total)),
        )

    def action_approve(self) -> None:
        screen = cast(LiveScreen, self)
        doc_id = self.current_draft()
        if doc_id is None or not self.may(_("approve documents")):
            return
        operator = cast("Employee", self.operator)
        text = _("Approve and post {document}? Stock and money move at once.").format(
            document=self.describe(doc_id)
        )

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_change(
                    doc_id,
                    lambda: post_document(doc_id, operator.code),
                    _("{document} is approved and posted.").format(document=self.describe(doc_id)),
                    closed=True,
                )

        screen.app.push_screen(
            ConfirmModal(text, title=_("Approve draft"), confirm_label=_("Approve")), confirmed
        )

    def action_reject(self) -> None:
        screen = cast(LiveScreen, self)
        doc_id = self.current_draft()
        if doc_id is None or not self.may(_("reject drafts")):
            return
        operator = cast("Employee", self.operator)
        prompt = _("Reject {document}? Nothing moves; the draft is kept with your reason.").format(
            document=self.describe(doc_id)
        )

        def given(reason: str | None) -> None:
            if reason:
                self.run_change(
                    doc_id,
                    lambda: reject_draft(doc_id, operator.code, reason),
                    _("{document} is rejected.").format(document=self.describe(doc_id)),
                    closed=True,
                )

        screen.app.push_screen(
            ReasonModal(prompt, title=_("Reject draft"), confirm_label=_("Reject")), given
        )

    def run_change(
        self, doc_id: int, change: Callable[[], None], done: str, *, closed: bool
    ) -> None:
        """Write `change` to the books in a worker; report the outcome on the UI thread."""
        screen = cast(LiveScreen, self)

        def job() -> None:
            try:
                with thread_connection():
                    change()
            except BooksError as error:
                screen.app.call_from_thread(
                    screen.notify, str(error), title=_("Refused"), severity="error", timeout=10
                )
                return
            except Exception as error:
                log.exception("a draft action failed")
                screen.app.call_from_thread(
                    screen.notify,
                    _("{kind}: {message}").format(kind=type(error).__name__, message=error),
                    title=_("Failed"),
                    severity="error",
                    timeout=10,
                )
                return
            screen.app.call_from_thread(self._changed, doc_id, done, closed)

        screen.run_worker(job, thread=True, group="draft-change", exit_on_error=False)

    def _changed(self, doc_id: int, done: str, closed: bool) -> None:
        screen = cast(LiveScreen, self)
        screen.notify(done, timeout=5)
        screen.post_message(DocumentChanged(doc_id))
        self.after_change(doc_id, closed)


class DraftsScreen(DraftActions, LiveScreen):
    """The approval queue: every draft waiting, oldest first."""

    TITLE = _("Drafts")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open"), tooltip=_("Open the draft: its lines and details")),
        Binding(
            "a", "approve", _("Approve"), tooltip=_("Approve (post) the draft under the cursor")
        ),
        Binding(
            "r",
            "reject",
            _("Reject"),
            tooltip=_("Reject the draft under the cursor, with a reason"),
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="drafts"):
            yield Label(_("Drafts awaiting approval"), id="drafts-count", classes="screen--title")
            yield LazyTable(
                drafts_columns(),
                DraftsSource(),
                id="drafts-table",
                empty_text=_("No drafts are waiting"),
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#drafts-table", LazyTable).focus()

    def reload_books(self) -> None:
        self.query_one("#drafts-table", LazyTable).reload()

    def current_draft(self) -> int | None:
        key = self.query_one("#drafts-table", LazyTable).cursor_key
        return None if key is None else int(cast(int, key))

    def after_change(self, doc_id: int, closed: bool) -> None:
        self.reload_books()

    @on(LazyTable.Counted, "#drafts-table")
    def _counted(self, event: LazyTable.Counted) -> None:
        self.query_one("#drafts-count", Label).update(
            _("Drafts awaiting approval: {count}").format(count=event.count)
        )

    @on(LazyTable.LoadFailed, "#drafts-table")
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("The drafts could not be read"), severity="error")

    @on(LazyTable.RowSelected, "#drafts-table")
    def _selected(self, event: LazyTable.RowSelected) -> None:
        self.app.push_screen(DraftScreen(int(cast(int, event.key))))

    def action_open(self) -> None:
        self.query_one("#drafts-table", LazyTable).action_select_cursor()


# -------------------------------------------------------------------- one draft


def line_columns(kind: str) -> tuple[Column, ...]:
    """The lines' columns for a kind: a count compares, an invoice carries its batch facts."""
    mark = Column("mark", "", 1, style="bold")
    code = Column("code", _("Code"), 7, style="dim")
    goods = Column("name", _("Goods"), 12, flex=True)
    if kind == INVENTORY:
        return (
            mark,
            code,
            goods,
            Column("book", _("Book"), 8, align="right"),
            Column("counted", _("Counted"), 8, align="right"),
            Column("difference", _("Diff."), 8, align="right"),
        )
    if kind == INCOMING:
        return (
            mark,
            code,
            goods,
            Column("quantity", _("Qty"), 6, align="right"),
            Column("cost", _("Cost"), 8, align="right"),
            Column("sum", _("Sum"), 10, align="right"),
            Column("expiry", _("Expiry"), 10),
            Column("certificate", _("Certificate"), 10),
        )
    return (
        mark,
        code,
        goods,
        Column("quantity", _("Qty"), 8, align="right"),
        Column("price", _("Price"), 9, align="right"),
        Column("sum", _("Sum"), 11, align="right"),
    )


class DraftLinesSource(ListSource):
    """A draft's lines, matched to goods (or marked), with the columns its kind needs."""

    def __init__(self, document_id: int, kind: str) -> None:
        super().__init__()
        self.document_id = document_id
        self.kind = kind

    def load(self) -> list[Row]:
        doc = Document.get_by_id(self.document_id)
        rows = []
        for item in document_lines(doc):
            unmatched = item["unmatched"]
            name = (
                _("not matched: {code}").format(code=item["product"] or item["barcode"] or "?")
                if unmatched
                else item["name"]
            )
            head = (_UNMATCHED_MARK if unmatched else "", item["product"] if not unmatched else "")
            if self.kind == INVENTORY:
                difference = item["difference"]
                sign = "+" if difference is not None and difference > 0 else ""
                cells = (
                    *head,
                    name,
                    fmt_qty(item["book"]),
                    fmt_qty(item["quantity"]),
                    sign + fmt_qty(difference) if difference is not None else "",
                )
            elif self.kind == INCOMING:
                cells = (
                    *head,
                    name,
                    fmt_qty(item["quantity"]),
                    fmt_money(item["price"]),
                    fmt_money(item["sum"]),
                    fmt_date(item["expiry"]) if item["expiry"] else "",
                    item["certificate"] or "",
                )
            else:
                cells = (
                    *head,
                    name,
                    fmt_qty(item["quantity"]),
                    fmt_money(item["price"]),
                    fmt_money(item["sum"]),
                )
            rows.append(Row(item["line_id"], cells, _UNMATCHED_STYLE if unmatched else ""))
        return rows


@dataclass(frozen=True)
class DraftHead:
    """What the draft says about itself, read once per reload."""

    id: int
    kind: str
    state: str
    title: str
    lines: tuple[Text, ...]


def read_head(doc_id: int) -> DraftHead:
    """The draft's heading lines: who, when, where, and the kind's own facts."""
    doc = (
        Document.select(Document, Store, Supplier, Customer)
        .join(Store, on=(Document.store == Store.id))
        .switch(Document)
        .join(Supplier, JOIN.LEFT_OUTER, on=(Document.supplier == Supplier.id))
        .switch(Document)
        .join(Customer, JOIN.LEFT_OUTER, on=(Document.customer == Customer.id))
        .where(Document.id == doc_id)
        .first()
    )
    if doc is None:
        raise BooksError(_("no document {ref}").format(ref=doc_id))
    number = doc.display_number
    title = f"{number} · {kind_label(doc.kind)}"
    if doc.external_id:
        title += f" · {doc.external_id}"
    lines: list[Text] = []
    who = [
        _("till {till}").format(till=doc.till) if doc.till else _("typed in the back office"),
        _("author {author}").format(author=doc.author or doc.cashier or "-"),
        fmt_stamp(doc.date),
        _("store {store}").format(store=doc.store.code),
    ]
    lines.append(Text(" · ".join(who)))
    if doc.kind == INCOMING:
        if doc.supplier_id:
            supplier = f"{doc.supplier.code} {doc.supplier.name}"
        elif doc.supplier_code:
            supplier = _("{code} (not in the books)").format(code=doc.supplier_code)
        else:
            supplier = "-"
        invoice = doc.invoice or "-"
        if doc.invoice_date:
            invoice = _("{invoice} of {date}").format(
                invoice=invoice, date=fmt_date(_date(doc.invoice_date))
            )
        lines.append(
            Text(
                _("Supplier {supplier} · invoice {invoice}").format(
                    supplier=supplier, invoice=invoice
                )
            )
        )
    elif doc.kind == WRITEOFF and doc.reason:
        lines.append(Text(_("Reason: {reason}").format(reason=writeoff_reason_label(doc.reason))))
    elif doc.kind == ORDER:
        customer = (
            f"{doc.customer.code} {doc.customer.name}" if doc.customer_id else (doc.card or "-")
        )
        lines.append(Text(_("Customer order for {customer}").format(customer=customer)))
    elif doc.to_store_id:
        to_store = Store.get_or_none(Store.id == doc.to_store_id)
        lines.append(Text(_("To store {store}").format(store=to_store.code if to_store else "-")))
    summary = Text(_("Total {total}").format(total=fmt_money(money(doc.total))), style="bold")
    if doc.unmatched:
        summary.append(" · ")
        summary.append(
            _("{count} lines not matched to goods: press m to map them").format(
                count=doc.unmatched
            ),
            style=_UNMATCHED_STYLE,
        )
    if doc.state != DRAFT:
        summary.append(" · ")
        summary.append(_("no longer a draft: {state}").format(state=_(doc.state)), "bold red")
    lines.append(summary)
    if doc.comment:
        lines.append(Text(_("Comment: {comment}").format(comment=doc.comment), style="italic"))
    return DraftHead(doc.id, doc.kind, doc.state, title, tuple(lines))


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class DraftScreen(DraftActions, LiveScreen):
    """One draft with its lines: map, edit, then approve or reject."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back"), tooltip=_("Back to the drafts queue")),
        Binding("a", "approve", _("Approve"), tooltip=_("Approve (post) this draft")),
        Binding("r", "reject", _("Reject"), tooltip=_("Reject this draft, with a reason")),
        Binding("m", "map", _("Map"), tooltip=_("Match the line under the cursor to goods")),
        Binding("e", "edit_quantity", _("Qty"), tooltip=_("Edit the quantity of the line")),
        Binding("p", "edit_price", _("Price"), tooltip=_("Edit the price (cost) of the line")),
    ]

    def __init__(self, document_id: int) -> None:
        super().__init__()
        self.document_id = document_id
        self.kind = ""
        self._state = DRAFT

    def compose(self) -> ComposeResult:
        doc = Document.get_by_id(self.document_id)
        self.kind = doc.kind
        self.title = doc.external_id or doc.display_number
        yield Header()
        with Vertical(id="draft"):
            yield Static(_("Reading the draft…"), id="draft-head", markup=False)
            yield LazyTable(
                line_columns(doc.kind),
                DraftLinesSource(self.document_id, doc.kind),
                id="draft-lines",
                empty_text=_("The draft has no lines"),
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#draft-lines", LazyTable).focus()
        self._load_head()

    def reload_books(self) -> None:
        self._load_head()
        self.query_one("#draft-lines", LazyTable).reload()

    @work(thread=True, exclusive=True, group="draft-head", exit_on_error=False)
    def _load_head(self) -> None:
        try:
            with thread_connection():
                head = read_head(self.document_id)
        except BooksError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show_head, head)

    def _show_head(self, head: DraftHead) -> None:
        self._state = head.state
        text = Text(head.title, style="bold")
        for line in head.lines:
            text.append("\n")
            text.append_text(line)
        self.query_one("#draft-head", Static).update(text)

    def current_draft(self) -> int | None:
        return self.document_id

    def after_change(self, doc_id: int, closed: bool) -> None:
        if closed:
            self.dismiss()
        else:
            self.reload_books()

    def _line_id(self) -> int | None:
        key = self.query_one("#draft-lines", LazyTable).cursor_key
        if key is None:
            self.notify(_("Put the cursor on a line first."), severity="warning")
            return None
        return int(cast(int, key))

    def action_back(self) -> None:
        self.dismiss()

    def action_map(self) -> None:
        line_id = self._line_id()
        if line_id is None or not self.may(_("map goods")):
            return
        line = DocumentLine.get_or_none(DocumentLine.id == line_id)
        if line is None:
            return
        operator = cast("Employee", self.operator)
        search = line.barcode or line.product_code or ""

        def chosen(product_id: int | None) -> None:
            if product_id is None:
                return
            product = Product.get_by_id(product_id)
            self.run_change(
                self.document_id,
                lambda: map_line(line_id, product_id, operator.code),
                _("Line {n} is now {code} {name}.").format(
                    n=line.n, code=product.code, name=product.name
                ),
                closed=False,
            )

        self.app.push_screen(GoodsPickerModal(search if line.product_id is None else ""), chosen)

    def _edit(self, what: str) -> None:
        line_id = self._line_id()
        if line_id is None or not self.may(_("edit drafts")):
            return
        line = DocumentLine.get_or_none(DocumentLine.id == line_id)
        if line is None:
            return
        if what == "qty":
            prompt = _("Quantity of line {n}:").format(n=line.n)
            if self.kind == INVENTORY:
                prompt = _("Counted quantity of line {n}:").format(n=line.n)
            modal = EditValueModal(
                prompt, format_quantity(line.qty), parse_quantity_text, title=_("Quantity")
            )
        else:
            prompt = _("Price of line {n}:").format(n=line.n)
            if self.kind == INCOMING:
                prompt = _("Cost of line {n} (per unit):").format(n=line.n)
            modal = EditValueModal(
                prompt, format_money(line.price), parse_money_text, title=_("Price")
            )

        def edited(value: int | None) -> None:
            if value is None:
                return
            if what == "qty":
                change = lambda: update_draft_line(line_id, qty=value, by=self.app.operator.code)  # noqa: E731
            else:
                change = lambda: update_draft_line(line_id, price=value, by=self.app.operator.code)  # noqa: E731
            self.run_change(
                self.document_id,
                change,
                _("Line {n} is changed.").format(n=line.n),
                closed=False,
            )

        self.app.push_screen(modal, edited)

    def action_edit_quantity(self) -> None:
        self._edit("qty")

    def action_edit_price(self) -> None:
        self._edit("price")


# -------------------------------------------------------------------- goods picker


@dataclass(frozen=True)
class GoodsSource:
    """Goods whose code, name or barcode contains the search text, by name."""

    search: str = ""

    def _query(self):
        query = Product.select().where(Product.deleted == False)  # noqa: E712
        text = self.search.strip()
        if text:
            by_barcode = Barcode.select(Barcode.product).where(Barcode.code.contains(text))
            query = query.where(
                Product.code.contains(text)
                | Product.name.contains(text)
                | Product.id.in_(by_barcode)
            )
        return query

    def count(self) -> int:
        with thread_connection():
            return self._query().count()

    def fetch(self, offset: int, limit: int) -> Sequence[Row]:
        with thread_connection():
            rows = list(
                self._query()
                .select(Product.id, Product.code, Product.name, Product.unit)
                .order_by(Product.name, Product.id)
                .offset(offset)
                .limit(limit)
                .tuples()
            )
        return [Row(pid, (code, name, _(unit))) for pid, code, name, unit in rows]


class GoodsPickerModal(ModalScreen[int | None]):
    """Find goods by code, name or barcode and pick one; answers the goods' id.

    Typing narrows the list (after a short pause, so each key does not start
    a query); down moves into the list, enter picks, escape backs out.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Back"), tooltip=_("Back out; nothing changes")),
        Binding("down", "to_list", _("List"), show=False),
    ]

    SEARCH_DELAY: ClassVar[float] = 0.25

    def __init__(self, search: str = "") -> None:
        super().__init__()
        self.search = search
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = _("Choose goods")
            box.border_subtitle = _("type to search · enter choose · esc back")
            yield Input(self.search, placeholder=_("code, name or barcode"), id="picker-search")
            yield LazyTable(
                (
                    Column("code", _("Code"), 8, style="dim"),
                    Column("name", _("Goods"), 20, flex=True),
                    Column("unit", _("Unit"), 4),
                ),
                GoodsSource(self.search),
                id="picker-table",
                empty_text=_("No goods match"),
            )

    def on_mount(self) -> None:
        self.query_one("#picker-search", Input).focus()

    @on(Input.Changed, "#picker-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        value = event.value
        self._timer = self.set_timer(self.SEARCH_DELAY, lambda: self._search(value))

    def _search(self, value: str) -> None:
        self._timer = None
        self.query_one("#picker-table", LazyTable).set_source(GoodsSource(value))

    @on(Input.Submitted, "#picker-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
            self._search(event.value)
        self.action_to_list()

    def action_to_list(self) -> None:
        self.query_one("#picker-table", LazyTable).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(LazyTable.RowSelected, "#picker-table")
    def _chosen(self, event: LazyTable.RowSelected) -> None:
        self.dismiss(int(cast(int, event.key)))
