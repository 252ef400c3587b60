"""Exactly-once holes in the inbox: copies of held files, retries, odd names."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from exchange.folders import ExchangeFolders
from exchange.inbox import Inbox
from exchange.shopv2 import write_file
from models.check import check_books
from models.documents import Document
from models.till_records import ExchangeFile
from models.tills import add_till
from tests.test_inbox import drop, receipt, sales_file, setup_shop


@pytest.fixture
def shop(books: Path) -> tuple[ExchangeFolders, Inbox]:
    setup_shop()
    folders = ExchangeFolders(books)
    folders.ensure("T01")
    return folders, Inbox(folders, settle_seconds=0)


def test_a_held_file_sent_again_then_retried_is_imported(shop) -> None:
    folders, inbox = shop
    folders.ensure("T02")
    data = write_file("sales", "T02", "S01", 1, [receipt("T02-1-1")])
    name = "sales_T02_00000001.jsonl"

    held = inbox.take(drop(folders, name, data, till="T02"))
    assert held.event == "quarantined"
    again = inbox.take(drop(folders, name, data, till="T02"))
    assert again.event == "duplicate"  # the held copy still waits for the operator

    add_till("T02", "S01", "till-password-2")
    outcome = inbox.retry(str(held.path))

    assert outcome.event == "imported"
    assert Document.select().where(Document.external_id == "T02-1-1").count() == 1
    assert check_books() == []


def test_a_conflict_sent_again_then_retried_is_imported(shop) -> None:
    folders, inbox = shop
    name = "sales_T01_00000001.jsonl"
    inbox.take(drop(folders, name, sales_file(1, [receipt("T01-200-1")])))
    reinstalled = sales_file(1, [receipt("T01-1-1", shift=1)])
    held = inbox.take(drop(folders, name, reinstalled))
    assert held.event == "conflict"
    again = inbox.take(drop(folders, name, reinstalled))
    assert again.event == "duplicate"

    outcome = inbox.retry(str(held.path))

    assert outcome.event == "imported"
    assert Document.select().where(Document.external_id == "T01-1-1").count() == 1


def test_a_held_file_sent_again_once_the_cause_is_fixed_is_imported(shop) -> None:
    folders, inbox = shop
    folders.ensure("T02")
    data = write_file("sales", "T02", "S01", 1, [receipt("T02-1-1")])
    name = "sales_T02_00000001.jsonl"
    held = inbox.take(drop(folders, name, data, till="T02"))
    assert held.event == "quarantined"

    add_till("T02", "S01", "till-password-2")
    again = inbox.take(drop(folders, name, data, till="T02"))

    assert again.event == "imported"
    assert Document.select().where(Document.external_id == "T02-1-1").count() == 1
    later = inbox.retry(str(held.path))
    assert later.event == "duplicate"
    assert Document.select().where(Document.external_id == "T02-1-1").count() == 1
    assert isinstance(later.path, Path) and later.path.exists()


def test_hand_imports_racing_under_one_name_lose_no_file(shop, tmp_path: Path) -> None:
    folders, _inbox = shop
    sources: dict[int, list[Path]] = {t: [] for t in range(6)}
    for t, paths in sources.items():
        for i in range(12):
            folder = tmp_path / f"from{t}-{i}"
            folder.mkdir()
            path = folder / "sales_T01_00000001.jsonl"
            path.write_bytes(sales_file(1, [receipt(f"T01-{t}-{i}")]))
            paths.append(path)
    errors: list[BaseException] = []

    def work(paths: list[Path]) -> None:
        inbox = Inbox(ExchangeFolders(folders.data_dir), settle_seconds=0)
        try:
            for path in paths:
                inbox.import_paths([path])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(paths,)) for paths in sources.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    kept = {_sha(p) for p in folders.root.rglob("*.jsonl")}
    sent = {_sha(p) for paths in sources.values() for p in paths}
    assert sent <= kept
    assert not list(folders.processing("T01").iterdir())
    assert ExchangeFile.select().where(ExchangeFile.state == "imported").count() == 1
    assert Document.select().count() == 1


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_hand_import_whose_header_names_a_path_is_quarantined_not_fatal(
    shop, tmp_path: Path
) -> None:
    folders, inbox = shop
    bad = tmp_path / "bad" / "sales_T01_00000001.jsonl"
    bad.parent.mkdir()
    bad.write_bytes(write_file("sales", "../T01", "S01", 1, [receipt("T01-200-1")]))
    good = tmp_path / "sales_T01_00000002.jsonl"
    good.write_bytes(sales_file(2, [receipt("T01-200-2")]))

    outcomes = inbox.import_paths([bad, good])

    assert [o.event for o in outcomes] == ["quarantined", "imported"]
    assert outcomes[0].path.parent == folders.quarantine("T01")
    assert bad.exists() and Document.select().count() == 1
