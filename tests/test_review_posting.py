"""Posting and cancelling at the edges: negative batches, shared goods, orders, checks."""

from __future__ import annotations

import datetime as dt

import pytest

from models.check import check_books
from models.errors import NegativeStockError
from models.ledger import Balance
from models.posting import map_line, post_document, post_documents
from tests import factories as f


def stock(store, product) -> tuple[int, int]:
    rows = Balance.select().where((Balance.store == store) & (Balance.product == product))
    return sum(r.qty for r in rows), sum(r.cost for r in rows)


@pytest.fixture
def shop(books):
    s1 = f.store("S01")
    s2 = f.store("S02")
    milk = f.product("A1001", "Milk", at=s1)
    cheese = f.product("A3005", "Cheese", weighed=True, at=s1)
    f.manager()
    return s1, s2, milk, cheese


@pytest.mark.parametrize("kind", ["writeoff", "supplier_return", "transfer"])
def test_a_negative_batch_counts_against_what_an_operator_may_take(shop, kind) -> None:
    s1, s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "5", "10.00", dt.date(2027, 1, 1))], post=True)
    f.doc("sale", s1, [(milk, "8", "20.00")], post=True)  # a sale ahead of stock: -3
    f.doc("incoming", s1, [(milk, "5", "11.00", dt.date(2027, 3, 1))], post=True)
    assert stock(s1, milk)[0] == 2000

    extra = {"to_store_id": s2.id} if kind == "transfer" else {}
    with pytest.raises(NegativeStockError, match="needs 5, has 2"):
        f.doc(kind, s1, [(milk, "5")], post=True, **extra)

    f.doc(kind, s1, [(milk, "2")], post=True, **extra)
    assert stock(s1, milk)[0] == 0
    assert check_books() == []


def test_mapping_a_line_of_an_accepted_order_moves_no_stock(shop) -> None:
    s1, _s2, milk, _ = shop
    order = f.doc("order", s1, [(None, "2")])
    post_document(order.id, "M01")
    line = order.lines.get()

    map_line(line.id, milk.id, "M01")

    assert type(line).get_by_id(line.id).product_id == milk.id
    assert stock(s1, milk) == (0, 0)
    assert check_books() == []


def test_an_inventory_that_counts_zero_takes_the_book_stock_off(shop) -> None:
    s1, _s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "5", "10.00"), (cheese, "1.250", "300.00")], post=True)

    count = f.doc("inventory", s1, [(milk, "0"), (cheese, "1.250")], post=True)

    assert stock(s1, milk) == (0, 0)
    assert stock(s1, cheese) == (1250, 37500)
    lines = {ln.product_id: ln for ln in count.lines}
    assert lines[milk.id].book_qty == 5000 and lines[milk.id].cost == -5000
    assert check_books() == []


def test_a_draft_named_twice_in_one_approval_posts_once(shop) -> None:
    s1, _s2, milk, _ = shop
    draft = f.doc("incoming", s1, [(milk, "5", "10.00")])

    post_documents([draft.id, draft.id], "M01")

    assert stock(s1, milk) == (5000, 5000)
    assert check_books() == []
