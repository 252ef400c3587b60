"""`iis import`, `iis exchange ...` and `iis till ...` through the real command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from console.cli import main
from exchange.accounts import DatabaseTillAccounts
from exchange.folders import ExchangeFolders
from models.db import open_database
from models.documents import Document
from models.exchange_log import LOG_KEYS, STATUS_KEYS
from models.org import Employee, Till
from models.tills import verify_till_password
from tests.test_inbox import SAMPLES, setup_shop


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    db = open_database(folder)
    setup_shop()
    yield folder
    db.close()


def run(data: Path, *argv: str) -> int:
    return main(["--data-dir", str(data), *argv])


def out_json(capsys) -> list[dict]:
    return json.loads(capsys.readouterr().out)


def test_till_add_prints_a_password_once_and_keeps_only_its_hash(data: Path, capsys) -> None:
    assert run(data, "till", "add", "T05", "--store", "S02") == 0
    printed = capsys.readouterr().out
    password = printed.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    till = Till.get(Till.code == "T05")
    assert password not in till.password_hash and till.password_hash.startswith("pbkdf2_sha256$")
    assert verify_till_password("T05", password)
    assert (data / "exchange" / "tills" / "T05" / "from_pos").is_dir()

    accounts = DatabaseTillAccounts(ExchangeFolders(data))
    assert accounts.authenticate("T05", password)
    assert not accounts.authenticate("T05", "wrong-password")
    assert accounts.home("T05") == ExchangeFolders(data).till_home("T05")


def test_till_password_file_passwd_disable_and_list(data: Path, tmp_path: Path, capsys) -> None:
    secret = tmp_path / "pw"
    secret.write_text("chosen-password\n")
    assert run(data, "till", "add", "T06", "--password-file", str(secret)) == 0
    assert "chosen-password" not in capsys.readouterr().out
    assert verify_till_password("T06", "chosen-password")

    assert run(data, "till", "passwd", "T06") == 0
    new = capsys.readouterr().out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert verify_till_password("T06", new)
    assert not verify_till_password("T06", "chosen-password")

    assert run(data, "till", "disable", "T06") == 0
    assert not verify_till_password("T06", new)
    capsys.readouterr()
    assert run(data, "till", "list", "--format", "json") == 0
    rows = {r["till"]: r for r in out_json(capsys)}
    assert rows["T06"]["enabled"] is False and rows["T06"]["store"] == "S01"
    assert "hash" not in json.dumps(rows)

    assert run(data, "till", "add", "T06") == 2
    assert "already exists" in capsys.readouterr().err


def test_import_log_status_and_quarantine(data: Path, capsys) -> None:
    files = [
        str(SAMPLES / "sales_T01_00000001.jsonl"),
        str(SAMPLES / "broken/sales_T01_00000002.jsonl"),
    ]

    assert run(data, "import", *files) == 1
    printed = capsys.readouterr().out
    assert "sales_T01_00000001.jsonl: imported" in printed
    assert "sales_T01_00000002.jsonl: quarantined: line 3" in printed
    assert (SAMPLES / "broken/sales_T01_00000002.jsonl").exists()
    assert Document.select().count() == 5

    assert run(data, "exchange", "log", "--format", "json") == 0
    log = out_json(capsys)
    assert all(tuple(row) == LOG_KEYS for row in log)
    assert [r["event"] for r in reversed(log)] == [
        "received",
        "imported",
        "received",
        "quarantined",
    ]
    assert run(data, "exchange", "log", "--till", "T09", "--format", "json") == 0
    assert out_json(capsys) == []
    assert run(data, "exchange", "log", "--since", "2999-01-01", "--format", "json") == 0
    assert out_json(capsys) == []

    assert run(data, "exchange", "status", "--format", "json") == 0
    (status,) = out_json(capsys)
    assert tuple(status) == STATUS_KEYS
    assert status["till"] == "T01" and status["store"] == "S01"
    assert status["quarantined"] == 1 and "line 3" in status["last_error"]

    assert run(data, "exchange", "quarantine", "--format", "json") == 0
    (held,) = out_json(capsys)
    assert held["file"] == "sales_T01_00000002.jsonl" and held["line"] == 3


def test_retry_and_discard_from_the_command_line(data: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "sales_T01_00000002.jsonl"
    shutil.copy(SAMPLES / "broken/sales_T01_00000002.jsonl", broken)
    run(data, "import", str(broken), str(SAMPLES / "status_T01_00000001.jsonl"))
    capsys.readouterr()

    Employee.create(code="M01", name="Anna", role="manager")
    Employee.create(code="C01", name="Ivan", role="cashier")
    assert run(data, "exchange", "retry", "sales_T01_00000002.jsonl", "--operator", "C01") == 1
    assert "quarantined" in capsys.readouterr().out

    held = "sales_T01_00000002.jsonl"
    assert run(data, "exchange", "discard", held, "--reason", "cut", "--operator", "C01") == 2
    assert "may not discard files" in capsys.readouterr().err
    assert run(data, "exchange", "discard", held, "--reason", "cut", "--operator", "M01") == 0
    assert "discarded" in capsys.readouterr().out
    assert run(data, "exchange", "quarantine", "--format", "json") == 0
    assert out_json(capsys) == []
    assert run(data, "exchange", "log", "--format", "json") == 0
    log = out_json(capsys)
    assert [r["event"] for r in log[:3]] == ["discarded", "quarantined", "retried"]
    assert log[0]["detail"] == "by M01: cut" and log[2]["detail"].startswith("by C01: ")

    assert run(data, "exchange", "retry", "nothing.jsonl") == 2
    assert "no quarantined" in capsys.readouterr().err
