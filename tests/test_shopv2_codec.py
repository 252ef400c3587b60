"""The ShopV2 file codec against the contract's samples and hand-made bad files."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.records import (
    Basket,
    CancelledReceipt,
    CashOperation,
    CustomerPayment,
    Draft,
    RawRecord,
    Receipt,
    ShiftReport,
    Status,
)
from exchange.shopv2 import (
    FileName,
    ShopV2Error,
    file_name,
    has_valid_trailer,
    parse_file,
    parse_name,
    write_file,
)

SAMPLES = Path(__file__).parent / "data" / "samples"
MSK = timezone(timedelta(hours=3))
CREATED = datetime(2026, 12, 4, 10, 0, tzinfo=MSK)

#: sample file -> (kind, record types in order)
EXPECTED = {
    "sales_T01_00000001.jsonl": (
        "sales",
        ["receipt"] * 5 + ["cancelled", "cash", "payment", "shift"],
    ),
    "drafts_T01_00000001.jsonl": ("drafts", ["draft"] * 5),
    "baskets_T01_00000001.jsonl": ("baskets", ["basket"]),
    "status_T01_00000001.jsonl": ("status", ["status"]),
    "catalog_00000042.jsonl": (
        "catalog",
        ["barcode_rule"] * 4 + ["group"] * 2 + ["product"] * 3,
    ),
    "customers_00000007.jsonl": ("customers", ["customer"]),
    "identifiers_00000009.jsonl": ("identifiers", ["identifier"]),
    "loyalty_00000005.jsonl": ("loyalty", ["price_policy", "bonus_rule", "promotion"]),
    "messages_00000004.jsonl": ("messages", ["message"]),
    "staff_00000003.jsonl": ("staff", ["employee"]),
    "stats_00000011.jsonl": ("stats", ["stat", "stat_total"]),
}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def header(kind: str = "sales", **extra: Any) -> dict[str, Any]:
    head = {
        "type": "header",
        "format": "shopv2",
        "version": 1,
        "kind": kind,
        "till": "T01",
        "store": "S01",
        "seq": 5,
        "created": "2026-12-04T10:00:00+03:00",
    }
    head.update(extra)
    return head


def seal(lines: list[Any], records: int | None = None) -> bytes:
    """A file of these lines (objects or raw text) with a right trailer."""
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    body = text.encode("utf-8")
    trailer = {
        "type": "trailer",
        "records": len(lines) - 1 if records is None else records,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return body + (json.dumps(trailer) + "\n").encode()


def receipt(**changes: Any) -> dict[str, Any]:
    record = {
        "type": "receipt",
        "id": "T01-5-1",
        "shift": 5,
        "number": 1,
        "op": "sale",
        "opened": "2026-12-04T10:14:02+03:00",
        "closed": "2026-12-04T10:14:40+03:00",
        "cashier": "C01",
        "seller": "E05",
        "card": "2770000012348",
        "lines": [
            {
                "n": 1,
                "product": "A1001",
                "barcode": "4601234567893",
                "qty": "2",
                "price": "49.90",
                "discount": "5.00",
                "sum": "94.80",
                "department": 1,
                "mark": None,
            }
        ],
        "payments": [{"method": "cash", "amount": "100.00", "change": "5.20"}],
        "bonus": {"earned": "0.95", "redeemed": "0.00"},
        "total": "94.80",
    }
    record.update(changes)
    return record


def error_of(data: bytes) -> ShopV2Error:
    with pytest.raises(ShopV2Error) as caught:
        parse_file(data)
    return caught.value


# --- the samples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_parses_with_its_records(name: str) -> None:
    kind, types = EXPECTED[name]
    data = sample(name)
    parsed = parse_file(data)
    assert parsed.header.kind == kind
    assert parsed.header.till == "T01"
    assert parsed.header.store == "S01"
    assert parsed.header.seq == parse_name(name).seq
    assert parsed.header.created.utcoffset() == timedelta(hours=3)
    assert [r.type for r in parsed.records] == types
    assert parsed.count == len(types)
    assert parsed.warnings == ()
    assert [r.line for r in parsed.records] == list(range(2, len(types) + 2))
    assert has_valid_trailer(data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_names(name: str) -> None:
    parsed = parse_name(name)
    assert parsed is not None
    assert parsed.kind == EXPECTED[name][0]
    assert parsed.incoming == ("_T01_" in name)
    assert str(parsed) == name


def test_outgoing_samples_carry_a_mode() -> None:
    assert parse_file(sample("catalog_00000042.jsonl")).header.mode == "full"
    assert parse_file(sample("customers_00000007.jsonl")).header.mode == "delta"
    assert parse_file(sample("sales_T01_00000001.jsonl")).header.mode is None


def test_sales_sample_is_typed() -> None:
    records = parse_file(sample("sales_T01_00000001.jsonl")).records
    first = records[0]
    assert isinstance(first, Receipt)
    assert first.id == "T01-123-41"
    assert first.op == "sale"
    assert first.card == "2770000012348"
    assert first.lines[1].qty == Decimal("1.250")
    assert first.lines[1].sum == Decimal("486.25")
    assert first.total == Decimal("586.05")
    assert first.closed == datetime(2026, 12, 4, 10, 20, 50, tzinfo=MSK)
    assert first.payments[0].method == "cash"

    back = records[2]
    assert isinstance(back, Receipt)
    assert back.op == "return"
    assert back.return_of == "T01-123-41"

    weighed = records[4]
    assert isinstance(weighed, Receipt)
    assert weighed.lines[0].product is None
    assert weighed.lines[0].barcode == "2200005007341"
    assert weighed.lines[0].qty == Decimal("0.734")

    assert records[3].lines[0].mark.startswith("22N")
    assert isinstance(records[5], CancelledReceipt)
    assert records[5].total == Decimal("120.00")
    assert isinstance(records[6], CashOperation)
    assert (records[6].op, records[6].amount, records[6].reason) == ("in", Decimal("500"), "float")
    assert isinstance(records[7], CustomerPayment)
    assert records[7].customer == "K0042"
    assert records[7].basket is None

    shift = records[8]
    assert isinstance(shift, ShiftReport)
    assert shift.receipts == 4
    assert shift.returns == 1
    assert shift.by_method == {"cash": Decimal("1420.68"), "card": Decimal("95.00")}
    assert shift.sales_total - shift.returns_total == sum(shift.by_method.values())


def test_sales_sample_shift_matches_its_receipts() -> None:
    records = parse_file(sample("sales_T01_00000001.jsonl")).records
    receipts = [r for r in records if isinstance(r, Receipt)]
    sales = [r for r in receipts if r.op == "sale"]
    shift = records[-1]
    assert shift.receipts == len(sales)
    assert shift.sales_total == sum(r.total for r in sales)


def test_drafts_sample_is_typed() -> None:
    drafts = parse_file(sample("drafts_T01_00000001.jsonl")).records
    assert all(isinstance(d, Draft) for d in drafts)
    assert [d.doc for d in drafts] == [
        "incoming",
        "writeoff",
        "inventory",
        "transfer",
        "supplier_return",
    ]
    incoming = drafts[0]
    assert incoming.supplier == "SUP7"
    assert incoming.invoice_date == date(2026, 12, 3)
    assert incoming.lines[0].expiry == date(2027, 3, 1)
    assert incoming.lines[0].certificate == "RU C-RU.AB12.B.00345"
    assert incoming.lines[1].product is None
    assert incoming.lines[1].price == Decimal("18.40")
    assert drafts[1].reason == "expired"
    assert drafts[1].lines[0].price is None
    assert drafts[3].to_store == "S02"
    assert drafts[3].lines[0].qty == Decimal("5")


def test_basket_and_status_samples_are_typed() -> None:
    (basket,) = parse_file(sample("baskets_T01_00000001.jsonl")).records
    assert isinstance(basket, Basket)
    assert basket.customer == "K0042"
    assert basket.lines[0].qty == Decimal("3")
    assert basket.comment == "pick up Friday"
    (status,) = parse_file(sample("status_T01_00000001.jsonl")).records
    assert isinstance(status, Status)
    assert status.applied == {"catalog": 42, "customers": 7, "staff": 3}
    assert status.shift_open is True
    assert status.errors == ()


# --- the broken samples ------------------------------------------------------------------


def test_broken_cut_short() -> None:
    data = sample("broken/sales_T01_00000002.jsonl")
    error = error_of(data)
    assert error.line == 3
    assert "cut short" in error.reason
    assert "trailer" in error.reason
    assert error.reason.startswith("line 3:")
    assert not has_valid_trailer(data)


def test_broken_checksum() -> None:
    data = sample("broken/sales_T01_00000003.jsonl")
    error = error_of(data)
    assert error.line == 3
    assert "checksum mismatch" in error.reason
    assert not has_valid_trailer(data)


def test_broken_not_json() -> None:
    data = sample("broken/sales_T01_00000004.jsonl")
    error = error_of(data)
    assert error.line == 1
    assert "UTF-8" in error.reason
    assert not has_valid_trailer(data)


def test_not_json_names_its_line() -> None:
    error = error_of(seal([header(), "{not json", receipt()]))
    assert error.line == 2
    assert "not JSON" in error.reason


# --- hand-made bad files -----------------------------------------------------------------


def test_a_good_hand_made_file_parses() -> None:
    (only,) = parse_file(seal([header(), receipt()])).records
    assert only.bonus_earned == Decimal("0.95")
    assert only.payments[0].change == Decimal("5.20")


def test_wrong_record_count() -> None:
    error = error_of(seal([header(), receipt()], records=2))
    assert error.line == 3
    assert "counts 2 records" in error.reason


def test_missing_header() -> None:
    error = error_of(seal([receipt(), receipt(id="T01-5-2")]))
    assert error.line == 1
    assert "not the header" in error.reason


def test_empty_file() -> None:
    assert error_of(b"").line == 1


def test_cut_at_a_line_end_has_no_trailer() -> None:
    data = seal([header(), receipt()])
    cut = data[: data.rindex(b"{")]
    error = error_of(cut)
    assert error.line == 2
    assert "cut short" in error.reason
    assert not has_valid_trailer(cut)


@pytest.mark.parametrize(
    ("head", "words"),
    [
        ({"format": "other"}, "format"),
        ({"version": 2}, "version 2"),
        ({"kind": "bananas"}, "unknown file kind"),
        ({"seq": "5"}, "seq must be a whole number"),
        ({"created": "2026-12-04T10:00:00"}, "created has no UTC offset"),
        ({"store": None}, "store is missing"),
    ],
)
def test_bad_header(head: dict[str, Any], words: str) -> None:
    error = error_of(seal([header(**head), receipt()]))
    assert error.line == 1
    assert words in error.reason


def test_outgoing_file_needs_a_mode() -> None:
    error = error_of(seal([header("catalog"), {"type": "group", "code": "G1"}]))
    assert error.line == 1
    assert "mode" in error.reason


def test_float_money_is_an_error() -> None:
    error = error_of(seal([header(), receipt(total=94.8)]))
    assert error.line == 2
    assert "total must be a decimal string" in error.reason


def test_integer_money_is_an_error() -> None:
    bad = receipt()
    bad["lines"][0]["price"] = 50
    error = error_of(seal([header(), bad]))
    assert "lines[1].price must be a decimal string" in error.reason


def test_too_many_places() -> None:
    bad = receipt()
    bad["lines"][0]["qty"] = "2.0001"
    error = error_of(seal([header(), bad]))
    assert "lines[1].qty" in error.reason
    assert "3 places" in error.reason


def test_receipt_line_off_by_a_kopeck_names_its_line() -> None:
    bad = receipt(id="T01-5-2", total="94.81")
    bad["lines"][0]["sum"] = "94.81"
    bad["payments"][0]["change"] = "5.19"
    error = error_of(seal([header(), receipt(), bad]))
    assert error.line == 3
    assert error.reason.startswith("line 3:")
    assert "lines[1].sum is 94.81" in error.reason
    assert "94.80" in error.reason


def test_rounding_is_half_up() -> None:
    line = {"product": "A3005", "qty": "0.005", "price": "1.00", "sum": "0.01"}
    good = receipt(
        lines=[line], payments=[{"method": "card", "amount": "0.01"}], total="0.01", bonus=None
    )
    assert parse_file(seal([header(), good])).records[0].lines[0].sum == Decimal("0.01")


def test_receipt_total_must_be_the_sum_of_lines() -> None:
    error = error_of(seal([header(), receipt(total="95.00")]))
    assert error.line == 2
    assert "line sums add up to 94.80" in error.reason


def test_payments_must_cover_the_total() -> None:
    error = error_of(seal([header(), receipt(payments=[{"method": "cash", "amount": "100.00"}])]))
    assert "payments less change come to 100.00" in error.reason


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"op": "refund"}, "op must be one of sale, return"),
        ({"id": None}, "id is missing"),
        ({"closed": "2026-12-04T10:14:40"}, "closed has no UTC offset"),
        ({"closed": "yesterday"}, "closed must be a date and time"),
        ({"lines": []}, "no lines"),
        ({"payments": [{"method": "iou", "amount": "94.80"}]}, "payments[1].method"),
        (
            {"payments": [{"method": "certificate", "amount": "94.80"}]},
            "payments[1].certificate is missing",
        ),
        ({"payments": [{"method": "credit", "amount": "94.80"}]}, "payments[1].customer"),
        ({"shift": "5"}, "shift must be a whole number"),
    ],
)
def test_bad_receipts(changes: dict[str, Any], words: str) -> None:
    error = error_of(seal([header(), receipt(**changes)]))
    assert error.line == 2
    assert words in error.reason


def test_a_line_needs_product_or_barcode() -> None:
    bad = receipt()
    bad["lines"][0]["product"] = None
    bad["lines"][0]["barcode"] = None
    error = error_of(seal([header(), bad]))
    assert "lines[1] names neither a product nor a barcode" in error.reason


def test_unknown_record_type_is_a_warning() -> None:
    parsed = parse_file(seal([header(), receipt(), {"type": "coupon", "id": "X"}, receipt()]))
    assert len(parsed.records) == 2
    assert parsed.count == 3
    (warning,) = parsed.warnings
    assert warning.line == 3
    assert "coupon" in warning.message


def test_unknown_fields_are_ignored() -> None:
    parsed = parse_file(seal([header(), receipt(colour="blue")]))
    assert parsed.records[0].id == "T01-5-1"


def test_record_in_the_wrong_kind_of_file() -> None:
    draft = {"type": "draft", "id": "D1", "doc": "inventory", "created": "2026-12-04T10:00:00Z"}
    error = error_of(seal([header(), receipt(), draft]))
    assert error.line == 3
    assert "draft record does not belong in a sales file" in error.reason


def test_a_second_header_is_fatal() -> None:
    error = error_of(seal([header(), header()]))
    assert error.line == 2


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"doc": "gift"}, "doc must be one of"),
        ({"doc": "writeoff", "reason": "eaten"}, "reason must be one of"),
        ({"doc": "writeoff"}, "reason is missing"),
        ({"doc": "transfer"}, "to_store is missing"),
        ({"doc": "incoming", "supplier": None}, "supplier is missing"),
        ({"invoice_date": "03.12.2026"}, "invoice_date must be a date"),
    ],
)
def test_bad_drafts(changes: dict[str, Any], words: str) -> None:
    draft = {
        "type": "draft",
        "id": "T01-D-1",
        "doc": "incoming",
        "created": "2026-12-04T09:00:00+03:00",
        "author": "C01",
        "supplier": "SUP7",
        "lines": [{"product": "A1001", "qty": "1"}],
    }
    draft.update(changes)
    error = error_of(seal([header("drafts"), draft]))
    assert error.line == 2
    assert words in error.reason


def test_inventory_may_count_zero() -> None:
    draft = {
        "type": "draft",
        "id": "T01-D-1",
        "doc": "inventory",
        "created": "2026-12-04T09:00:00+03:00",
        "author": "C01",
        "lines": [{"product": "A1001", "qty": "0"}],
    }
    (parsed,) = parse_file(seal([header("drafts"), draft])).records
    assert parsed.lines[0].qty == 0


# --- names -------------------------------------------------------------------------------


def test_parse_name() -> None:
    assert parse_name("sales_T01_00000123.jsonl") == FileName("sales", "T01", 123)
    assert parse_name("catalog_00000042.jsonl") == FileName("catalog", None, 42)
    assert parse_name("sales_T01_00000123.jsonl.part") is None
    assert parse_name("sales_T01_00000123.part") is None
    assert parse_name("sales_T01_123.jsonl") is None
    assert parse_name("sales_T01_00000000.jsonl") is None
    assert parse_name("catalog_T01_00000001.jsonl") is None
    assert parse_name("sales_00000001.jsonl") is None
    assert parse_name("bananas_T01_00000001.jsonl") is None
    assert parse_name("sales_T01_00000001.json") is None
    assert file_name("catalog", 42) == "catalog_00000042.jsonl"
    assert file_name("sales", 7, "T01") == "sales_T01_00000007.jsonl"


# --- writing -----------------------------------------------------------------------------


def test_write_file_round_trips_a_catalog() -> None:
    original = parse_file(sample("catalog_00000042.jsonl"))
    data = write_file(
        "catalog",
        "T01",
        "S01",
        42,
        [r.data for r in original.records],
        mode="full",
        created=original.header.created,
    )
    again = parse_file(data)
    assert again.header == original.header
    assert again.records == original.records
    body, trailer = data[: data.rindex(b"{")], json.loads(data[data.rindex(b"{") :])
    assert trailer == {"type": "trailer", "records": 9, "sha256": again.sha256}
    assert hashlib.sha256(body).hexdigest() == again.sha256
    assert has_valid_trailer(data)


def test_write_file_is_compact_utf8_lf() -> None:
    data = write_file(
        "messages",
        "T01",
        "S01",
        1,
        [{"type": "message", "id": "M1", "text": "Молоко подешевело", "priority": "high"}],
        mode="delta",
        created=CREATED,
    )
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert b"\r" not in data
    assert lines[0] == (
        b'{"type":"header","format":"shopv2","version":1,"kind":"messages","till":"T01",'
        b'"store":"S01","seq":1,"created":"2026-12-04T10:00:00+03:00","mode":"delta"}'
    )
    assert "Молоко подешевело".encode() in lines[1]
    assert b", " not in lines[1]
    assert json.loads(lines[2])["records"] == 1


def test_write_file_converts_decimals_and_refuses_floats() -> None:
    stat = {"type": "stat", "period": date(2026, 12, 3), "product": "A1", "qty": Decimal("1.5")}
    data = write_file("stats", "T01", "S01", 1, [dict(stat, sum=Decimal("10.50"))], mode="full")
    (record,) = parse_file(data).records
    assert record.data["qty"] == "1.5"
    assert record.data["sum"] == "10.50"
    assert record.data["period"] == "2026-12-03"
    with pytest.raises(TypeError):
        write_file("stats", "T01", "S01", 1, [dict(stat, sum=10.5)], mode="full")
    with pytest.raises(TypeError):
        write_file("stats", "T01", "S01", 1, [dict(stat, nested={"a": [1.5]})], mode="full")


@pytest.mark.parametrize(
    ("kind", "records", "mode"),
    [
        ("catalog", [{"type": "group", "code": "G1"}], None),
        ("catalog", [{"type": "group", "code": "G1"}], "partial"),
        ("sales", [receipt()], "full"),
        ("catalog", [{"type": "customer", "code": "K1"}], "full"),
        ("catalog", [{"code": "G1"}], "full"),
        ("bananas", [], "full"),
    ],
)
def test_write_file_refuses_what_the_contract_forbids(
    kind: str, records: list[dict[str, Any]], mode: str | None
) -> None:
    with pytest.raises(ValueError):
        write_file(kind, "T01", "S01", 1, records, mode=mode, created=CREATED)


def test_write_file_default_time_is_aware() -> None:
    data = write_file("staff", "T01", "S01", 3, [], mode="full")
    parsed = parse_file(data)
    assert parsed.header.created.utcoffset() is not None
    assert parsed.records == ()


def test_write_file_of_a_till_kind_reads_back_typed() -> None:
    data = write_file("sales", "T01", "S01", 5, [receipt()], created=CREATED)
    (parsed,) = parse_file(data).records
    assert isinstance(parsed, Receipt)
    assert parsed.total == Decimal("94.80")


# --- properties --------------------------------------------------------------------------

money_kop = st.integers(min_value=0, max_value=10_000_000)
qty_milli = st.integers(min_value=1, max_value=100_000)


def _money(kop: int) -> str:
    return f"{Decimal(kop).scaleb(-2):.2f}"


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    lines = []
    for n in range(1, draw(st.integers(1, 5)) + 1):
        qty = draw(qty_milli)
        price = draw(money_kop)
        gross = (qty * price * 2 + 1000) // 2000
        discount = draw(st.integers(0, gross))
        lines.append(
            {
                "n": n,
                "product": draw(st.text(min_size=1, max_size=8)),
                "qty": f"{Decimal(qty).scaleb(-3):f}",
                "price": _money(price),
                "discount": _money(discount),
                "sum": _money(gross - discount),
            }
        )
    total = sum(int(Decimal(line["sum"]) * 100) for line in lines)
    change = draw(st.integers(0, 100_000))
    return receipt(
        id=draw(st.text(min_size=1, max_size=20)),
        lines=lines,
        payments=[{"method": "card", "amount": _money(total + change), "change": _money(change)}],
        total=_money(total),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(receipts(), max_size=5))
def test_receipts_round_trip(records: list[dict[str, Any]]) -> None:
    data = write_file("sales", "T01", "S01", 9, records, created=CREATED)
    assert has_valid_trailer(data)
    parsed = parse_file(data)
    assert parsed.count == len(records)
    for record, read in zip(records, parsed.records, strict=True):
        assert read.id == record["id"]
        assert read.total == Decimal(record["total"])
        assert [str(line.sum) for line in read.lines] == [line["sum"] for line in record["lines"]]
        assert [line.product for line in read.lines] == [
            line["product"] for line in record["lines"]
        ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.text(), json_values, max_size=5), max_size=5))
def test_outgoing_round_trip(fields: list[dict[str, Any]]) -> None:
    records = [dict(item, type="product") for item in fields]
    data = write_file("catalog", "T01", "S01", 1, records, mode="delta", created=CREATED)
    parsed = parse_file(data)
    assert [r.data for r in parsed.records] == records
    assert all(isinstance(r, RawRecord) for r in parsed.records)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_damage_is_refused(data: st.DataObject) -> None:
    good = sample("sales_T01_00000001.jsonl")
    cut = data.draw(st.integers(0, len(good) - 1))
    assert not has_valid_trailer(good[:cut])
    with pytest.raises(ShopV2Error):
        parse_file(good[:cut])
    body_end = good.rindex(b"\n", 0, len(good) - 1)
    where = data.draw(st.integers(0, body_end))
    flipped = bytes([good[where] ^ data.draw(st.integers(1, 255))])
    damaged = good[:where] + flipped + good[where + 1 :]
    assert not has_valid_trailer(damaged)
    with pytest.raises(ShopV2Error):
        parse_file(damaged)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_shopv2_error(blob: bytes) -> None:
    try:
        parse_file(blob)
    except ShopV2Error as error:
        assert error.line is not None and error.line >= 1
