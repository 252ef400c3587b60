"""Posting and cancelling every kind of document, FEFO, counts, negative stock."""

from __future__ import annotations

import datetime as dt

import pytest

from models.check import check_books
from models.documents import CANCELLED, DRAFT, POSTED, REJECTED, Document, DocumentLine
from models.errors import DocumentStateError, NegativeStockError
from models.ledger import Balance, Batch, StockMove
from models.posting import (
    DocumentInput,
    LineInput,
    cancel_document,
    create_documents,
    map_line,
    post_document,
    reject_draft,
    set_supplier,
    update_draft_line,
)
from tests import factories as f
from tests.helpers import stock


@pytest.fixture
def shop(books):
    s1 = f.store("S01")
    s2 = f.store("S02")
    milk = f.product("A1001", "Milk", at=s1)
    cheese = f.product("A3005", "Cheese", weighed=True, at=s1)
    f.manager()
    return s1, s2, milk, cheese


def test_incoming_creates_batches_and_cost(shop):
    s1, _s2, milk, cheese = shop
    d = f.doc(
        "incoming", s1, [(milk, "24", "31.20", dt.date(2027, 3, 1)), (cheese, "5.250", "300.00")]
    )
    assert d.state == DRAFT and stock(s1, milk) == (0, 0)
    post_document(d.id, "M01")
    assert stock(s1, milk) == (24000, 74880)
    assert stock(s1, cheese) == (5250, 157500)
    batch = Batch.get(Batch.product == milk)
    assert batch.cost == 3120 and batch.expiry == dt.date(2027, 3, 1)
    d = type(d).get_by_id(d.id)
    assert d.state == POSTED and d.posted_by == "M01" and d.posted_at is not None
    assert check_books() == []


def test_sale_takes_earliest_expiry_first(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "10", "30.00", dt.date(2027, 5, 1))], post=True)
    f.doc("incoming", s1, [(milk, "10", "32.00", dt.date(2027, 1, 1))], post=True)
    f.doc("incoming", s1, [(milk, "10", "34.00")], post=True)  # no expiry: last
    sale = f.doc("sale", s1, [(milk, "12", "49.90")], post=True)
    early, late, undated = Batch.select().order_by(Batch.id)
    moves = {m.batch_id: m.qty for m in StockMove.select().where(StockMove.document == sale)}
    assert moves == {late.id: -10000, early.id: -2000}
    line = DocumentLine.get(DocumentLine.document == sale)
    assert line.cost == 10 * 3200 + 2 * 3000  # cost of the batches actually taken
    assert undated.id not in moves
    assert check_books() == []


def test_fefo_then_oldest_received(shop):
    s1, _s2, milk, _ = shop
    first = f.doc("incoming", s1, [(milk, "5", "10.00")], post=True, date=dt.datetime(2026, 1, 1))
    f.doc("incoming", s1, [(milk, "5", "20.00")], post=True, date=dt.datetime(2026, 2, 1))
    sale = f.doc("writeoff", s1, [(milk, "3")], post=True, reason="damaged")
    (move,) = StockMove.select().where(StockMove.document == sale)
    assert move.batch.document_id == first.id and move.cost == -3000


def test_partial_batch_cost_is_proportional_and_empties_exactly(shop):
    s1, _s2, _milk, cheese = shop
    f.doc("incoming", s1, [(cheese, "1.000", "333.33")], post=True)
    f.doc("sale", s1, [(cheese, "0.333", "389.00")], post=True)
    f.doc("sale", s1, [(cheese, "0.667", "389.00")], post=True)
    assert stock(s1, cheese) == (0, 0)
    assert check_books() == []


def test_supplier_return_and_writeoff_refused_below_zero(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "2", "30.00")], post=True)
    ret = f.doc("supplier_return", s1, [(milk, "3", "30.00")])
    with pytest.raises(NegativeStockError, match=r"A1001 Milk in S01: needs 3, has 2"):
        post_document(ret.id, "M01")
    assert type(ret).get_by_id(ret.id).state == DRAFT
    assert stock(s1, milk) == (2000, 6000)
    wo = f.doc("writeoff", s1, [(milk, "2")], reason="expired")
    post_document(wo.id, "M01")
    assert stock(s1, milk) == (0, 0)


def test_store_setting_allows_negative(books):
    s1 = f.store("S01", allow_negative=True)
    milk = f.product("A1001", at=s1)
    f.doc("incoming", s1, [(milk, "1", "10.00")], post=True)
    f.doc("writeoff", s1, [(milk, "3")], post=True, reason="lost")
    assert stock(s1, milk) == (-2000, -2000)
    assert check_books() == []


def test_sale_always_posts_and_shows_negative(shop):
    s1, _s2, milk, _ = shop
    f.doc("sale", s1, [(milk, "2", "49.90")], post=True)
    assert stock(s1, milk)[0] == -2000
    batch = Batch.get(Batch.product == milk)
    assert batch.origin == "negative"
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    assert stock(s1, milk)[0] == 3000
    assert check_books() == []


def test_transfer_moves_batches_at_cost(shop):
    s1, s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "10", "30.00", dt.date(2027, 1, 1))], post=True)
    t = f.doc("transfer", s1, [(milk, "4")], to_store_id=s2.id)
    post_document(t.id, "M01")
    assert stock(s1, milk) == (6000, 18000)
    assert stock(s2, milk) == (4000, 12000)
    b1 = Balance.get((Balance.store == s2) & (Balance.product == milk))
    assert b1.batch.expiry == dt.date(2027, 1, 1)
    cancel_document(t.id, "M01", "wrong store")
    assert stock(s1, milk) == (10000, 30000) and stock(s2, milk) == (0, 0)
    assert check_books() == []


def test_transfer_needs_receiving_store(shop):
    s1, _s2, milk, _ = shop
    t = f.doc("transfer", s1, [(milk, "1")])
    with pytest.raises(DocumentStateError, match="no receiving store"):
        post_document(t.id, "M01")


def test_inventory_surplus_and_shortage(shop):
    s1, _s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "10", "30.00"), (cheese, "2.000", "300.00")], post=True)
    count = f.doc("inventory", s1, [(milk, "12"), (cheese, "1.500")])
    post_document(count.id, "M01")
    assert stock(s1, milk) == (12000, 36000)  # surplus valued at the newest batch's cost
    assert stock(s1, cheese) == (1500, 45000)
    lines = {
        ln.product_id: ln for ln in DocumentLine.select().where(DocumentLine.document == count)
    }
    assert lines[milk.id].book_qty == 10000 and lines[milk.id].cost == 6000
    assert lines[cheese.id].book_qty == 2000 and lines[cheese.id].cost == -15000
    cancel_document(count.id, "M01", "recount")
    assert stock(s1, milk) == (10000, 30000)
    assert check_books() == []


def test_inventory_counts_only_the_goods_listed(shop):
    s1, _s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "10", "30.00"), (cheese, "2.000", "300.00")], post=True)
    f.doc("inventory", s1, [(milk, "10")], post=True)
    assert stock(s1, cheese)[0] == 2000


def test_return_goes_back_to_a_batch(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    f.doc("sale", s1, [(milk, "2", "49.90")], post=True)
    f.doc("return", s1, [(milk, "1", "49.90")], post=True)
    assert stock(s1, milk) == (4000, 12000)
    assert check_books() == []


@pytest.mark.parametrize("kind", ["incoming", "supplier_return", "writeoff", "sale", "return"])
def test_cancel_reverses_every_kind(shop, kind):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "10", "30.00")], post=True)
    before = stock(s1, milk)
    d = f.doc(kind, s1, [(milk, "3", "30.00")], post=True, reason="damaged")
    assert stock(s1, milk) != before
    cancel_document(d.id, "M01", "typo")
    assert stock(s1, milk) == before
    d = type(d).get_by_id(d.id)
    assert d.state == CANCELLED and d.cancelled_by == "M01" and d.cancel_reason == "typo"
    assert check_books() == []


def test_cancel_incoming_already_sold_is_refused(shop):
    s1, _s2, milk, _ = shop
    inc = f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    f.doc("sale", s1, [(milk, "4", "49.90")], post=True)
    with pytest.raises(NegativeStockError, match="A1001"):
        cancel_document(inc.id, "M01", "wrong invoice")


def test_posted_document_cannot_be_posted_again_or_rejected(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("incoming", s1, [(milk, "1", "1.00")], post=True)
    with pytest.raises(DocumentStateError, match="only a draft can be posted"):
        post_document(d.id, "M01")
    with pytest.raises(DocumentStateError, match="only a draft can be rejected"):
        reject_draft(d.id, "M01", "no")
    with pytest.raises(DocumentStateError, match="only a posted one can be cancelled"):
        cancel_document(f.doc("incoming", s1, [(milk, "1", "1.00")]).id, "M01", "x")


def test_reject_keeps_reason(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("writeoff", s1, [(milk, "1")], reason="lost")
    reject_draft(d.id, "M01", "not lost, found on shelf 4")
    d = type(d).get_by_id(d.id)
    assert d.state == REJECTED and d.reject_reason == "not lost, found on shelf 4"
    assert StockMove.select().count() == 0


def test_unmatched_sale_line_is_kept_and_posts_when_mapped(shop):
    s1, _s2, milk, _ = shop
    sale = f.doc("sale", s1, [(milk, "1", "49.90"), (None, "2", "10.00")], post=True)
    assert sale.state == POSTED and sale.unmatched == 1
    stray = DocumentLine.get((DocumentLine.document == sale) & DocumentLine.unmatched)
    assert stray.product_code == "UNKNOWN" and stray.qty == 2000
    assert StockMove.select().where(StockMove.line == stray).count() == 0
    map_line(stray.id, milk.id, "M01")
    assert StockMove.select().where(StockMove.line == stray).count() == 1
    assert stock(s1, milk)[0] == -3000
    assert type(sale).get_by_id(sale.id).unmatched == 0
    assert check_books() == []


def test_operator_draft_with_unmatched_line_waits_for_mapping(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("incoming", s1, [(None, "2", "10.00")])
    with pytest.raises(DocumentStateError, match="not matched"):
        post_document(d.id, "M01")
    stray = DocumentLine.get(DocumentLine.document == d)
    map_line(stray.id, milk.id, "M01")
    post_document(d.id, "M01")
    assert stock(s1, milk) == (2000, 2000)


def test_check_names_a_tampered_balance(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    Balance.update(qty=Balance.qty + 1).execute()
    problems = check_books()
    assert len(problems) == 1 and problems[0].code == "balance"


def test_draft_naming_an_unknown_supplier_waits_for_it(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("incoming", s1, [(milk, "2", "10.00")], supplier_code="SUP9")
    with pytest.raises(DocumentStateError, match="supplier SUP9"):
        post_document(d.id, "M01")
    f.supplier("SUP9")
    post_document(d.id, "M01")
    d = type(d).get_by_id(d.id)
    assert d.state == POSTED and d.supplier.code == "SUP9"


def test_operator_chooses_another_supplier(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("incoming", s1, [(milk, "2", "10.00")], supplier_code="NOPE")
    set_supplier(d.id, f.supplier("SUP7").id)
    post_document(d.id, "M01")
    assert type(d).get_by_id(d.id).supplier.code == "SUP7"


def test_accepting_a_customer_order_moves_no_stock(shop):
    s1, _s2, milk, _ = shop
    order = f.doc("order", s1, [(milk, "3", "49.90")])
    post_document(order.id, "M01")
    order = type(order).get_by_id(order.id)
    assert order.state == POSTED and order.posted_by == "M01"
    assert StockMove.select().count() == 0
    assert check_books() == []


def test_editing_a_draft_stamps_the_editor(shop):
    s1, _s2, milk, _ = shop
    d = f.doc("incoming", s1, [(milk, "2", "10.00")])
    line = DocumentLine.get(DocumentLine.document == d)
    update_draft_line(line.id, qty=3000, by="M01")
    d = type(d).get_by_id(d.id)
    assert d.edited_by == "M01" and d.edited_at is not None and d.total == 3000


def _receipt(kind, store, lines, receipt_id, return_of=""):
    """A till's receipt of (goods, thousandths) lines, as the importer hands it over."""
    return DocumentInput(
        kind=kind,
        store_id=store.id,
        till="T01",
        external_id=receipt_id,
        return_of=return_of,
        lines=[LineInput(product_id=p.id, qty=q, price=4990) for p, q in lines],
    )


def test_return_goes_back_to_the_sold_batches_at_their_cost(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "2", "30.00", dt.date(2027, 1, 1))], post=True)
    f.doc("incoming", s1, [(milk, "5", "40.00", dt.date(2027, 6, 1))], post=True)
    before = stock(s1, milk)
    create_documents([_receipt("sale", s1, [(milk, 3000)], "T01-1-1")], post_by="T01")
    ret = _receipt("return", s1, [(milk, 3000)], "T01-1-2", return_of="T01-1-1")
    create_documents([ret], post_by="T01")  # the sale took 2 at 30.00 and 1 at 40.00
    assert stock(s1, milk) == before
    by_batch = {b.batch.cost: b.qty for b in Balance.select().where(Balance.product == milk)}
    assert by_batch == {3000: 2000, 4000: 5000}
    assert check_books() == []


def test_partial_returns_of_one_receipt_never_return_more_than_it_took(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "1", "30.00", dt.date(2027, 1, 1))], post=True)
    f.doc("incoming", s1, [(milk, "5", "40.00", dt.date(2027, 6, 1))], post=True)
    sale = _receipt("sale", s1, [(milk, 2000)], "T01-1-1")
    first = _receipt("return", s1, [(milk, 1000)], "T01-1-2", return_of="T01-1-1")
    create_documents([sale, first], post_by="T01")  # the sale and a return in one file
    second = _receipt("return", s1, [(milk, 1000)], "T01-1-3", return_of="T01-1-1")
    create_documents([second], post_by="T01")
    assert stock(s1, milk) == (6000, 3000 + 5 * 4000)
    lines = (
        DocumentLine.select().join(Document).where(Document.external_id.in_(["T01-1-2", "T01-1-3"]))
    )
    assert sorted(line.cost for line in lines) == [3000, 4000]
    assert check_books() == []


def test_check_names_moves_of_a_draft_and_goods_that_differ_from_the_batch(shop):
    s1, _s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    draft = f.doc("writeoff", s1, [(milk, "1")], reason="lost")
    batch = Batch.get(Batch.product == milk)
    StockMove.create(document=draft, store=s1, product=milk, batch=batch, qty=0, cost=0)
    StockMove.create(document=draft, store=s1, product=cheese, batch=batch, qty=0, cost=0)
    codes = sorted(p.code for p in check_books())
    assert codes == ["move", "stray"]


def test_goods_sold_ahead_of_their_receipt_are_settled_when_they_arrive(shop):
    s1, _s2, milk, _ = shop
    f.doc("sale", s1, [(milk, "2", "49.90")], post=True)  # no stock at all yet
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    assert stock(s1, milk) == (3000, 9000)  # what is on the shelf, at what it cost
    rows = {
        b.batch.origin: (b.qty, b.cost) for b in Balance.select().where(Balance.product == milk)
    }
    assert rows == {"negative": (0, 0), "": (3000, 9000)}
    assert check_books() == []


def test_a_batch_sold_past_zero_is_settled_by_the_next_receipt(books):
    s1 = f.store("S01", allow_negative=True)
    milk = f.product("A1001", "Milk", at=s1)
    old = f.doc("incoming", s1, [(milk, "5", "20.00")], post=True)
    f.doc("sale", s1, [(milk, "7", "49.90")], post=True)
    assert stock(s1, milk) == (-2000, -4000)
    new = f.doc("incoming", s1, [(milk, "10", "30.00")], post=True)
    assert stock(s1, milk) == (8000, 24000)
    by_doc = {
        b.batch.document_id: (b.qty, b.cost)
        for b in Balance.select().where(Balance.product == milk)
    }
    assert by_doc == {old.id: (0, 0), new.id: (8000, 24000)}
    cancel_document(new.id, "M01", "wrong invoice")  # the shortfall comes back
    assert stock(s1, milk) == (-2000, -4000)
    assert check_books() == []


def test_cancelling_a_receipt_that_settled_a_shortfall_is_refused_without_negative_stock(shop):
    s1, _s2, milk, _ = shop
    f.doc("sale", s1, [(milk, "2", "49.90")], post=True)
    incoming = f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    with pytest.raises(NegativeStockError, match="A1001"):
        cancel_document(incoming.id, "M01", "wrong invoice")
    assert stock(s1, milk) == (3000, 9000)


def test_goods_arriving_by_transfer_settle_a_shortfall_there(shop):
    s1, s2, milk, _ = shop
    f.doc("sale", s2, [(milk, "1", "49.90")], post=True)  # S02 sold what it did not have
    f.doc("incoming", s1, [(milk, "4", "30.00")], post=True)
    f.doc("transfer", s1, [(milk, "3")], post=True, to_store_id=s2.id)
    assert stock(s2, milk) == (2000, 6000)
    assert stock(s1, milk) == (1000, 3000)
    assert check_books() == []
