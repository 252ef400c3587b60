"""One document: its header fields and its lines, and cancelling it when it is posted.

`DocumentActions` holds the cancel flow the journal and this screen share:
the role check comes first (a cashier is refused at once, with a notification,
before any dialog), then a confirmation, then the reason the books keep, and
the cancellation itself runs on a worker thread, since it writes the reversing
moves and may wait for the write lock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from console.i18n import fmt_money
from console.messages import DocumentChanged
from console.screens import LiveScreen
from console.sources import (
    LinesSource,
    document_number,
    fmt_date,
    fmt_stamp,
    kind_label,
    line_columns,
    state_label,
    thread_connection,
)
from console.widgets.lazy_table import LazyTable
from console.widgets.modals import ConfirmModal, ReasonModal
from models.documents import POSTED, Document
from models.errors import BooksError, DocumentStateError, NotFoundError, PermissionDenied
from models.i18n import _
from models.money import money
from models.operators import require_approver
from models.org import Employee, Store
from models.parties import Supplier
from models.posting import cancel_document

__all__ = ["DocumentActions", "DocumentScreen"]


class DocumentActions(LiveScreen):
    """A screen that can cancel a posted document on the operator's behalf."""

    def current_operator(self) -> Employee | None:
        return getattr(self.app, "operator", None)

    def cancel_document(self, document_id: int) -> None:
        """Cancel `document_id` after the role check, a confirmation and a reason.

        Every refusal (the role, the document's state, the books saying no)
        reaches the operator as a notification; nothing here raises.
        """
        operator = self.current_operator()
        try:
            if operator is None:
                raise PermissionDenied(_("No operator is signed in; cancelling needs a manager."))
            require_approver(operator, "cancel documents")
            doc = Document.get_or_none(Document.id == document_id)
            if doc is None:
                raise NotFoundError(_("no document {ref}").format(ref=document_id))
            if doc.state != POSTED:
                raise DocumentStateError(
                    _("document {number} is {state}, only a posted one can be cancelled").format(
                        number=doc.display_number, state=state_label(doc.state)
                    )
                )
        except BooksError as error:
            self.notify(str(error), title=_("Refused"), severity="error")
            return
        number = doc.display_number
        by = operator.code

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.app.push_screen(
                    ReasonModal(
                        _("Why is {number} cancelled? The reason is kept with it.").format(
                            number=number
                        ),
                        title=_("Cancel {number}").format(number=number),
                        confirm_label=_("Cancel document"),
                    ),
                    reason_given,
                )

        def reason_given(reason: str | None) -> None:
            if reason and reason.strip():
                self._run_cancel(document_id, number, by, reason.strip())

        self.app.push_screen(
            ConfirmModal(
                _(
                    "Cancel {kind} {number}? Its stock moves will be reversed; "
                    "the document stays in the journal as cancelled."
                ).format(kind=kind_label(doc.kind).lower(), number=number),
                title=_("Cancel document"),
                confirm_label=_("Cancel it"),
                cancel_label=_("Keep it"),
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="cancel-document", exit_on_error=False)
    def _run_cancel(self, document_id: int, number: str, by: str, reason: str) -> None:
        try:
            with thread_connection():
                cancel_document(document_id, by, reason)
        except BooksError as error:
            self.app.call_from_thread(self.notify, str(error), title=_("Refused"), severity="error")
            return
        except Exception as error:
            self.app.call_from_thread(
                self.notify,
                str(error) or type(error).__name__,
                title=_("Could not cancel {number}").format(number=number),
                severity="error",
            )
            return
        self.app.call_from_thread(self._cancelled, document_id, number)

    def _cancelled(self, document_id: int, number: str) -> None:
        self.notify(_("{number} is cancelled.").format(number=number), title=_("Cancelled"))
        for screen in self.app.screen_stack:
            if isinstance(screen, LiveScreen) and screen.is_mounted:
                screen.reload_books()
        self.app.post_message(DocumentChanged(document_id))


class DocumentScreen(DocumentActions):
    """A document's header and lines; `c` cancels it when it is posted."""

    CSS_PATH = Path(__file__).parent.parent / "documents.tcss"
    TITLE = _("Document")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back")),
        Binding("c", "cancel_document", _("Cancel document")),
        Binding("f5,ctrl+r", "refresh_data", _("Refresh")),
    ]

    def __init__(self, document_id: int, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.document_id = document_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("…", id="document-header")
        yield LazyTable(
            line_columns(),
            LinesSource(self.document_id),
            id="document-lines",
            empty_text=_("No lines"),
        )
        yield Footer()

    def on_mount(self) -> None:
        self._load_header()
        self.query_one("#document-lines", LazyTable).focus()

    @work(thread=True, exclusive=True, group="document-header", exit_on_error=False)
    def _load_header(self) -> None:
        try:
            with thread_connection():
                doc = Document.get_by_id(self.document_id)
                stores = {
                    store.id: store.code
                    for store in Store.select(Store.id, Store.code).where(
                        Store.id.in_([doc.store_id, doc.to_store_id or doc.store_id])
                    )
                }
                supplier = (
                    Supplier.get_or_none(Supplier.id == doc.supplier_id)
                    if doc.supplier_id
                    else None
                )
        except Exception as error:
            self.app.call_from_thread(
                self.notify, str(error), title=_("Could not read the books"), severity="error"
            )
            return
        supplier_name = supplier.name if supplier is not None else doc.supplier_code
        self.app.call_from_thread(self._show_header, doc, stores, supplier_name)

    def _show_header(self, doc: Document, stores: dict[int, str], supplier: str) -> None:
        number = document_number(doc.id, doc.kind, doc.number)
        self.sub_title = f"{kind_label(doc.kind)} {number}"
        fields: list[tuple[str, str]] = [
            (_("Number"), f"[b]{escape(number)}[/b]  {escape(kind_label(doc.kind))}"),
            (_("State"), escape(state_label(doc.state))),
            (_("Date"), fmt_stamp(doc.date)),
            (_("Total"), fmt_money(money(doc.total))),
            (_("Store"), escape(stores.get(doc.store_id, ""))),
        ]
        if doc.to_store_id:
            fields.append((_("To store"), escape(stores.get(doc.to_store_id, ""))))
        if supplier:
            fields.append((_("Supplier"), escape(supplier)))
        if doc.invoice:
            invoice = doc.invoice
            if doc.invoice_date:
                invoice += " " + fmt_date(_as_date(doc.invoice_date))
            fields.append((_("Invoice"), escape(invoice)))
        if doc.author or doc.till:
            fields.append((_("Author"), escape(doc.author or doc.till or "")))
        if doc.external_id:
            fields.append((_("Till's id"), escape(doc.external_id)))
        if doc.reason:
            fields.append((_("Reason"), escape(_(doc.reason))))
        if doc.posted_by:
            fields.append(
                (_("Posted"), f"{escape(doc.posted_by)} {fmt_stamp(doc.posted_at)}".strip())
            )
        if doc.cancelled_by:
            fields.append(
                (
                    _("Cancelled"),
                    f"{escape(doc.cancelled_by)} {fmt_stamp(doc.cancelled_at)}".strip(),
                )
            )
            fields.append((_("Why"), escape(doc.cancel_reason)))
        if doc.rejected_by:
            fields.append((_("Rejected"), escape(doc.rejected_by)))
            fields.append((_("Why"), escape(doc.reject_reason)))
        if doc.comment:
            fields.append((_("Comment"), escape(doc.comment)))

        grid = Table.grid(padding=(0, 1), expand=True)
        for _column in range(2):
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for start in range(0, len(fields), 2):
            pair = fields[start : start + 2]
            cells: list[str] = []
            for label, value in pair:
                cells.extend([label, value])
            grid.add_row(*cells)
        header = self.query_one("#document-header", Static)
        header.update(grid)
        header.set_class(doc.state in ("cancelled", "rejected"), "-cancelled")

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_cancel_document(self) -> None:
        self.cancel_document(self.document_id)

    def refresh_data(self) -> None:
        """The books changed: re-read the header and the lines."""
        if not self.is_mounted:
            return
        self._load_header()
        self.query_one("#document-lines", LazyTable).reload(keep_cursor=True)

    def reload_books(self) -> None:
        self.refresh_data()

    def action_refresh_data(self) -> None:
        self.refresh_data()

    @on(LazyTable.LoadFailed)
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("Could not read the books"), severity="error")


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
