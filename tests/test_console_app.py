"""The console app at 80x24: its screens by keyboard, the operator, the palette, live refresh.

Every test runs the real app (`App.run_test`) over real books in a temporary
SQLite file, built with the models as the daemon and the tills would build
them; nothing is mocked. The builders here are shared with the drafts and
snapshot tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

from console.app import IISApp, NotAnOperatorScreen
from console.commands_palette import palette_commands
from console.screens.documents import DocumentsScreen
from console.screens.drafts import DraftsScreen
from console.screens.exchange import ExchangeScreen, QuarantineListModal, QuarantineModal
from console.screens.help import HelpScreen
from console.screens.stock import StockScreen
from console.widgets.lazy_table import LazyTable
from exchange.folders import ExchangeFolders
from exchange.inbox import Inbox
from models.db import DATABASE_FILE, is_sqlite
from models.exchange_log import log_event
from models.org import Employee, Till
from models.parties import Supplier
from models.till_records import ExchangeEvent, ExchangeFile, TillStatus
from models.tills import add_till
from tests import factories

#: The fixed "now" of every console test: times on screen never depend on the clock.
NOW = dt.datetime(2026, 12, 4, 12, 0, 0)
SIZE = (80, 24)
SAMPLES = Path(__file__).parent / "data" / "samples"


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Local time is UTC in these tests, so times on screen are the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def console_books(data_dir: Path) -> dict:
    """A small store as a console sees it mid-morning: stock, tills, drafts, a held file."""
    store = factories.store("S01")
    dairy = factories.group("DAIRY", "Dairy")
    milk = factories.product(
        "A1001", "Milk 3.2% 1 l", price="89.90", at=store, barcode="4601234500012", grp=dairy
    )
    kefir = factories.product("A1002", "Kefir 1% 1 l", price="74.50", at=store, grp=dairy)
    gouda = factories.product(
        "A2001", "Cheese Gouda", weighed=True, price="899.00", at=store, grp=dairy, plu=1
    )
    supplier = Supplier.create(code="SUP7", name="Dairy Valley LLC")
    Employee.create(code="M01", name="Marina Sokolova", role="manager", store=store)
    Employee.create(code="A01", name="Alexander Orlov", role="admin")
    Employee.create(code="C01", name="Oleg Ivanov", role="cashier", store=store)
    factories.doc(
        "incoming",
        store,
        [(milk, "50", "60.00"), (kefir, "30", "50.00"), (gouda, "10.5", "600.00")],
        post=True,
        by="M01",
        date=NOW - dt.timedelta(days=3),
        supplier_id=supplier.id,
        invoice="OPEN-1",
    )
    for code in ("T01", "T02"):
        add_till(code, store, f"password-{code}")
    TillStatus.create(
        till=Till.get(Till.code == "T01"),
        last_contact=NOW - dt.timedelta(seconds=12),
        version="ShopV2 4.8.1",
        shift=124,
        shift_open=True,
    )
    TillStatus.create(
        till=Till.get(Till.code == "T02"),
        last_contact=NOW - dt.timedelta(hours=2),
        version="ShopV2 4.7.0",
        shift=77,
        shift_open=False,
    )
    invoice = factories.doc(
        "incoming",
        store,
        [(milk, "24", "31.20", dt.date(2027, 3, 1)), (None, "12", "18.40")],
        till="T01",
        external_id="T01-D-17",
        author="C01",
        date=NOW - dt.timedelta(hours=3),
        supplier_id=supplier.id,
        invoice="INV-5561",
        invoice_date=dt.date(2026, 12, 3),
        comment="one box dented",
    )
    count = factories.doc(
        "inventory",
        store,
        [(milk, "48"), (kefir, "31")],
        till="T02",
        external_id="T02-D-4",
        author="C01",
        date=NOW - dt.timedelta(hours=2),
    )
    writeoff = factories.doc(
        "writeoff",
        store,
        [(kefir, "2", "50.00")],
        till="T01",
        external_id="T01-D-18",
        author="C01",
        reason="expired",
        date=NOW - dt.timedelta(hours=1),
    )
    order = factories.doc(
        "order",
        store,
        [(milk, "3", "89.90")],
        till="T02",
        external_id="T02-B-9",
        author="C01",
        date=NOW - dt.timedelta(minutes=30),
    )
    held = _held_file(data_dir)
    for seconds, till, name, event, detail in (
        (300, "T01", "sales_T01_00000001.jsonl", "received", "964 bytes"),
        (299, "T01", "sales_T01_00000001.jsonl", "imported", "receipts 1, sales 1"),
        (240, "T02", "status_T02_00000001.jsonl", "imported", "status 1"),
        (200, "T01", "catalog_00000001.jsonl", "published", "full, 3 goods"),
        (120, "T01", "sales_T01_00000002.jsonl", "received", "1201 bytes"),
        (119, "T01", "sales_T01_00000002.jsonl", "quarantined", "line 2: no such goods"),
        (60, "T02", "drafts_T02_00000001.jsonl", "imported", "drafts 1"),
        (30, "T01", "catalog_00000001.jsonl", "acknowledged", "the till applied it"),
    ):
        log_event(
            event, till, name.split("_")[0], None, name, detail, NOW - dt.timedelta(seconds=seconds)
        )
    return {
        "store": store,
        "milk": milk,
        "kefir": kefir,
        "gouda": gouda,
        "invoice": invoice,
        "count": count,
        "writeoff": writeoff,
        "order": order,
        "held": held,
    }


def _held_file(data_dir: Path) -> ExchangeFile:
    """A quarantined sales file on disk with its reason, as the inbox leaves one."""
    folders = ExchangeFolders(data_dir)
    target = folders.quarantine("T01") / "sales_T01_00000002.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "broken" / "sales_T01_00000002.jsonl", target)
    reason = "line 2: receipt T01-124-1 sells goods A1001 at 49.90, the sum does not add up"
    folders.write_reason(target, reason)
    return ExchangeFile.create(
        till="T01",
        direction="in",
        kind="sales",
        seq=2,
        name=target.name,
        size=target.stat().st_size,
        state="quarantined",
        path=folders.relative(target),
        reason=reason,
        line=2,
        received_at=NOW - dt.timedelta(seconds=120),
    )


@pytest.fixture
def shop(books: Path) -> dict:
    """The books of `console_books` in a temporary data folder."""
    data = console_books(books)
    data["data_dir"] = books
    return data


def make_app(data_dir: Path, operator: str | None = "M01", **kwargs) -> IISApp:
    kwargs.setdefault("now", NOW)
    return IISApp(data_dir, operator, **kwargs)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let workers and messages run until `condition` holds (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        try:
            if condition():
                return
        except Exception:
            pass
    raise AssertionError("the console did not reach the expected state in time")


def table_rows(table: LazyTable) -> list[tuple[str, ...]]:
    """The rows a LazyTable has loaded, in order, as their cells."""
    rows = []
    for index in range(table.row_count):
        row = table.get_row(index)
        if row is not None:
            rows.append(row.cells)
    return rows


def loaded(table: LazyTable) -> bool:
    return table.row_count > 0 and table.get_row(0) is not None


# ------------------------------------------------------------------------ start


async def test_opens_on_exchange_with_tills_and_log(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, ExchangeScreen)
        tills = app.screen.query_one("#tills", DataTable)
        log = app.screen.query_one("#log", LazyTable)
        await wait_for(pilot, lambda: tills.row_count == 2 and loaded(log))
        assert app.operator.code == "M01"
        t01 = [str(cell) for cell in tills.get_row("T01")]
        assert t01[:2] == ["T01", "S01"]
        assert t01[3] == "12s"  # how long ago, against the fixed clock
        assert t01[5] == "open"
        assert t01[8] == "1"  # one file held in quarantine
        assert t01[9].startswith("line 2: receipt T01-124-1")
        assert str(tills.get_row("T02")[5]) == "closed"
        rows = table_rows(log)
        assert len(rows) == 8
        assert rows[0][2] == "acknowledged"  # newest first
        assert rows[-1][2] == "received"


async def test_screens_by_number_keys_and_help(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, DraftsScreen)
        await pilot.press("3")
        assert isinstance(app.screen, StockScreen)
        await pilot.press("4")
        assert isinstance(app.screen, DocumentsScreen)
        await pilot.press("1")
        assert isinstance(app.screen, ExchangeScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {(e.key, e.description) for e in app.screen.entries}
        assert ("x", "Quarantine") in keys
        assert ("t", "Till") in keys
        assert ("?", "Help") in keys
        await pilot.press("escape")
        assert isinstance(app.screen, ExchangeScreen)


async def test_a_login_that_is_no_employee_gets_a_clear_message(books):
    factories.store("S01")
    app = make_app(books, operator=None)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, NotAnOperatorScreen)
        assert app.operator is None
        assert "ask an admin" in app.screen.message
        assert "iis employee add" in app.screen.message
        await pilot.press("2")  # the screens stay closed to a stranger
        assert isinstance(app.screen, NotAnOperatorScreen)
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_an_unknown_operator_code_is_refused_plainly(books):
    factories.store("S01")
    app = make_app(books, operator="NOBODY")
    async with app.run_test(size=SIZE):
        assert isinstance(app.screen, NotAnOperatorScreen)
        assert "NOBODY" in app.screen.message


# ------------------------------------------------------------------------ palette


async def test_palette_lists_every_screen_and_the_actions_of_the_one_in_view(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        titles = {c.title: c.help for c in palette_commands(app, app.screen)}
        assert "Exchange: Quarantine" in titles
        assert "Exchange: Till" in titles
        assert titles["Go to Drafts"]
        assert "Go to Stock" in titles and "Go to Documents" in titles
        assert "Go to Exchange" not in titles  # the screen in view
        assert "Quit" in titles and "Help: keys of this screen" in titles
        await pilot.press("2")
        titles = {c.title for c in palette_commands(app, app.screen)}
        assert {"Drafts: Approve", "Drafts: Reject", "Drafts: Open"} <= titles
        assert "Exchange: Quarantine" not in titles
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"approve")
        await wait_for(pilot, lambda: app.screen.query_one("CommandList").option_count > 0)
        await pilot.press("escape")
        assert isinstance(app.screen, DraftsScreen)


async def test_palette_goes_to_a_screen(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"go to drafts")
        await wait_for(pilot, lambda: app.screen.query_one("CommandList").option_count > 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DraftsScreen))


# ------------------------------------------------------------------------ exchange


async def test_log_filters_by_till_and_event(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one("#log", LazyTable)
        await wait_for(pilot, lambda: loaded(log) and log.row_count == 8)
        app.screen.query_one("#till-filter", Select).value = "T02"
        await wait_for(pilot, lambda: log.row_count == 2 and loaded(log))
        assert {row[1] for row in table_rows(log)} == {"T02"}
        app.screen.query_one("#event-filter", Select).value = "imported"
        await wait_for(pilot, lambda: log.row_count == 2 and loaded(log))
        app.screen.query_one("#till-filter", Select).clear()
        await wait_for(pilot, lambda: log.row_count == 3 and loaded(log))
        assert {row[2] for row in table_rows(log)} == {"imported"}
        await pilot.press("c")
        await wait_for(pilot, lambda: log.row_count == 8)


async def test_enter_on_a_till_shows_its_log(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        tills = app.screen.query_one("#tills", DataTable)
        log = app.screen.query_one("#log", LazyTable)
        await wait_for(pilot, lambda: tills.row_count == 2 and loaded(log))
        await pilot.press("s")  # to the tills table
        assert app.focused is tills
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: log.row_count == 2 and loaded(log))
        assert {row[1] for row in table_rows(log)} == {"T02"}
        assert app.focused is log


async def test_quarantined_file_shows_reason_and_offending_line_then_retries(shop):
    app = make_app(shop["data_dir"])
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one("#log", LazyTable)
        await wait_for(pilot, lambda: loaded(log))
        index = next(i for i, row in enumerate(table_rows(log)) if row[2] == "quarantined")
        log.move_cursor(index)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QuarantineModal))
        modal = app.screen
        await wait_for(pilot, lambda: modal.shown is not None)
        held = modal.shown
        assert "sum does not add up" in held.reason
        assert held.line == 2
        lines = dict(held.context)
        assert '"id": "T01-124-1"' in lines[2]  # the offending line itself, from the file
        assert '"type": "header"' in lines[1]  # and the line before it, for context
        assert "sum does not add up" in str(modal.query_one("#quarantine-reason").render())
        modal.shown = None
        await pilot.press("r")
        # The file is still wrong, so the inbox holds it again; the retry is logged.
        await wait_for(
            pilot,
            lambda: ExchangeEvent.select().where(ExchangeEvent.event == "retried").count() == 1,
        )
        await wait_for(pilot, lambda: modal.shown is not None)
        row = ExchangeFile.get_by_id(shop["held"].id)
        assert row.state in ("quarantined", "conflict", "imported", "duplicate")
        await pilot.press("escape")
        assert isinstance(app.screen, ExchangeScreen)


async def test_quarantine_list_opens_a_file_and_retry_imports_a_fixed_one(shop):
    data_dir = shop["data_dir"]
    folders = ExchangeFolders(data_dir)
    folders.ensure("T01")
    good = folders.from_pos("T01") / "sales_T01_00000001.jsonl"
    shutil.copy(SAMPLES / "sales_T01_00000001.jsonl", good)
    text = good.read_text(encoding="utf-8").replace('"seq": 1', '"seq": 1 ,', 1)
    good.write_text(text[:-40], encoding="utf-8")  # a cut file: the inbox refuses it
    outcome = Inbox(folders, settle_seconds=0).take(good, complete=True)
    assert outcome is not None and outcome.event == "quarantined"
    held = ExchangeFile.get(ExchangeFile.name == good.name)
    shutil.copy(SAMPLES / "sales_T01_00000001.jsonl", folders.absolute(held.path))  # the fix
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, QuarantineListModal)
        table = app.screen.query_one("#held", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        table.move_cursor(row=table.get_row_index(str(held.id)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QuarantineModal))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, QuarantineListModal))
        assert ExchangeFile.get_by_id(held.id).state == "imported"
        await wait_for(pilot, lambda: table.row_count == 1)


async def test_a_cashier_may_not_discard_a_held_file(shop):
    app = make_app(shop["data_dir"], operator="C01")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        table = app.screen.query_one("#held", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QuarantineModal))
        await pilot.press("d")
        await pilot.pause(0.1)
        assert isinstance(app.screen, QuarantineModal)  # no reason asked: refused at once
        assert any("only a manager or an admin" in n.message for n in app._notifications)
        assert ExchangeFile.get_by_id(shop["held"].id).state == "quarantined"


# ------------------------------------------------------------------------ live refresh


async def test_live_refresh_picks_up_a_change_from_another_connection(shop):
    if not is_sqlite():
        pytest.skip("writes through a second SQLite connection, as the daemon does")
    app = make_app(shop["data_dir"], refresh_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one("#log", LazyTable)
        tills = app.screen.query_one("#tills", DataTable)
        await wait_for(pilot, lambda: loaded(log) and log.row_count == 8)
        log.move_cursor(3)
        key = log.cursor_key
        version = app.books_version
        # Another process (the daemon) writes to the books through its own connection.
        other = sqlite3.connect(shop["data_dir"] / DATABASE_FILE)
        with other:
            other.execute(
                "INSERT INTO exchange_event (time, till, kind, seq, file, event, detail) "
                "VALUES (?, 'T02', 'sales', 5, 'sales_T02_00000005.jsonl', 'imported', 'x')",
                ((NOW - dt.timedelta(seconds=5)).isoformat(sep=" "),),
            )
            other.execute(
                "UPDATE till_status SET version = 'ShopV2 4.9.0' WHERE till_id = "
                "(SELECT id FROM till WHERE code = 'T02')"
            )
        other.close()
        await wait_for(pilot, lambda: log.row_count == 9 and loaded(log))
        assert app.books_version > version
        assert log.cursor_key == key  # the cursor stayed on its event
        await wait_for(pilot, lambda: "4.9.0" in str(tills.get_row("T02")[4]))


async def test_nothing_is_reloaded_while_the_books_stand_still(shop):
    app = make_app(shop["data_dir"], refresh_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert app.books_version == 0


async def test_a_hidden_screen_catches_up_when_shown(shop):
    app = make_app(shop["data_dir"], refresh_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        drafts = app.screen.query_one("#drafts-table", LazyTable)
        await wait_for(pilot, lambda: drafts.row_count == 4)
        await pilot.press("1")
        factories.doc(
            "writeoff",
            shop["store"],
            [(shop["milk"], "1", "60.00")],
            till="T02",
            external_id="T02-D-5",
            date=NOW,
        )
        version = app.books_version
        await wait_for(pilot, lambda: app.books_version > version)
        await pilot.press("2")
        await wait_for(pilot, lambda: drafts.row_count == 5)


async def test_demo_object_is_stopped_when_the_console_closes(shop):
    class Demo:
        stopped = 0

        def stop(self) -> None:
            Demo.stopped += 1

    app = make_app(shop["data_dir"], demo=Demo())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    assert Demo.stopped == 1
