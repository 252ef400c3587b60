"""The drafts queue and one draft, by keyboard: approve, edit then approve, reject, map goods.

The role check is part of every path: a cashier is told no before any dialog
opens, and the books are left as they were.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from console.screens.drafts import (
    DraftScreen,
    DraftsScreen,
    GoodsPickerModal,
    parse_money_text,
    parse_quantity_text,
)
from console.widgets.lazy_table import LazyTable
from console.widgets.modals import ConfirmModal, EditValueModal, ReasonModal
from models.documents import Document, DocumentLine
from models.ledger import Balance, StockMove
from tests.test_console_app import SIZE, loaded, make_app, shop, table_rows, utc, wait_for

__all__ = ["shop", "utc"]  # fixtures shared with the app tests


def drafts_app(shop: dict, operator: str = "M01"):
    return make_app(shop["data_dir"], operator, start_mode="drafts")


async def open_queue(pilot, app) -> LazyTable:
    table = app.screen.query_one("#drafts-table", LazyTable)
    await wait_for(pilot, lambda: loaded(table) and table.row_count == 4)
    return table


async def open_draft(pilot, app, external_id: str) -> DraftScreen:
    table = await open_queue(pilot, app)
    index = next(i for i, row in enumerate(table_rows(table)) if row[2] == external_id)
    table.move_cursor(index)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DraftScreen))
    screen = app.screen
    lines = screen.query_one("#draft-lines", LazyTable)
    await wait_for(pilot, lambda: loaded(lines))
    return screen


def stock(product) -> int:
    return sum(b.qty for b in Balance.select().where(Balance.product == product))


def notified(app, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


# ------------------------------------------------------------------------ the queue


async def test_queue_lists_drafts_oldest_first_with_kind_till_author_lines_total(shop):
    app = drafts_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app)
        rows = table_rows(table)
        assert [row[2] for row in rows] == ["T01-D-17", "T02-D-4", "T01-D-18", "T02-B-9"]
        invoice = rows[0]
        assert invoice[0] == "?"  # a line not matched to goods
        assert invoice[3:7] == ("Incoming", "T01", "C01", "2")
        assert invoice[7] == "969.60"  # 24 x 31.20 + 12 x 18.40
        assert rows[3][3] == "Order"
        title = app.screen.query_one("#drafts-count")
        await wait_for(pilot, lambda: "4" in str(title.render()))


async def test_approve_from_the_queue_after_confirmation(shop):
    app = drafts_app(shop)
    before = stock(shop["kefir"])
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app)
        table.move_cursor(2)  # the write-off
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmModal)
        assert "T01-D-18" in app.screen.message
        await pilot.press("n")  # backing out changes nothing
        assert Document.get_by_id(shop["writeoff"].id).state == "draft"
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: Document.get_by_id(shop["writeoff"].id).state == "posted")
        await wait_for(pilot, lambda: table.row_count == 3)
    doc = Document.get_by_id(shop["writeoff"].id)
    assert doc.posted_by == "M01" and doc.posted_at is not None
    assert stock(shop["kefir"]) == before - 2000


# ------------------------------------------------------------------------ one draft


async def test_invoice_shows_supplier_invoice_cost_expiry_and_marks_unmatched(shop):
    app = drafts_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_draft(pilot, app, "T01-D-17")
        head = screen.query_one("#draft-head")
        await wait_for(pilot, lambda: "INV-5561" in str(head.render()))
        text = str(head.render())
        assert "SUP7 Dairy Valley LLC" in text
        assert "12/3/26" in text  # the invoice date, in the locale's style
        assert "one box dented" in text
        assert "1 lines not matched" in text
        headings = [c.label for c in screen.query_one("#draft-lines", LazyTable).columns]
        assert headings[3:] == ["Qty", "Cost", "Sum", "Expiry", "Certificate"]
        rows = table_rows(screen.query_one("#draft-lines", LazyTable))
        assert rows[0][1:7] == ("A1001", "Milk 3.2% 1 l", "24", "31.20", "748.80", "3/1/27")
        assert rows[1][0] == "?" and rows[1][2] == "not matched: UNKNOWN"


async def test_inventory_shows_book_counted_and_difference(shop):
    app = drafts_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_draft(pilot, app, "T02-D-4")
        rows = table_rows(screen.query_one("#draft-lines", LazyTable))
        assert rows[0][1:] == ("A1001", "Milk 3.2% 1 l", "50", "48", "-2")
        assert rows[1][1:] == ("A1002", "Kefir 1% 1 l", "30", "31", "+1")


async def test_edit_quantity_and_price_then_approve(shop):
    app = drafts_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_draft(pilot, app, "T02-B-9")
        lines = screen.query_one("#draft-lines", LazyTable)
        await pilot.press("e")
        assert isinstance(app.screen, EditValueModal)
        field = app.screen.query_one(Input)
        field.value = "abc"
        await pilot.press("enter")
        assert isinstance(app.screen, EditValueModal)  # a typo stays in the dialog
        assert "Enter a quantity" in str(app.screen.query_one("#error").render())
        field.value = "5"
        await pilot.press("enter")
        line = DocumentLine.get(DocumentLine.document == shop["order"].id)
        await wait_for(pilot, lambda: DocumentLine.get_by_id(line.id).qty == 5000)
        await pilot.press("p")
        app.screen.query_one(Input).value = "79,90"
        await pilot.press("enter")
        await wait_for(pilot, lambda: DocumentLine.get_by_id(line.id).price == 7990)
        await wait_for(pilot, lambda: table_rows(lines)[0][3:] == ("5", "79.90", "399.50"))
        assert Document.get_by_id(shop["order"].id).total == 39950
        assert Document.get_by_id(shop["order"].id).edited_by == app.operator.code
        # Accepting a customer order commits the shop to it; stock moves when it is sold.
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: Document.get_by_id(shop["order"].id).state == "posted")
        assert not StockMove.select().where(StockMove.document == shop["order"].id).exists()


async def test_edit_count_then_approve_posts_the_difference(shop):
    app = drafts_app(shop)
    before = stock(shop["milk"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_draft(pilot, app, "T02-D-4")
        await pilot.press("e")
        app.screen.query_one(Input).value = "45"
        await pilot.press("enter")
        lines = screen.query_one("#draft-lines", LazyTable)
        await wait_for(pilot, lambda: table_rows(lines)[0][3:] == ("50", "45", "-5"))
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, DraftsScreen))
    doc = Document.get_by_id(shop["count"].id)
    assert (doc.state, doc.posted_by) == ("posted", "M01")
    assert stock(shop["milk"]) == before - 5000


async def test_reject_with_a_reason(shop):
    app = drafts_app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await open_draft(pilot, app, "T01-D-18")
        await pilot.press("r")
        assert isinstance(app.screen, ReasonModal)
        await pilot.press("enter")  # no reason: not accepted
        assert isinstance(app.screen, ReasonModal)
        assert "A reason is required" in str(app.screen.query_one("#error").render())
        app.screen.query_one(Input).value = "counted twice"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DraftsScreen))
        await wait_for(pilot, lambda: Document.get_by_id(shop["writeoff"].id).state == "rejected")
    doc = Document.get_by_id(shop["writeoff"].id)
    assert (doc.rejected_by, doc.reject_reason) == ("M01", "counted twice")
    assert doc.rejected_at is not None


async def test_map_an_unmatched_line_then_approve(shop):
    app = make_app(shop["data_dir"], "A01", start_mode="drafts")
    before = stock(shop["kefir"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_draft(pilot, app, "T01-D-17")
        lines = screen.query_one("#draft-lines", LazyTable)
        await pilot.press("a", "y")  # an unmatched line may not be posted
        await wait_for(pilot, lambda: notified(app, "not matched"))
        assert Document.get_by_id(shop["invoice"].id).state == "draft"
        lines.move_cursor(1)
        await pilot.press("m")
        assert isinstance(app.screen, GoodsPickerModal)
        app.screen.query_one(Input).value = "kefir"
        await pilot.press("enter")
        picker = app.screen.query_one("#picker-table", LazyTable)
        await wait_for(pilot, lambda: picker.row_count == 1 and loaded(picker))
        assert table_rows(picker)[0][:2] == ("A1002", "Kefir 1% 1 l")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table_rows(lines)[1][1] == "A1002")
        assert Document.get_by_id(shop["invoice"].id).unmatched == 0
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: isinstance(app.screen, DraftsScreen))
    doc = Document.get_by_id(shop["invoice"].id)
    assert (doc.state, doc.posted_by) == ("posted", "A01")
    assert stock(shop["kefir"]) == before + 12000


@pytest.mark.parametrize("key", ["a", "r"])
async def test_a_cashier_is_refused_before_any_dialog(shop, key):
    app = drafts_app(shop, operator="C01")
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot, app)
        await pilot.press(key)
        await pilot.pause(0.1)
        assert isinstance(app.screen, DraftsScreen)
        assert notified(app, "only a manager or an admin")
    assert Document.select().where(Document.state == "draft").count() == 4


async def test_a_cashier_may_not_edit_or_map(shop):
    app = drafts_app(shop, operator="C01")
    async with app.run_test(size=SIZE) as pilot:
        await open_draft(pilot, app, "T01-D-17")
        for key in ("e", "p", "m"):
            await pilot.press(key)
            await pilot.pause(0.05)
            assert isinstance(app.screen, DraftScreen)
        assert sum("only a manager or an admin" in n.message for n in app._notifications) == 3


def test_typed_numbers_follow_the_operators_habits():
    assert parse_quantity_text("1,5") == 1500
    assert parse_quantity_text(" 12 ") == 12000
    assert parse_money_text("1 234,50") == 123450
    with pytest.raises(ValueError):
        parse_quantity_text("1.2345")
    with pytest.raises(ValueError):
        parse_money_text("-3")
