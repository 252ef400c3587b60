"""The `iis` verbs of the books, run as an operator would, against a real data folder."""

from __future__ import annotations

import json

import pytest

from console.cli import main
from models.documents import Document
from models.ledger import Balance


def iis(data_dir, *args) -> int:
    return main(["--data-dir", str(data_dir), *args])


@pytest.fixture
def shop(tmp_path, capsys):
    data = tmp_path / "store"
    assert (
        iis(data, "init", "--store", "S01", "--name", "Corner shop", "--admin-login", "anna") == 0
    )
    assert iis(data, "init", "--store", "S01", "--name", "Corner shop") == 0  # idempotent
    csv = tmp_path / "goods.csv"
    csv.write_text(
        "code,name,group,unit,price,vat,barcodes\n"
        "A1001,Milk 3.2% 1 l,Food/Dairy,pcs,49.90,10,4601234567893\n"
        "A3005,Gouda,Food/Dairy,kg,389.00,10,\n"
        "A4001,Wine,Drinks,pcs,599.00,20,4607012345677\n",
        encoding="utf-8",
    )
    assert iis(data, "catalog", "import", str(csv)) == 0
    assert iis(data, "employee", "add", "C01", "--name", "Ivan", "--role", "cashier") == 0
    capsys.readouterr()
    return data


def _incoming(lines):
    from models.org import Store
    from models.posting import DocumentInput, LineInput, create_documents

    store = Store.get(Store.code == "S01")
    from models.catalog import Product

    ids = {p.code: p.id for p in Product.select()}
    (doc_id,) = create_documents(
        [
            DocumentInput(
                kind="incoming",
                store_id=store.id,
                till="T01",
                external_id="T01-D-1",
                lines=[LineInput(product_id=ids[c], qty=q, price=p) for c, q, p in lines],
            )
        ]
    )
    return doc_id


def test_approve_a_draft_and_list_stock_as_json(shop, capsys):
    doc_id = _incoming([("A1001", 24000, 3120), ("A3005", 5250, 30000)])
    assert iis(shop, "documents", "--state", "draft", "--format", "json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert set(row) == {"id", "kind", "state", "number", "date", "store", "author",
                        "external_id", "total"}  # fmt: skip
    assert row["external_id"] == "T01-D-1" and row["total"] == "2323.80"
    assert iis(shop, "draft", "approve", "T01-D-1", "--operator", "ADMIN") == 0
    assert Document.get_by_id(doc_id).state == "posted"
    capsys.readouterr()
    assert iis(shop, "stock", "--format", "json") == 0
    rows = {r["product"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["A1001"] == {
        "store": "S01", "product": "A1001", "name": "Milk 3.2% 1 l", "unit": "pcs",
        "quantity": "24", "cost": "31.20", "value": "748.80", "price": "49.90",
    }  # fmt: skip
    assert rows["A3005"]["quantity"] == "5.25"
    assert iis(shop, "stock", "--batches", "--format", "csv") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "store,product,name,unit,quantity,cost,value,price,batch,expiry"
    assert iis(shop, "stock", "--group", "Food/Dairy", "--format", "json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert iis(shop, "check") == 0


def test_cashier_may_not_approve_and_errors_are_one_line(shop, capsys):
    _incoming([("A1001", 1000, 100)])
    assert iis(shop, "draft", "approve", "T01-D-1", "--operator", "C01") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Ivan (cashier) may not approve documents")
    assert "Traceback" not in err
    assert iis(shop, "document", "show", "NOPE") == 2
    assert capsys.readouterr().err.strip() == "error: no document NOPE"
    assert iis(shop, "draft", "approve", "T01-D-1", "--operator", "ZZZ") == 2
    assert "no employee with code ZZZ" in capsys.readouterr().err


def test_reject_cancel_and_show(shop, capsys):
    _incoming([("A1001", 1000, 100)])
    assert iis(shop, "draft", "reject", "T01-D-1", "--reason", "wrong invoice",
               "--operator", "ADMIN") == 0  # fmt: skip
    assert iis(shop, "document", "show", "T01-D-1", "--format", "json") == 0
    out = capsys.readouterr().out
    shown = json.loads(out[out.index("{") :])
    assert shown["state"] == "rejected" and shown["reject_reason"] == "wrong invoice"
    assert shown["lines"][0]["product"] == "A1001"


def test_cancel_posted_document_reverses_stock(shop, capsys):
    doc_id = _incoming([("A1001", 2000, 3000)])
    assert iis(shop, "document", "post", str(doc_id), "--operator", "ADMIN") == 0
    assert iis(shop, "document", "cancel", str(doc_id), "--operator", "ADMIN") != 0  # no reason
    capsys.readouterr()
    assert iis(shop, "document", "cancel", str(doc_id), "--reason", "duplicate invoice",
               "--operator", "ADMIN") == 0  # fmt: skip
    assert sum(b.qty for b in Balance.select()) == 0
    assert iis(shop, "check") == 0


def test_check_fails_naming_the_problem(shop, capsys):
    doc_id = _incoming([("A1001", 2000, 3000)])
    assert iis(shop, "document", "post", str(doc_id), "--operator", "ADMIN") == 0
    Balance.update(qty=1).execute()
    capsys.readouterr()
    assert iis(shop, "check") == 1
    assert "balance qty 1" in capsys.readouterr().out


def test_backup_is_a_working_copy_of_the_books(shop, tmp_path, capsys):
    doc_id = _incoming([("A1001", 2000, 3000)])
    assert iis(shop, "document", "post", str(doc_id), "--operator", "ADMIN") == 0
    target = tmp_path / "copies"
    target.mkdir()
    assert iis(shop, "backup", str(target)) == 0
    (copy,) = target.iterdir()
    import shutil

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "iis.sqlite3")
    capsys.readouterr()
    assert iis(restored, "stock", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["product"] == "A1001" and rows[0]["quantity"] == "2"
    assert iis(shop, "backup", str(copy)) == 2  # never overwrites


def test_a_mistyped_verb_gets_a_suggestion(shop, capsys):
    assert iis(shop, "stok") == 2
    assert "did you mean stock?" in capsys.readouterr().err
    assert iis(shop, "draft", "aprove", "1") == 2
    assert "did you mean approve?" in capsys.readouterr().err
