"""The books on PostgreSQL: posting, checks, bulk writes, imports and queries.

SQLite is what the other tests use; these run the same engine against the
PostgreSQL named by IIS_TEST_DATABASE_URL, where types, sequences, locking and
LIKE differ. Without that variable, or with no server answering, every test
here is skipped with the reason.

    IIS_TEST_DATABASE_URL=postgresql://iis:iis@127.0.0.1:5432/iis_test pytest tests/test_postgres.py
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import Database

from models.bulk import IdPool, allocate_ids, insert_rows, update_rows, upsert_rows
from models.catalog import Barcode, Price, Product
from models.check import check_books
from models.db import database, is_postgres, write_transaction
from models.documents import CANCELLED, DRAFT, POSTED, Document, DocumentLine
from models.errors import DocumentStateError, NegativeStockError, NotFoundError
from models.imports import import_catalog
from models.journal import (
    JournalFilter,
    count_documents,
    document_lines,
    document_rows,
    find_document,
)
from models.ledger import Balance, Batch, StockMove
from models.posting import (
    DocumentInput,
    LineInput,
    cancel_document,
    create_documents,
    map_line,
    post_document,
)
from models.stock import StockFilter, batch_rows, count_stock, product_moves, stock_page
from tests import factories as f
from tests.helpers import play_posts_and_cancels, stock

pytestmark = pytest.mark.usefixtures("postgres_books")


PRODUCT_COLUMNS = (
    "id",
    "code",
    "name",
    "unit",
    "weighed",
    "vat",
    "excise",
    "age_limit",
    "expiry_control",
    "deleted",
    "updated",
)
STAMP = dt.datetime(2026, 1, 2, 3, 4, 5, 678000)


def product_row(row_id: int, code: str, weighed=False, excise=False, stamp=STAMP) -> tuple:
    """A full product row for the raw bulk helpers (they apply no Python defaults)."""
    return (row_id, code, f"Goods {code}", "pcs", weighed, "20", excise, 0, False, False, stamp)


@pytest.fixture
def shop():
    s1 = f.store("S01")
    s2 = f.store("S02")
    milk = f.product("A1001", "Milk", at=s1, barcode="4601234567893")
    cheese = f.product("A3005", "Cheese", weighed=True, at=s1)
    f.manager()
    return s1, s2, milk, cheese


def test_the_books_are_on_postgres():
    assert is_postgres()


# --------------------------------------------------------------------------- posting


def test_incoming_posts_batches_with_dates(shop):
    s1, _s2, milk, cheese = shop
    date = dt.datetime(2026, 3, 1, 9, 30, 15, 250000)
    d = f.doc(
        "incoming",
        s1,
        [(milk, "24", "31.20", dt.date(2027, 3, 1)), (cheese, "5.250", "300.00")],
        date=date,
    )
    assert d.state == DRAFT
    post_document(d.id, "M01")
    assert stock(s1, milk) == (24000, 74880)
    assert stock(s1, cheese) == (5250, 157500)
    batch = Batch.get(Batch.product == milk)
    assert (batch.cost, batch.expiry, batch.received) == (3120, dt.date(2027, 3, 1), date)
    d = Document.get_by_id(d.id)
    assert d.state == POSTED and d.date == date and isinstance(d.posted_at, dt.datetime)
    assert check_books() == []


@pytest.mark.parametrize(
    "kind", ["incoming", "sale", "return", "writeoff", "supplier_return", "transfer", "inventory"]
)
def test_post_and_cancel_every_kind(shop, kind):
    s1, s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "10", "30.00"), (cheese, "2.000", "300.00")], post=True)
    before = (stock(s1, milk), stock(s1, cheese), stock(s2, milk))
    extra = {"to_store_id": s2.id} if kind == "transfer" else {}
    d = f.doc(kind, s1, [(milk, "3", "30.00"), (cheese, "1.500", "300.00")], **extra)
    post_document(d.id, "M01")
    assert (stock(s1, milk), stock(s1, cheese), stock(s2, milk)) != before
    assert check_books() == []
    cancel_document(d.id, "M01", "typo")
    assert (stock(s1, milk), stock(s1, cheese), stock(s2, milk)) == before
    d = Document.get_by_id(d.id)
    assert d.state == CANCELLED and d.cancel_reason == "typo"
    assert check_books() == []


def test_sale_takes_earliest_expiry_first(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "10", "30.00", dt.date(2027, 5, 1))], post=True)
    f.doc("incoming", s1, [(milk, "10", "32.00", dt.date(2027, 1, 1))], post=True)
    f.doc("incoming", s1, [(milk, "10", "34.00")], post=True)
    sale = f.doc("sale", s1, [(milk, "12", "49.90")], post=True)
    early, late, undated = Batch.select().order_by(Batch.id)
    moves = {m.batch_id: m.qty for m in StockMove.select().where(StockMove.document == sale)}
    assert moves == {late.id: -10000, early.id: -2000}
    assert undated.id not in moves
    line = DocumentLine.get(DocumentLine.document == sale)
    assert line.cost == 10 * 3200 + 2 * 3000
    assert check_books() == []


def test_fefo_then_oldest_received(shop):
    s1, _s2, milk, _ = shop
    first = f.doc("incoming", s1, [(milk, "5", "10.00")], post=True, date=dt.datetime(2026, 1, 1))
    f.doc("incoming", s1, [(milk, "5", "20.00")], post=True, date=dt.datetime(2026, 2, 1))
    wo = f.doc("writeoff", s1, [(milk, "3")], post=True, reason="damaged")
    (move,) = StockMove.select().where(StockMove.document == wo)
    assert move.batch.document_id == first.id and move.cost == -3000


def test_inventory_surplus_and_shortage(shop):
    s1, _s2, milk, cheese = shop
    f.doc("incoming", s1, [(milk, "10", "30.00"), (cheese, "2.000", "300.00")], post=True)
    count = f.doc("inventory", s1, [(milk, "12"), (cheese, "1.500")])
    post_document(count.id, "M01")
    assert stock(s1, milk) == (12000, 36000)
    assert stock(s1, cheese) == (1500, 45000)
    lines = {
        ln.product_id: ln for ln in DocumentLine.select().where(DocumentLine.document == count)
    }
    assert lines[milk.id].book_qty == 10000 and lines[milk.id].cost == 6000
    assert lines[cheese.id].book_qty == 2000 and lines[cheese.id].cost == -15000
    assert check_books() == []


def test_negative_stock_is_refused_for_operator_documents(shop):
    s1, _s2, milk, _ = shop
    inc = f.doc("incoming", s1, [(milk, "2", "30.00")], post=True)
    ret = f.doc("supplier_return", s1, [(milk, "3", "30.00")])
    with pytest.raises(NegativeStockError, match=r"A1001 Milk in S01: needs 3, has 2"):
        post_document(ret.id, "M01")
    assert Document.get_by_id(ret.id).state == DRAFT
    assert stock(s1, milk) == (2000, 6000)
    f.doc("sale", s1, [(milk, "1", "49.90")], post=True)
    with pytest.raises(NegativeStockError, match="A1001"):
        cancel_document(inc.id, "M01", "wrong invoice")
    # The refused transaction was rolled back and the connection is usable.
    assert stock(s1, milk) == (1000, 3000)
    assert check_books() == []


def test_sales_post_below_zero_and_allowing_stores_too(books):
    s1 = f.store("S01", allow_negative=True)
    milk = f.product("A1001", at=s1)
    f.doc("incoming", s1, [(milk, "1", "10.00")], post=True)
    f.doc("writeoff", s1, [(milk, "3")], post=True, reason="lost")
    assert stock(s1, milk) == (-2000, -2000)
    s2 = f.store("S02")
    bread = f.product("B1", at=s2)
    f.doc("sale", s2, [(bread, "2", "49.90")], post=True)
    assert stock(s2, bread)[0] == -2000
    assert Batch.get(Batch.product == bread).origin == "negative"
    assert check_books() == []


def test_unmatched_line_posts_when_mapped(shop):
    s1, _s2, milk, _ = shop
    sale = f.doc("sale", s1, [(milk, "1", "49.90"), (None, "2", "10.00")], post=True)
    stray = DocumentLine.get((DocumentLine.document == sale) & DocumentLine.unmatched)
    map_line(stray.id, milk.id, "M01")
    assert stock(s1, milk)[0] == -3000
    assert Document.get_by_id(sale.id).unmatched == 0
    with pytest.raises(DocumentStateError, match="already posted"):
        map_line(stray.id, milk.id, "M01")
    assert check_books() == []


def test_check_names_every_kind_of_problem(shop):
    s1, _s2, milk, _ = shop
    f.doc("incoming", s1, [(milk, "5", "30.00")], post=True)
    d = f.doc("writeoff", s1, [(milk, "1")], post=True, reason="x")
    cancel_document(d.id, "M01", "typo")
    Balance.update(qty=Balance.qty + 1).execute()
    StockMove.delete().where(
        (StockMove.document == d) & (StockMove.qty > 0)
    ).execute()  # half of a reversal
    codes = sorted(p.code for p in check_books())
    assert codes == ["balance", "cancel"]


def test_concurrent_posting_keeps_every_balance():
    """Writers in several threads (connections) take turns: no balance update is lost."""
    s1 = f.store("S01")
    milk = f.product("A1", at=s1)
    f.doc("incoming", s1, [(milk, "1000", "1.00")], post=True)
    errors: list[BaseException] = []

    def till(n: int) -> None:
        try:
            for i in range(15):
                create_documents(
                    [
                        DocumentInput(
                            kind="sale",
                            store_id=s1.id,
                            lines=[LineInput(product_id=milk.id, qty=1000, price=100)],
                            till=f"T{n}",
                            external_id=f"T{n}-{i}",
                        )
                    ],
                    post_by=f"T{n}",
                )
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            database.close()

    threads = [threading.Thread(target=till, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stock(s1, milk) == (1_000_000 - 60_000, 100_000 - 6_000)
    assert check_books() == []


# --------------------------------------------------------------------------- bulk helpers


def test_allocate_ids_stays_ahead_of_explicit_ids(books):
    store = f.store("S01")
    Product.create(id=40, code="X40", name="Explicit")
    with write_transaction():
        ids = allocate_ids(Product, 3)
        assert ids == [41, 42, 43]
        insert_rows(Product, PRODUCT_COLUMNS, [product_row(i, f"N{i}") for i in ids])
    assert Product.create(code="AUTO", name="Auto").id == 44
    insert_rows(
        Batch,
        ("id", "product_id", "received", "cost", "certificate", "origin"),
        [(500, 40, STAMP, 100, "", "")],
    )
    f.doc("incoming", store, [(Product.get_by_id(41), "1", "1.00")], post=True)
    assert Batch.select(Batch.id).order_by(Batch.id.desc()).scalar() == 501
    with write_transaction():
        assert allocate_ids(Product, 0) == []
        assert allocate_ids(Product, 2) == [45, 46]
    assert check_books() == []


def test_id_pool_refills_from_the_sequence(books):
    with write_transaction():
        pool = IdPool(Product, 2)
        taken = [pool.take() for _ in range(20)]
        insert_rows(Product, PRODUCT_COLUMNS, [product_row(i, f"P{i}") for i in taken])
    assert len(set(taken)) == 20 and taken[:2] == [1, 2] and taken == sorted(taken)
    assert Product.create(code="AUTO", name="Auto").id > taken[-1]


def test_bulk_writes_convert_booleans_and_times(books):
    store = f.store("S01")
    with write_transaction():
        insert_rows(
            Product,
            PRODUCT_COLUMNS,
            [
                product_row(1, "P1", weighed=1, excise=0),
                product_row(2, "P2", weighed=True, stamp="2026-01-02"),
            ],
        )
    one, two = Product.select().order_by(Product.code)
    assert (one.weighed, one.excise, one.deleted, one.updated) == (True, False, False, STAMP)
    assert two.weighed is True and two.updated == dt.datetime(2026, 1, 2)
    with write_transaction():
        update_rows(Product, ("weighed", "name"), [(one.id, 0, "One*"), (two.id, 0, "Two*")])
        upsert_rows(
            Price,
            ("store_id", "product_id", "price", "updated"),
            ("store_id", "product_id"),
            ("price", "updated"),
            [(store.id, one.id, 100, STAMP), (store.id, two.id, 200, STAMP)],
        )
        upsert_rows(
            Price,
            ("store_id", "product_id", "price", "updated"),
            ("store_id", "product_id"),
            ("price", "updated"),
            [(store.id, one.id, 150, STAMP)],
        )
    assert [(p.name, p.weighed) for p in Product.select().order_by(Product.code)] == [
        ("One*", False),
        ("Two*", False),
    ]
    prices = dict(Price.select(Price.product_id, Price.price).tuples())
    assert prices == {one.id: 150, two.id: 200}


def test_import_catalog_creates_and_updates(books):
    store = f.store("S01")
    header = "code,name,group,unit,price,vat,barcodes,weighed,plu"
    first = [
        header,
        "A1,Milk,Food/Dairy,pcs,49.90,10,4601234567893,no,",
        "A2,Cheese,Food/Dairy,kg,389.00,10,,yes,101",
        "A3,Beer,Drinks,pcs,89.00,20,12345670,no,",
    ]
    result = import_catalog(first, store)
    assert (result.created, result.refused) == (3, 0)
    cheese = Product.get(Product.code == "A2")
    assert (cheese.weighed, cheese.plu) == (True, 101)
    assert cheese.group.full_name() == "Food/Dairy"
    second = [
        header,
        "A1,Milk 3.2%,Food/Dairy,pcs,51.50,10,4601234567893,no,",
        "A4,New,,pcs,1,20,,,",
    ]
    result = import_catalog(second, store)
    assert (result.created, result.updated, result.refused) == (1, 1, 0)
    assert Product.get(Product.code == "A1").name == "Milk 3.2%"
    assert Barcode.get(Barcode.code == "4601234567893").product.code == "A1"
    prices = dict(Price.select(Product.code, Price.price).join(Product).tuples())
    assert prices == {"A1": 5150, "A2": 38900, "A3": 8900, "A4": 100}


# --------------------------------------------------------------------------- queries


def test_journal_queries(shop):
    s1, s2, milk, _ = shop
    inc = f.doc("incoming", s1, [(milk, "10", "30.00")], post=True, invoice="INV-7")
    f.doc("sale", s1, [(milk, "1", "49.90")], post=True, till="T01", external_id="T01-D-17")
    f.doc("incoming", s2, [(milk, "1", "30.00")])
    rows = document_rows(JournalFilter())
    assert [r["kind"] for r in rows] == ["incoming", "sale", "incoming"]
    assert count_documents(JournalFilter(store=s1)) == 2
    assert count_documents(JournalFilter(search="in-")) == 2  # case-insensitive, as on SQLite
    assert count_documents(JournalFilter(search="inv-7", state=POSTED)) == 1
    assert count_documents(JournalFilter(till="T01", kind="sale")) == 1
    assert count_documents(JournalFilter(search="50%")) == 0  # LIKE wildcards are literal
    assert find_document(str(inc.id)).id == inc.id
    assert find_document(inc.number).id == inc.id
    assert find_document("T01-D-17").kind == "sale"
    with pytest.raises(NotFoundError):
        find_document("46012345678931234567")  # digits beyond any id
    (line,) = document_lines(inc)
    assert line["product"] == "A1001" and line["cost"] == 300


def test_stock_queries(shop):
    s1, _s2, milk, cheese = shop
    f.doc(
        "incoming",
        s1,
        [(milk, "10", "30.00", dt.date(2027, 1, 1)), (milk, "5", "31.00", dt.date(2026, 6, 1))],
        post=True,
    )
    f.doc("incoming", s1, [(cheese, "2.000", "300.00")], post=True)
    f.doc("sale", s1, [(milk, "5", "49.90")], post=True)  # empties the June batch
    assert count_stock(StockFilter(store=s1)) == 2
    assert count_stock(StockFilter(store=s1, search="MILK")) == 1
    assert count_stock(StockFilter(store=s1, search="4601234567893")) == 1
    assert count_stock(StockFilter(store=s1, search="a30")) == 1
    assert count_stock(StockFilter(store=s1, search="100%")) == 0
    page = {row["product"]: row for row in stock_page(StockFilter(store=s1))}
    assert page["A1001"]["quantity"] == 10 and page["A1001"]["value"] == 300
    assert page["A1001"]["earliest_expiry"] == dt.date(2027, 1, 1)
    assert page["A3005"]["earliest_expiry"] is None
    batches = list(batch_rows(s1, [milk.id], with_zero=True))
    assert [b["expiry"] for b in batches] == [dt.date(2026, 6, 1), dt.date(2027, 1, 1)]
    assert [b["quantity"] for b in batches] == [0, 10]
    moves = product_moves(s1, milk.id)
    assert [m["kind"] for m in moves] == ["sale", "incoming", "incoming"]


# --------------------------------------------------------------------------- property


step = st.one_of(
    st.tuples(
        st.just("post"),
        st.sampled_from(
            ["incoming", "incoming", "sale", "return", "writeoff", "transfer", "inventory"]
        ),
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 9000), st.integers(0, 50_000)),
            min_size=1,
            max_size=3,
        ),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.just(None)),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=12), allow_negative=st.booleans())
def test_random_posts_and_cancels_keep_the_books_sound(
    empty_postgres: Callable[[], Database], steps, allow_negative
):
    empty_postgres()
    play_posts_and_cancels(steps, allow_negative, reason="x")
