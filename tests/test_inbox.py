"""The inbox end to end: real files in real folders, real SQLite, no mocks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange.folders import ExchangeFolders
from exchange.inbox import Inbox
from exchange.shopv2 import write_file
from models.check import check_books
from models.documents import Document
from models.ledger import StockMove
from models.parties import Customer
from models.till_records import ExchangeEvent, ExchangeFile
from models.tills import add_till
from tests import factories as f

SAMPLES = Path(__file__).parent / "data" / "samples"


def setup_shop() -> None:
    """The goods, parties and till the sample files name."""
    s01 = f.store("S01")
    f.store("S02")
    f.product("A1001", barcode="4601234567893", at=s01, price="49.90")
    f.product("A2001", at=s01, price="35.00")
    f.product("A3005", weighed=True, plu=5, at=s01, price="389.00")
    f.product("A4001", barcode="4607012345677", at=s01, price="599.00")
    f.supplier("SUP7")
    Customer.create(code="K0042", name="Customer K0042")
    add_till("T01", "S01", "till-password-1")


def receipt(ident: str, shift: int = 200, product: str = "A1001", qty: str = "1") -> dict:
    price = Decimal("49.90")
    total = f"{price * Decimal(qty):.2f}"
    return {
        "type": "receipt",
        "id": ident,
        "shift": shift,
        "number": 1,
        "op": "sale",
        "closed": "2026-12-04T10:00:00+03:00",
        "cashier": "C01",
        "lines": [{"n": 1, "product": product, "qty": qty, "price": f"{price:.2f}", "sum": total}],
        "payments": [{"method": "cash", "amount": total}],
        "total": total,
    }


def sales_file(seq: int, records: list[dict[str, Any]], till: str = "T01") -> bytes:
    return write_file("sales", till, "S01", seq, records)


@pytest.fixture
def shop(books: Path) -> tuple[ExchangeFolders, Inbox]:
    setup_shop()
    folders = ExchangeFolders(books)
    folders.ensure("T01")
    return folders, Inbox(folders, settle_seconds=0)


def drop(folders: ExchangeFolders, name: str, data: bytes, till: str = "T01") -> Path:
    path = folders.from_pos(till) / name
    path.write_bytes(data)
    return path


def events(kind: str | None = None) -> list[str]:
    query = ExchangeEvent.select().order_by(ExchangeEvent.id)
    return [e.event for e in query if kind is None or e.kind == kind]


def test_samples_and_broken_files_through_the_upload_folder(shop) -> None:
    folders, inbox = shop
    for name in (
        "sales_T01_00000001.jsonl",
        "drafts_T01_00000001.jsonl",
        "baskets_T01_00000001.jsonl",
        "status_T01_00000001.jsonl",
    ):
        shutil.copy(SAMPLES / name, folders.from_pos("T01") / name)
    for path in (SAMPLES / "broken").iterdir():
        shutil.copy(path, folders.from_pos("T01") / path.name)
    drop(folders, "sales_T01_00000005.jsonl", sales_file(5, [receipt("T01-200-1")]))

    outcomes = {o.file: o for o in inbox.scan()}

    assert {name: o.event for name, o in outcomes.items()} == {
        "sales_T01_00000001.jsonl": "imported",
        "drafts_T01_00000001.jsonl": "imported",
        "baskets_T01_00000001.jsonl": "imported",
        "status_T01_00000001.jsonl": "imported",
        "sales_T01_00000002.jsonl": "quarantined",
        "sales_T01_00000003.jsonl": "quarantined",
        "sales_T01_00000004.jsonl": "quarantined",
        "sales_T01_00000005.jsonl": "imported",
    }
    assert outcomes["sales_T01_00000001.jsonl"].counts["receipts"] == 5
    assert outcomes["sales_T01_00000005.jsonl"].counts["receipts"] == 1
    expected_lines = {2: 3, 3: 3, 4: 1}
    for seq, line in expected_lines.items():
        outcome = outcomes[f"sales_T01_{seq:08d}.jsonl"]
        assert outcome.line == line
        assert outcome.path.parent == folders.quarantine("T01")
        reason = outcome.path.with_name(outcome.path.name + ".reason").read_text()
        assert reason.startswith(f"line {line}:")
    assert "cut short" in outcomes["sales_T01_00000002.jsonl"].detail
    assert "checksum" in outcomes["sales_T01_00000003.jsonl"].detail
    assert not list(folders.from_pos("T01").iterdir())
    assert not list(folders.processing("T01").iterdir())
    archived = {p.name for p in folders.archive("T01").iterdir()}
    assert "sales_T01_00000001.jsonl" in archived and "sales_T01_00000005.jsonl" in archived
    assert ExchangeFile.select().where(ExchangeFile.state == "quarantined").count() == 3
    assert check_books() == []


def test_a_resent_identical_file_is_a_duplicate_and_changes_nothing(shop) -> None:
    folders, inbox = shop
    data = (SAMPLES / "sales_T01_00000001.jsonl").read_bytes()
    first = inbox.take(drop(folders, "sales_T01_00000001.jsonl", data))
    assert first.event == "imported"
    documents, moves = Document.select().count(), StockMove.select().count()

    again = inbox.take(drop(folders, "sales_T01_00000001.jsonl", data))

    assert again.event == "duplicate"
    assert (Document.select().count(), StockMove.select().count()) == (documents, moves)
    assert sorted(p.name for p in folders.archive("T01").iterdir()) == [
        "sales_T01_00000001.jsonl",
        "sales_T01_00000001~1.jsonl",
    ]
    assert events("sales") == ["received", "imported", "received", "duplicate"]


def test_a_receipt_id_seen_before_is_not_posted_again_from_another_file(shop) -> None:
    folders, inbox = shop
    inbox.take(drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")])))

    outcome = inbox.take(
        drop(
            folders,
            "sales_T01_00000002.jsonl",
            sales_file(2, [receipt("T01-200-1"), receipt("T01-200-2")]),
        )
    )

    assert outcome.event == "imported"
    assert outcome.counts["receipts"] == 1
    assert outcome.counts["receipts_skipped"] == 1
    assert Document.select().where(Document.external_id == "T01-200-1").count() == 1
    assert Document.select().where(Document.kind == "sale").count() == 2


def test_same_seq_with_other_content_is_a_conflict_then_retried(shop) -> None:
    folders, inbox = shop
    inbox.take(drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")])))
    reinstalled = sales_file(1, [receipt("T01-1-1", shift=1)])

    held = inbox.take(drop(folders, "sales_T01_00000001.jsonl", reinstalled))

    assert held.event == "conflict"
    assert held.path.parent == folders.quarantine("T01")
    assert "retry" in held.path.with_name(held.path.name + ".reason").read_text()
    assert not Document.select().where(Document.external_id == "T01-1-1").exists()

    retried = inbox.retry("sales_T01_00000001.jsonl")

    assert retried.event == "imported"
    assert Document.select().where(Document.external_id == "T01-1-1").count() == 1
    assert not list(folders.quarantine("T01").iterdir())
    assert events("sales")[-3:] == ["conflict", "retried", "imported"]


def test_a_conflict_discarded_is_archived_and_marked(shop) -> None:
    folders, inbox = shop
    inbox.take(drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")])))
    inbox.take(
        drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-1-1", shift=1)]))
    )

    outcome = inbox.discard("sales_T01_00000001.jsonl", "test till, ignore")

    assert outcome.event == "discarded"
    assert outcome.path.exists() and outcome.path.parent == folders.archive("T01")
    marked = outcome.path.with_name(outcome.path.name + ".reason").read_text()
    assert "test till, ignore" in marked
    row = ExchangeFile.get(ExchangeFile.state == "discarded")
    assert row.path == folders.relative(outcome.path)
    assert not Document.select().where(Document.external_id == "T01-1-1").exists()
    assert events("sales")[-1] == "discarded"


def test_a_quarantined_file_is_retried_after_the_books_are_fixed(shop) -> None:
    folders, inbox = shop
    folders.ensure("T02")
    data = write_file("sales", "T02", "S01", 1, [receipt("T02-1-1")])

    held = inbox.take(drop(folders, "sales_T02_00000001.jsonl", data, till="T02"))
    assert held.event == "quarantined"
    assert "iis till add T02" in held.detail

    add_till("T02", "S01", "till-password-2")
    outcome = inbox.retry(str(held.path))

    assert outcome.event == "imported"
    assert Document.select().where(Document.till == "T02").count() == 1


def test_a_gap_is_logged_naming_the_missing_files(shop) -> None:
    folders, inbox = shop
    inbox.take(drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")])))

    inbox.take(drop(folders, "sales_T01_00000004.jsonl", sales_file(4, [receipt("T01-200-2")])))

    gap = ExchangeEvent.get(ExchangeEvent.event == "gap")
    assert gap.seq == 4
    assert "2-3" in gap.detail


def test_header_must_agree_with_the_name_and_the_folder(shop) -> None:
    folders, inbox = shop
    data = write_file("sales", "T01", "S01", 7, [receipt("T01-200-1")])

    outcome = inbox.take(drop(folders, "sales_T01_00000006.jsonl", data))

    assert outcome.event == "quarantined"
    assert outcome.line == 1
    assert "sales 6" in outcome.detail and "sales 7" in outcome.detail


def test_unfinished_uploads_wait(shop) -> None:
    folders, _ = shop
    inbox = Inbox(folders, settle_seconds=60)
    data = sales_file(1, [receipt("T01-200-1")])
    part = drop(folders, "sales_T01_00000001.jsonl.part", data)
    assert inbox.take(part) is None
    half = drop(folders, "sales_T01_00000001.jsonl", data[: len(data) // 2])
    assert inbox.take(half) is None
    assert half.exists()

    old = time.time() - 120
    os.utime(half, (old, old))
    assert inbox.take(half).event == "quarantined"

    os.rename(part, folders.from_pos("T01") / "sales_T01_00000001.jsonl")
    assert inbox.scan()[0].event == "imported"


def test_leftover_committed_but_not_archived_is_only_archived(shop) -> None:
    folders, inbox = shop
    outcome = inbox.take(
        drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")]))
    )
    # The state after a kill between the commit and the move to the archive:
    leftover = folders.processing("T01") / "sales_T01_00000001.jsonl"
    os.rename(outcome.path, leftover)
    row = ExchangeFile.get(ExchangeFile.state == "imported")
    row.path = folders.relative(leftover)
    row.save()
    before = events()

    (again,) = inbox.scan()

    assert again.event == "imported"
    assert again.path.parent == folders.archive("T01")
    assert events() == before
    assert Document.select().count() == 1


def test_leftover_before_the_commit_is_imported_once(shop) -> None:
    folders, inbox = shop
    data = sales_file(1, [receipt("T01-200-1"), receipt("T01-200-2")])
    # Killed after the claim, before anything was recorded:
    folders.processing("T01").mkdir(parents=True)
    (folders.processing("T01") / "sales_T01_00000001.jsonl").write_bytes(data)
    # Killed after the file was recorded as received, before the import committed:
    received = folders.processing("T01") / "sales_T01_00000002.jsonl"
    received.write_bytes(sales_file(2, [receipt("T01-200-3")]))
    ExchangeFile.create(
        till="T01",
        kind="sales",
        seq=2,
        name=received.name,
        state="received",
        path=folders.relative(received),
    )

    outcomes = inbox.scan()

    assert [o.event for o in outcomes] == ["imported", "imported"]
    assert Document.select().count() == 3
    assert inbox.scan() == []
    assert ExchangeFile.select().count() == 2
    assert check_books() == []


def test_threads_racing_for_one_file_take_it_once(shop) -> None:
    folders, _inbox = shop
    path = drop(folders, "sales_T01_00000001.jsonl", sales_file(1, [receipt("T01-200-1")]))
    results: list = []
    start = threading.Barrier(6)

    def worker() -> None:
        start.wait()
        results.append(Inbox(folders, settle_seconds=0).take(path))
        results.extend(Inbox(folders, settle_seconds=0).scan())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.event for r in results if r is not None] == ["imported"]
    assert Document.select().count() == 1


KILL_SCRIPT = """
import sys
from pathlib import Path
from models.db import open_database
from exchange.folders import ExchangeFolders
from exchange.inbox import Inbox
data = Path(sys.argv[1])
open_database(data)
Inbox(ExchangeFolders(data)).import_paths([sys.argv[2]])
"""


def test_sigkill_mid_import_then_the_scan_imports_exactly_once(shop, tmp_path: Path) -> None:
    folders, inbox = shop
    big = tmp_path / "sales_T01_00000001.jsonl"
    receipts = [receipt(f"T01-300-{n}", shift=300) for n in range(3000)]
    big.write_bytes(sales_file(1, receipts))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(folders.data_dir), str(big)], env=env
    )
    deadline = time.monotonic() + 60
    processing = folders.processing("T01")
    while time.monotonic() < deadline and process.poll() is None:
        if ExchangeFile.select().where(ExchangeFile.state == "received").exists():
            break
        time.sleep(0.005)
    time.sleep(0.1)  # into the import transaction
    process.kill()
    assert process.wait() == -9, "the import finished before it could be killed"
    assert any(p.suffix == ".jsonl" for p in processing.iterdir())
    assert not Document.select().exists()

    inbox.scan()

    assert big.exists()
    sold = Document.select().where((Document.till == "T01") & (Document.shift == 300))
    assert sold.count() == 3000
    assert len({d.external_id for d in sold}) == 3000
    assert check_books() == []
    assert ExchangeFile.select().where(ExchangeFile.state == "imported").count() == 1
    assert not list(processing.iterdir())
    # The same file by hand again is a duplicate, not a second import.
    (again,) = inbox.import_paths([big])
    assert again.event == "duplicate"
    assert sold.count() == 3000
