"""What each kind of till file does to the books."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peewee import fn

from exchange.importers import import_parsed
from exchange.shopv2 import parse_file, write_file
from models.catalog import Product
from models.check import check_books
from models.documents import Document, DocumentLine
from models.ledger import Balance, StockMove
from models.org import Till
from models.parties import Customer, Supplier
from models.posting import post_document
from models.till_records import (
    CancelledReceipt,
    CashOperation,
    CustomerPayment,
    ReceiptPayment,
    ShiftReport,
    TillStatus,
)
from tests.test_inbox import SAMPLES, receipt, setup_shop


@pytest.fixture
def till(books: Path) -> Till:
    setup_shop()
    return Till.get(Till.code == "T01")


def load(till: Till, name: str):
    return import_parsed(parse_file((SAMPLES / name).read_bytes()), till)


def shift_record(shift: int, **values) -> dict:
    record = {
        "type": "shift",
        "shift": shift,
        "closed": "2026-12-04T21:00:00+03:00",
        "receipts": 2,
        "returns": 0,
        "sales_total": "99.80",
        "returns_total": "0.00",
        "by_method": {"cash": "99.80"},
    }
    record.update(values)
    return record


def stock(code: str) -> int:
    product = Product.get(Product.code == code)
    return Balance.select(fn.SUM(Balance.qty)).where(Balance.product == product).scalar() or 0


def test_sales_sample_posts_receipts_payments_and_reconciles_the_shift(till: Till) -> None:
    result = load(till, "sales_T01_00000001.jsonl")

    assert result.counts["receipts"] == 5
    assert result.counts["sales"] == 4 and result.counts["returns"] == 1
    receipts = Document.select().where(Document.till == "T01")
    assert (
        sorted((d.kind, d.state) for d in receipts)
        == [("return", "posted")] + [("sale", "posted")] * 4
    )
    ret = Document.get(Document.external_id == "T01-123-43")
    assert ret.return_of == "T01-123-41" and ret.total == 4990
    first = Document.get(Document.external_id == "T01-123-41")
    assert (first.shift, first.card, first.cashier, first.total) == (
        123,
        "2770000012348",
        "C01",
        58605,
    )
    assert first.posted_by == "T01"
    # Stock: A1001 sold 2, returned 1; A3005 1.250 + 0.734 kg; A4001 by its barcode.
    assert stock("A1001") == -1000
    assert stock("A3005") == -1984
    assert stock("A4001") == -1000
    assert StockMove.select().count() == 6
    assert not DocumentLine.select().where(DocumentLine.unmatched == True).exists()  # noqa: E712
    marked = DocumentLine.get(DocumentLine.barcode == "4607012345677")
    assert marked.mark.startswith("22N") and marked.product.code == "A4001"
    weighed = DocumentLine.get(DocumentLine.barcode == "2200005007341")
    assert weighed.product.code == "A3005" and weighed.qty == 734
    payments = {(p.document.external_id, p.method): p.amount for p in ReceiptPayment.select()}
    assert payments[("T01-123-42", "card")] == 9500
    assert len(payments) == 5
    cash = CashOperation.get()
    assert (cash.op, cash.amount, cash.shift) == ("in", 50000, 123)
    paid = CustomerPayment.get()
    assert paid.customer == Customer.get(Customer.code == "K0042") and paid.amount == 150000
    assert CancelledReceipt.get().total == 12000
    report = ShiftReport.get()
    assert (report.receipts, report.returns, report.sales_total) == (4, 1, 156558)
    assert report.reconciled == "ok", report.difference
    assert check_books() == []


def test_sales_sample_twice_posts_nothing_new(till: Till) -> None:
    load(till, "sales_T01_00000001.jsonl")
    result = load(till, "sales_T01_00000001.jsonl")

    assert "receipts" not in result.counts
    assert result.counts["receipts_skipped"] == 5
    assert result.counts.get("cash", 0) == 0 and result.counts["cash_skipped"] == 1
    assert Document.select().count() == 5
    assert CustomerPayment.select().count() == 1
    assert ShiftReport.get().reconciled == "ok"


def test_a_shift_waits_for_its_receipts_then_reconciles(till: Till) -> None:
    first = write_file("sales", "T01", "S01", 1, [receipt("T01-7-1", shift=7), shift_record(7)])
    import_parsed(parse_file(first), till)
    pending = ShiftReport.get()
    assert pending.reconciled == "pending"
    assert "waiting for receipts" in pending.difference

    later = write_file("sales", "T01", "S01", 2, [receipt("T01-7-2", shift=7)])
    import_parsed(parse_file(later), till)

    assert ShiftReport.get().reconciled == "ok"


def test_a_shift_that_disagrees_shows_the_difference(till: Till) -> None:
    data = write_file(
        "sales",
        "T01",
        "S01",
        1,
        [
            receipt("T01-8-1", shift=8),
            shift_record(8, receipts=1, sales_total="59.90", by_method={"cash": "59.90"}),
        ],
    )

    result = import_parsed(parse_file(data), till)

    report = ShiftReport.get()
    assert report.reconciled == "difference"
    assert "sales total: till 59.90, books 49.90 (difference 10.00)" in report.difference
    assert "takings by cash" in report.difference
    assert any("does not agree" in note for note in result.notes)


def test_unknown_goods_on_a_receipt_are_kept_flagged(till: Till) -> None:
    data = write_file("sales", "T01", "S01", 1, [receipt("T01-9-1", product="NOPE")])

    result = import_parsed(parse_file(data), till)

    assert result.counts["unmatched"] == 1
    line = DocumentLine.get()
    assert line.unmatched and line.product_code == "NOPE" and line.product is None
    assert Document.get().state == "posted"
    assert check_books() == []


def test_drafts_sample_becomes_drafts_awaiting_approval(till: Till) -> None:
    result = load(till, "drafts_T01_00000001.jsonl")

    drafts = {d.external_id: d for d in Document.select()}
    assert {d.kind for d in drafts.values()} == {
        "incoming",
        "writeoff",
        "inventory",
        "transfer",
        "supplier_return",
    }
    assert all(d.state == "draft" for d in drafts.values())
    incoming = drafts["T01-D-17"]
    assert incoming.supplier == Supplier.get(Supplier.code == "SUP7")
    assert (incoming.invoice, str(incoming.invoice_date)) == ("INV-5561", "2026-12-03")
    assert incoming.unmatched == 1
    unknown = DocumentLine.get(DocumentLine.barcode == "4601234500012")
    assert unknown.unmatched and unknown.product is None and unknown.qty == 12000
    known = DocumentLine.get((DocumentLine.document == incoming) & (DocumentLine.n == 1))
    assert (known.price, str(known.expiry)) == (3120, "2027-03-01")
    assert drafts["T01-D-20"].to_store.code == "S02"
    assert drafts["T01-D-18"].reason == "expired"
    assert result.counts["unmatched"] == 1
    assert StockMove.select().count() == 0


def test_a_draft_naming_an_unknown_supplier_is_taken_in_and_flagged(till: Till) -> None:
    draft = {
        "type": "draft",
        "id": "T01-D-99",
        "doc": "incoming",
        "created": "2026-12-04T09:00:00+03:00",
        "author": "C01",
        "supplier": "SUP99",
        "lines": [{"product": "A1001", "qty": "10", "price": "30.00"}],
    }
    import_parsed(parse_file(write_file("drafts", "T01", "S01", 1, [draft])), till)

    doc = Document.get(Document.external_id == "T01-D-99")
    assert doc.supplier is None and doc.supplier_code == "SUP99"
    doc.supplier = Supplier.create(code="SUP99", name="Mapped")
    doc.save()
    post_document(doc.id, by="M01")
    assert stock("A1001") == 10000


def test_baskets_sample_becomes_an_order(till: Till) -> None:
    load(till, "baskets_T01_00000001.jsonl")

    order = Document.get()
    assert (order.kind, order.state, order.external_id) == ("order", "draft", "T01-B-9")
    assert order.customer.code == "K0042"
    assert order.comment == "pick up Friday"
    line = DocumentLine.get()
    assert (line.product.code, line.qty, line.price) == ("A1001", 3000, 4990)
    assert StockMove.select().count() == 0


def test_status_sample_updates_the_till_status(till: Till) -> None:
    load(till, "status_T01_00000001.jsonl")

    status = TillStatus.get(TillStatus.till == till)
    assert status.version == "ShopV2 4.8.1"
    assert status.shift == 123 and status.shift_open
    assert json.loads(status.applied) == {"catalog": 42, "customers": 7, "staff": 3}


def test_a_thousand_receipts_cost_a_bounded_number_of_queries(till: Till) -> None:
    from models.db import database

    data = write_file(
        "sales", "T01", "S01", 1, [receipt(f"T01-5-{n}", shift=5) for n in range(1000)]
    )
    parsed = parse_file(data)
    db = database.obj
    executed: list[str] = []
    original = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        executed.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = counting
    try:
        import_parsed(parsed, till)
    finally:
        del db.execute_sql

    assert Document.select().count() == 1000
    assert len(executed) < 60, executed
