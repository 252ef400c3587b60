"""The outbox: full and delta loads per till, atomic publication, acknowledgements."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from exchange.folders import ExchangeFolders
from exchange.outbox import Outbox, temporary_name
from exchange.shopv2 import parse_file, parse_name
from models.catalog import Barcode, Price, Product
from models.db import database, write_transaction
from models.money import kopecks
from models.org import Employee, now
from models.parties import Customer
from models.till_records import ExchangeEvent, ExchangeFile, Message, OutboxState
from models.tills import add_till
from tests import factories as f


def _records(path: Path) -> tuple[str, dict[str, list[dict]]]:
    parsed = parse_file(path.read_bytes())
    by_type: dict[str, list[dict]] = {}
    for record in parsed.records:
        by_type.setdefault(record.type, []).append(record.data)
    return parsed.header.mode, by_type


@pytest.fixture
def shop(books: Path):
    store = f.store("S01")
    food = f.group("G1", "Food")
    dairy = f.group("G10", "Dairy", food)
    f.product("A1001", "Milk", price="49.90", at=store, barcode="4601234567893", grp=dairy)
    f.product("A3005", "Cheese", weighed=True, price="389.00", at=store, grp=dairy, plu=5)
    f.product("A9999", "Not priced here")
    Product.update(excise=True, age_limit=18).where(Product.code == "A1001").execute()
    Employee.create(code="C01", name="Cashier", role="cashier", store=store, pin_hash="p$1$aa$bb")
    Customer.create(code="K0042", name="Anna", credit_limit=500000)
    Message.create(code="M1", text="Hello tills")
    add_till("T01", store, "secret-one")
    return store


def test_full_load_for_a_new_till(books: Path, shop):
    folders = ExchangeFolders(books)
    published = Outbox(folders).run()
    kinds = {p.kind: p for p in published}
    assert set(kinds) == {"catalog", "staff", "customers", "stats", "messages"}
    catalog = kinds["catalog"]
    assert catalog.path == folders.to_pos("T01") / "catalog_00000001.jsonl"
    mode, records = _records(catalog.path)
    assert mode == "full"
    assert [r["prefix"] for r in records["barcode_rule"]] == ["21", "22", "23", "277"]
    assert [(g["code"], g["parent"]) for g in records["group"]] == [("G1", None), ("G10", "G1")]
    goods = {p["code"]: p for p in records["product"]}
    assert set(goods) == {"A1001", "A3005"}  # goods without a price here are not sold here
    assert goods["A1001"]["price"] == "49.90"
    assert goods["A1001"]["barcodes"] == ["4601234567893"]
    assert goods["A1001"]["excise"] is True and goods["A1001"]["age_limit"] == 18
    assert goods["A3005"]["weighed"] is True and goods["A3005"]["plu"] == 5
    _mode, staff = _records(kinds["staff"].path)
    assert staff["employee"][0]["pin"] == "p$1$aa$bb"
    _mode, customers = _records(kinds["customers"].path)
    assert customers["customer"][0]["credit_limit"] == "5000.00"
    _mode, messages = _records(kinds["messages"].path)
    assert messages["message"][0]["text"] == "Hello tills"

    row = ExchangeFile.get(ExchangeFile.name == "catalog_00000001.jsonl")
    assert (row.direction, row.state, row.mode, row.records) == ("out", "published", "full", 8)
    assert ExchangeEvent.select().where(ExchangeEvent.event == "published").count() == 5
    state = OutboxState.get(OutboxState.kind == "catalog")
    assert (state.last_seq, state.want_full) == (1, False)
    assert not list(folders.to_pos("T01").glob(".*"))  # no temporary file left behind


def test_nothing_changed_means_no_file_and_a_change_means_a_delta(books: Path, shop):
    folders = ExchangeFolders(books)
    outbox = Outbox(folders)
    outbox.run()
    assert outbox.run() == []
    (folders.to_pos("T01") / "catalog_00000001.jsonl").unlink()  # the till applied it
    acked = outbox.scan_acknowledgements()
    assert [a.name for a in acked] == ["catalog_00000001.jsonl"]
    state = OutboxState.get(OutboxState.kind == "catalog")
    assert state.acked_seq == 1 and state.acked_as_of is not None
    assert ExchangeFile.get(ExchangeFile.name == "catalog_00000001.jsonl").state == "acknowledged"

    time.sleep(0.01)
    Price.update(price=kopecks("52.50"), updated=now()).where(
        Price.product == Product.get(Product.code == "A1001")
    ).execute()
    published = outbox.run()
    assert [(p.kind, p.seq, p.mode) for p in published] == [("catalog", 2, "delta")]
    mode, records = _records(published[0].path)
    assert mode == "delta"
    assert [(p["code"], p["price"]) for p in records["product"]] == [("A1001", "52.50")]
    assert "barcode_rule" not in records and "group" not in records
    assert outbox.run() == []


def test_a_delta_before_any_acknowledgement_starts_after_the_full_load(books: Path, shop):
    outbox = Outbox(ExchangeFolders(books))
    outbox.run()
    time.sleep(0.01)
    Product.update(name="Cheese Gouda", updated=now()).where(Product.code == "A3005").execute()
    (published,) = outbox.run()
    _mode, records = _records(published.path)
    assert [p["code"] for p in records["product"]] == ["A3005"]


def test_deleted_goods_travel_as_deleted_in_a_delta(books: Path, shop):
    outbox = Outbox(ExchangeFolders(books))
    outbox.run()
    time.sleep(0.01)
    Product.update(deleted=True, updated=now()).where(Product.code == "A1001").execute()
    (published,) = outbox.run()
    _mode, records = _records(published.path)
    assert [(p["code"], p["deleted"]) for p in records["product"]] == [("A1001", True)]


def test_a_new_till_gets_a_full_load_while_the_old_gets_deltas(books: Path, shop):
    outbox = Outbox(ExchangeFolders(books))
    outbox.run()
    add_till("T02", shop, "secret-two")
    time.sleep(0.01)
    Message.create(code="M2", text="Second")
    published = {(p.till, p.kind): p for p in outbox.run()}
    assert published[("T01", "messages")].mode == "delta"
    assert ("T01", "catalog") not in published
    assert published[("T02", "catalog")].mode == "full"
    assert published[("T02", "messages")].seq == 1
    _mode, records = _records(published[("T01", "messages")].path)
    assert [m["id"] for m in records["message"]] == ["M2"]


def test_full_on_request(books: Path, shop):
    outbox = Outbox(ExchangeFolders(books))
    outbox.run()
    outbox.request_full(["T01"], ["catalog"])
    (published,) = outbox.run()
    assert (published.kind, published.seq, published.mode) == ("catalog", 2, "full")
    forced = outbox.run(full=True, kinds=["staff"])
    assert [(p.kind, p.mode, p.seq) for p in forced] == [("staff", "full", 2)]


def test_messages_for_another_till_and_expired_ones_stay_away(books: Path, shop):
    add_till("T02", shop, "secret-two")
    Message.create(code="M5", text="Only T02", till="T02")
    Message.create(code="M6", text="Old", until=now() - dt.timedelta(hours=1))
    outbox = Outbox(ExchangeFolders(books))
    published = {(p.till, p.kind): p for p in outbox.run(kinds=["messages"])}
    _mode, t01 = _records(published[("T01", "messages")].path)
    _mode, t02 = _records(published[("T02", "messages")].path)
    assert [m["id"] for m in t01["message"]] == ["M1"]
    assert [m["id"] for m in t02["message"]] == ["M1", "M5"]


def test_stats_from_posted_receipts(books: Path, shop):
    milk = Product.get(Product.code == "A1001")
    cheese = Product.get(Product.code == "A3005")
    f.doc("incoming", shop, [(milk, "10", "30.00"), (cheese, "5", "200.00")], post=True)
    f.doc("sale", shop, [(milk, "3", "49.90"), (cheese, "1.5", "389.00")], post=True, till="T01")
    f.doc("return", shop, [(milk, "1", "49.90")], post=True, till="T01")
    outbox = Outbox(ExchangeFolders(books))
    (published,) = outbox.run(kinds=["stats"])
    _mode, records = _records(published.path)
    stats = {s["product"]: (s["qty"], s["sum"]) for s in records["stat"]}
    assert stats == {"A1001": ("2", "99.80"), "A3005": ("1.5", "583.50")}
    (total,) = records["stat_total"]
    assert total["receipts"] == 1


def test_files_are_never_visible_half_written(books: Path, shop):
    with write_transaction():
        for i in range(3000):
            product = Product.create(code=f"B{i:05d}", name=f"Goods {i}")
            Price.create(store=shop, product=product, price=1000 + i)
            Barcode.create(code=f"2100000{i:05d}0", product=product)
    folders = ExchangeFolders(books)
    folders.ensure("T01")
    seen: list[str] = []
    problems: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for path in folders.to_pos("T01").iterdir():
                if parse_name(path.name) is None:
                    assert path.name.startswith(".") and path.name.endswith(".tmp")
                    continue
                try:
                    parse_file(path.read_bytes())
                except FileNotFoundError:
                    continue
                except ValueError as error:
                    problems.append(f"{path.name}: {error}")
                seen.append(path.name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outbox = Outbox(folders)
        for _ in range(3):
            outbox.run(full=True, kinds=["catalog"])
    finally:
        done.set()
        watcher.join()
    assert not problems
    assert seen
    assert temporary_name("catalog", 43) == ".catalog_00000043.jsonl.tmp"
    assert parse_name(temporary_name("catalog", 43)) is None


def _goods_queries(run) -> int:
    """How many SELECTs over the goods table `run()` makes (SQLite's own trace, no mock)."""
    statements: list[str] = []
    connection = database.connection()
    connection.set_trace_callback(statements.append)
    try:
        run()
    finally:
        connection.set_trace_callback(None)
    return sum(1 for s in statements if s.startswith("SELECT") and '"product"' in s)


def test_tills_of_one_store_share_one_reading_of_the_catalog(books: Path, shop):
    folders = ExchangeFolders(books)
    alone = _goods_queries(lambda: Outbox(folders).run(kinds=["catalog"]))
    add_till("T02", shop, "secret-two")
    published: list = []
    both = _goods_queries(
        lambda: published.extend(Outbox(folders).run(full=True, kinds=["catalog"]))
    )
    assert [p.till for p in published] == ["T01", "T02"]
    assert _records(published[0].path) == _records(published[1].path)
    assert both == alone > 0
