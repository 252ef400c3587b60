"""The documents journal and one document, driven by the keyboard at 80x24 over real books.

Cancelling is checked end to end: the role check refuses a cashier before any
dialog, a manager confirms and gives a reason, and afterwards the document is
cancelled with its reversing moves in the ledger and `iis check` finds
nothing wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Select, Static

from console.screens.document import DocumentScreen
from console.screens.documents import DocumentsScreen
from console.widgets.lazy_table import LazyTable
from console.widgets.modals import ConfirmModal, ReasonModal
from models.check import check_books
from models.documents import Document
from models.ledger import Balance, StockMove
from models.org import Employee
from tests.test_stock_screen import Shop, ShopApp, build_shop, rows, settle, shown_text, utc_times


@pytest.fixture
def shop(books: Path) -> Iterator[Shop]:
    with utc_times():
        yield build_shop()


def documents_app(shop: Shop, operator: Employee | None = None) -> ShopApp:
    return ShopApp(operator or shop.manager, DocumentsScreen)


def _table(app) -> LazyTable:
    return app.screen.query_one("#documents-table", LazyTable)


def numbers(table: LazyTable) -> list[str]:
    return [row.cells[1] for row in rows(table)]


def _stock(shop: Shop, goods: str) -> int:
    return sum(
        qty
        for (qty,) in Balance.select(Balance.qty)
        .where(Balance.product == shop.goods[goods].id)
        .tuples()
    )


async def test_journal_lists_documents_newest_first(shop: Shop):
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = _table(app)
        assert numbers(table) == ["IN-000004", "S-000003", "WO-000002", "IN-000001"]
        first = rows(table)[-1]
        assert first.cells == (
            "Incoming",
            "IN-000001",
            "3/1/26, 9:00\u202fAM",
            "Posted",
            "S01",
            "M01",
            "1,840.00",
        )
        assert rows(table)[0].cells[3] == "Draft"
        assert rows(table)[1].cells[5] == "T01"
        assert "4 documents" in shown_text(app.screen.query_one("#documents-status", Static))


async def test_filters_by_kind_state_and_number(shop: Shop):
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = _table(app)
        await pilot.press("k")  # the first kind: incoming
        await settle(pilot)
        assert numbers(table) == ["IN-000004", "IN-000001"]
        assert app.screen.query_one("#documents-kind", Select).value == "incoming"
        await pilot.press("t")  # the first state: draft
        await settle(pilot)
        assert numbers(table) == ["IN-000004"]
        await pilot.press("t")  # posted
        await settle(pilot)
        assert numbers(table) == ["IN-000001"]
        await pilot.press("x")
        await settle(pilot)
        assert len(numbers(table)) == 4
        assert app.screen.query_one("#documents-kind", Select).is_blank()

        await pilot.press("slash", *"WO-", "enter")
        await settle(pilot)
        assert numbers(table) == ["WO-000002"]
        assert table.has_focus

        # The drop-down filters the same way as the keys.
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one("#documents-state", Select).value = "draft"
        await settle(pilot)
        assert numbers(table) == ["IN-000004"]


async def test_open_a_document_shows_its_header_and_lines(shop: Shop):
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DocumentScreen)
        assert screen.document_id == shop.docs["incoming"].id
        header = shown_text(screen.query_one("#document-header", Static))
        for text in ("IN-000001", "Incoming", "Posted", "1,840.00", "INV-77", "S01"):
            assert text in header
        lines = rows(screen.query_one("#document-lines", LazyTable))
        assert [line.cells[1] for line in lines] == ["P001", "P001", "P002", "P003"]
        assert lines[0].cells[3:] == ("10", "50.00", "500.00", "3/1/26")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)


async def test_manager_cancels_a_posted_document_with_a_reason(shop: Shop):
    writeoff = shop.docs["writeoff"]
    moves_before = StockMove.select().where(StockMove.document == writeoff).count()
    assert _stock(shop, "juice") == 10_000
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        assert _table(app).cursor_key == writeoff.id
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "WO-000002" in app.screen.message
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ReasonModal)
        await pilot.press(*"entered twice", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
        assert any("WO-000002 is cancelled" in n.message for n in app._notifications)
        # The journal shows the new state in place, the cursor where it was.
        table = _table(app)
        assert table.cursor_key == writeoff.id
        assert rows(table)[2].cells[3] == "Cancelled"

    doc = Document.get_by_id(writeoff.id)
    assert doc.state == "cancelled"
    assert doc.cancel_reason == "entered twice"
    assert doc.cancelled_by == "M01"
    moves = StockMove.select().where(StockMove.document == writeoff)
    assert moves.count() == 2 * moves_before
    assert sum(move.qty for move in moves) == 0
    assert _stock(shop, "juice") == 12_000
    assert check_books() == []


async def test_cashier_is_refused_before_any_dialog(shop: Shop):
    writeoff = shop.docs["writeoff"]
    app = documents_app(shop, operator=shop.cashier)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "c")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
        messages = [n.message for n in app._notifications]
        assert any("may not cancel documents" in m for m in messages), messages
        assert all(n.severity == "error" for n in app._notifications)
    assert Document.get_by_id(writeoff.id).state == "posted"
    assert _stock(shop, "juice") == 10_000
    assert StockMove.select().where(StockMove.qty < 0).count() == 3


async def test_backing_out_changes_nothing(shop: Shop):
    writeoff = shop.docs["writeoff"]
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "c")
        await settle(pilot)
        await pilot.press("escape")  # no to the confirmation
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
        await pilot.press("c", "y")
        await settle(pilot)
        assert isinstance(app.screen, ReasonModal)
        await pilot.press("enter")  # an empty reason is not accepted
        await settle(pilot)
        assert isinstance(app.screen, ReasonModal)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
    assert Document.get_by_id(writeoff.id).state == "posted"


async def test_only_a_posted_document_can_be_cancelled(shop: Shop):
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")  # the cursor is on the draft
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
        assert any("only a posted one" in n.message for n in app._notifications)
    assert Document.get_by_id(shop.docs["draft"].id).state == "draft"


async def test_cancel_from_the_document_screen_refreshes_both(shop: Shop):
    sale = shop.docs["sale"]
    app = documents_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DocumentScreen) and screen.document_id == sale.id
        await pilot.press("c", "y")
        await settle(pilot)
        await pilot.press(*"wrong till", "enter")
        await settle(pilot)
        assert app.screen is screen
        header = shown_text(screen.query_one("#document-header", Static))
        assert "Cancelled" in header and "wrong till" in header
        await pilot.press("escape")
        await settle(pilot)
        assert rows(_table(app))[1].cells[3] == "Cancelled"
    assert Document.get_by_id(sale.id).state == "cancelled"
    # The bread sold into negative stock is back at zero; milk back to fifteen.
    assert _stock(shop, "bread") == 0
    assert _stock(shop, "milk") == 15_000
    assert check_books() == []


async def test_a_refusal_by_the_books_is_a_notification(shop: Shop):
    """Cancelling a receipt whose goods have gone would take stock below zero: refused."""
    from tests import factories

    incoming = shop.docs["incoming"]
    shop.store.allow_negative = False
    shop.store.save()
    factories.doc("writeoff", shop.store, [(shop.goods["kefir"], "3", "40")], post=True)
    app = ShopApp(shop.manager, lambda: DocumentScreen(incoming.id))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c", "y")
        await settle(pilot)
        await pilot.press(*"typo", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors, list(app._notifications)
    assert Document.get_by_id(incoming.id).state == "posted"
