"""The whole loop over real FTP on the loopback: the service, the simulated till, curl.

Each test runs an `ExchangeService` (aioftp on 127.0.0.1, port 0) over fresh books in a
temporary folder, and talks to it only as a till would: ftplib through the simulator,
or curl. Nothing is mocked; waits poll the books, which is what an operator sees.
"""

from __future__ import annotations

import ftplib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from exchange.service import ExchangeService
from exchange.shopv2 import file_name, parse_file, write_file
from exchange.simulator import TillSimulator, weight_barcode
from models.catalog import Price, Product
from models.check import check_books
from models.db import open_database
from models.documents import Document
from models.ledger import StockMove
from models.money import kopecks
from models.org import Employee, now
from models.till_records import ExchangeEvent, ExchangeFile, OutboxState
from models.tills import add_till
from tests import factories as f

HOST = "127.0.0.1"
PASSWORD = "secret-T01"
ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def _event(event: str, till: str = "T01", kind: str | None = None, seq: int | None = None):
    query = ExchangeEvent.select().where(
        (ExchangeEvent.event == event) & (ExchangeEvent.till == till)
    )
    if kind is not None:
        query = query.where(ExchangeEvent.kind == kind)
    if seq is not None:
        query = query.where(ExchangeEvent.seq == seq)
    return query.first()


def _out(till: str, kind: str, seq: int) -> ExchangeFile | None:
    return ExchangeFile.get_or_none(
        (ExchangeFile.direction == "out")
        & (ExchangeFile.till == till)
        & (ExchangeFile.kind == kind)
        & (ExchangeFile.seq == seq)
    )


@pytest.fixture
def shop(books: Path):
    store = f.store("S01")
    dairy = f.group("G10", "Dairy")
    milk = f.product("A1001", "Milk", price="49.90", at=store, barcode="4601234567893", grp=dairy)
    yog = f.product("A2001", "Yoghurt", price="35.00", at=store, grp=dairy)
    cheese = f.product("A3005", "Cheese", weighed=True, price="389.00", at=store, plu=5)
    f.doc(
        "incoming",
        store,
        [(milk, "500", "30.00"), (yog, "500", "20.00"), (cheese, "100", "250.00")],
        post=True,
    )
    Employee.create(code="C01", name="Cashier", role="cashier", store=store)
    add_till("T01", store, PASSWORD)
    return store


@pytest.fixture
def service(books: Path, shop):
    svc = ExchangeService(books, port=0, export_interval=1.0, scan_interval=1.0, settle=0.05)
    svc.start()
    yield svc
    svc.stop()


def _till(service: ExchangeService, tmp_path: Path, **kwargs) -> TillSimulator:
    return TillSimulator(
        HOST, service.port, "T01", PASSWORD, "S01", tmp_path / "till", seed=7, **kwargs
    )


def _sales(seq: int, receipt_id: str, till: str = "T01") -> bytes:
    stamp = now().replace(microsecond=0).astimezone()
    receipt = {
        "type": "receipt",
        "id": receipt_id,
        "shift": 1,
        "number": seq,
        "op": "sale",
        "opened": stamp,
        "closed": stamp,
        "cashier": "C01",
        "lines": [
            {"n": 1, "product": "A1001", "qty": "2", "price": "49.90", "sum": "99.80"},
        ],
        "payments": [{"method": "cash", "amount": "100.00", "change": "0.20"}],
        "total": "99.80",
    }
    return write_file("sales", till, "S01", seq, [receipt])


def _upload(port: int, name: str, data: bytes, rename: bool = True) -> None:
    with ftplib.FTP() as ftp:
        ftp.connect(HOST, port, timeout=10)
        ftp.login("T01", PASSWORD)
        if rename:
            ftp.storbinary(f"STOR from_pos/{name}.part", io.BytesIO(data))
            ftp.rename(f"from_pos/{name}.part", f"from_pos/{name}")
        else:
            ftp.storbinary(f"STOR from_pos/{name}", io.BytesIO(data))


def test_catalog_reaches_the_till_and_its_deletion_is_the_acknowledgement(
    service: ExchangeService, tmp_path: Path, shop
):
    till = _till(service, tmp_path)
    wait_for(lambda: _out("T01", "catalog", 1), what="the first full catalog")
    result = till.step("none")
    assert "catalog_00000001.jsonl" in result.applied
    assert set(till.catalog) == {"A1001", "A2001", "A3005"}
    assert till.catalog["A1001"]["price"] == "49.90"
    assert "C01" in till.staff
    wait_for(lambda: _out("T01", "catalog", 1).state == "acknowledged", what="the acknowledgement")
    state = OutboxState.get(OutboxState.kind == "catalog")
    assert state.acked_seq == 1
    assert _event("acknowledged", kind="catalog", seq=1)

    time.sleep(0.01)
    milk = Product.get(Product.code == "A1001")
    Price.update(price=kopecks("52.50"), updated=now()).where(Price.product == milk).execute()
    delta = wait_for(lambda: _out("T01", "catalog", 2), what="the delta")
    assert (delta.mode, delta.records) == ("delta", 1)
    result = till.step("none")
    assert result.applied == ["catalog_00000002.jsonl"]
    assert till.catalog["A1001"]["price"] == "52.50"
    assert till.applied["catalog"] == 2

    add_till("T02", shop, "secret-T02")
    first = wait_for(lambda: _out("T02", "catalog", 1), what="the new till's full load")
    assert first.mode == "full" and first.records == 3 + 1 + 4
    assert _out("T01", "catalog", 3) is None


def test_sales_from_the_till_are_imported_and_move_stock(service: ExchangeService, tmp_path: Path):
    till = _till(service, tmp_path)
    wait_for(lambda: _out("T01", "catalog", 1), what="the catalog")
    till.step("none")
    moves_before = StockMove.select().count()
    for _ in range(4):
        till.step("sales")
    till.step("status")
    till.step("drafts")
    till.step("baskets")
    wait_for(
        lambda: (
            ExchangeFile.select()
            .where((ExchangeFile.direction == "in") & (ExchangeFile.state == "imported"))
            .count()
            == 7
        ),
        what="seven imported files",
    )
    sales = Document.select().where(Document.till == "T01", Document.kind.in_(["sale", "return"]))
    assert sales.count() >= 4
    assert StockMove.select().count() > moves_before
    assert Document.select().where(Document.till == "T01", Document.state == "draft").count()
    assert not check_books()


def test_a_gap_is_logged_and_a_resent_file_is_a_duplicate(service: ExchangeService):
    first = _sales(1, "T01-1-1")
    _upload(service.port, file_name("sales", 1, "T01"), first)
    wait_for(lambda: _event("imported", kind="sales", seq=1), what="seq 1 imported")
    _upload(service.port, file_name("sales", 3, "T01"), _sales(3, "T01-1-3"))
    wait_for(lambda: _event("gap", kind="sales", seq=3), what="the gap before seq 3")
    wait_for(lambda: _event("imported", kind="sales", seq=3), what="seq 3 imported")
    _upload(service.port, file_name("sales", 1, "T01"), first)
    wait_for(lambda: _event("duplicate", kind="sales", seq=1), what="the duplicate")
    receipts = Document.select().where(Document.external_id == "T01-1-1")
    assert receipts.count() == 1


def test_a_file_dropped_while_stopped_is_taken_at_start(books: Path, shop):
    svc = ExchangeService(books, port=0, export_interval=5.0, scan_interval=5.0)
    svc.folders.ensure("T01")
    name = file_name("sales", 1, "T01")
    (svc.folders.from_pos("T01") / name).write_bytes(_sales(1, "T01-9-1"))
    svc.start()
    try:
        row = ExchangeFile.get_or_none(
            (ExchangeFile.name == name) & (ExchangeFile.direction == "in")
        )
        assert row is not None and row.state == "imported"
        assert not (svc.folders.from_pos("T01") / name).exists()
    finally:
        svc.stop()


def test_a_legacy_till_uploads_without_renaming(service: ExchangeService, tmp_path: Path):
    till = _till(service, tmp_path, legacy=True)
    wait_for(lambda: _out("T01", "catalog", 1), what="the catalog")
    till.step("none")
    uploaded = till.step("sales").uploaded
    assert uploaded == "sales_T01_00000001.jsonl"
    wait_for(lambda: _event("imported", kind="sales", seq=1), what="the legacy upload imported")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_upload_with_rename_is_imported_within_two_seconds(
    service: ExchangeService, tmp_path: Path
):
    source = tmp_path / "x.part"
    source.write_bytes(_sales(1, "T01-5-1"))
    started = time.monotonic()
    subprocess.run(
        [
            "curl",
            "-sS",
            "--ftp-pasv",
            "--ftp-method",
            "nocwd",
            "-T",
            str(source),
            f"ftp://{HOST}:{service.port}/from_pos/x.part",
            "-u",
            f"T01:{PASSWORD}",
            "-Q",
            "-RNFR from_pos/x.part",
            "-Q",
            "-RNTO from_pos/sales_T01_00000001.jsonl",
        ],
        check=True,
        timeout=20,
    )
    wait_for(lambda: _event("imported", kind="sales", seq=1), timeout=2.0, what="the import")
    assert time.monotonic() - started < 4.0


def test_weight_barcodes_and_receipt_arithmetic(tmp_path: Path):
    assert weight_barcode(5, 734) == "2200005007341"
    till = TillSimulator(HOST, 1, "T01", PASSWORD, "S01", tmp_path / "till", seed=3)
    till.state.catalog = {
        "A1001": {"code": "A1001", "price": "49.90", "barcodes": ["4601234567893"]},
        "A3005": {"code": "A3005", "price": "389.00", "weighed": True, "plu": 5},
    }
    receipts = [till.receipt() for _ in range(200)]
    data = write_file("sales", "T01", "S01", 1, receipts)
    parsed = parse_file(data)  # the codec checks every sum, total and payment
    assert len(parsed.records) == 200


def test_sigterm_stops_iis_serve_cleanly(books: Path, shop, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console.cli",
            "--data-dir",
            str(books),
            "serve",
            "--ftp-port",
            "0",
            "--scan-interval",
            "1",
            "--export-interval",
            "1",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if "FTP server listening on" in line:
                port = int(line.rsplit(":", 1)[1])
        assert port, "iis serve did not start"
        for seq in range(1, 6):
            _upload(port, file_name("sales", seq, "T01"), _sales(seq, f"T01-2-{seq}"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    open_database(books)
    half = ExchangeFile.select().where(
        (ExchangeFile.direction == "in") & (ExchangeFile.state == "received")
    )
    assert half.count() == 0
    imported = ExchangeFile.select().where(
        (ExchangeFile.direction == "in") & (ExchangeFile.state == "imported")
    )
    waiting = list((books / "exchange" / "tills" / "T01" / "from_pos").glob("sales_*"))
    assert imported.count() + len(waiting) == 5  # each upload imported or still waiting
    processing = books / "exchange" / "processing"
    assert not [p for p in processing.rglob("*") if p.is_file()]
    assert not check_books()
