"""The stock screen driven by the keyboard at 80x24 over real books in a temporary folder.

The books hold a small shop with fixed dates (today is 10 March 2026): milk
with an expired and a soon-expiring batch, kefir, juice, bread sold into
negative stock, sugar never received, in a group tree Food > Dairy, Food >
Bakery, Drinks. The helpers here are shared by the documents and snapshot
tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static, Tree

from console.screens.goods import GoodsScreen
from console.screens.stock import StockScreen
from console.widgets.lazy_table import LazyTable, Row
from models.catalog import Product, ProductGroup
from models.documents import Document
from models.ledger import Balance
from models.org import Employee, Store
from tests import factories

TODAY = dt.date(2026, 3, 10)
POSTED_AT = dt.datetime(2026, 3, 5, 12, 0)


@dataclass
class Shop:
    store: Store
    manager: Employee
    cashier: Employee
    groups: dict[str, ProductGroup]
    goods: dict[str, Product]
    docs: dict[str, Document]


def build_shop() -> Shop:
    """The small shop every console test reads; the books must be open."""
    store = factories.store("S01", allow_negative=True)
    factories.store("S02")
    food = factories.group("G1", "Food")
    dairy = factories.group("G11", "Dairy", food)
    bakery = factories.group("G12", "Bakery", food)
    drinks = factories.group("G2", "Drinks")
    milk = factories.product(
        "P001", "Milk 3.2%", at=store, price="89.90", barcode="4600000000017", grp=dairy
    )
    kefir = factories.product("P002", "Kefir", at=store, price="75.00", grp=dairy)
    juice = factories.product("P003", "Apple juice", at=store, price="120.00", grp=drinks)
    bread = factories.product("P004", "Rye bread", at=store, price="45.00", grp=bakery)
    sugar = factories.product("P005", "Sugar", at=store, price="99.00")
    manager = factories.manager("M01")
    cashier = factories.manager("C01", role="cashier")
    incoming = factories.doc(
        "incoming",
        store,
        [
            (milk, "10", "50.00", dt.date(2026, 3, 1)),
            (milk, "5", "52.00", dt.date(2026, 3, 14)),
            (kefir, "3", "40.00", dt.date(2026, 5, 1)),
            (juice, "12", "80.00"),
        ],
        post=True,
        date=dt.datetime(2026, 3, 1, 9, 0),
        author="M01",
        invoice="INV-77",
    )
    writeoff = factories.doc(
        "writeoff",
        store,
        [(juice, "2", "80.00")],
        post=True,
        date=dt.datetime(2026, 3, 2, 10, 30),
        author="M01",
        reason="damaged",
    )
    sale = factories.doc(
        "sale",
        store,
        [(bread, "2", "45.00"), (milk, "1", "89.90")],
        post=True,
        date=dt.datetime(2026, 3, 3, 18, 15),
        till="T01",
        external_id="T01-1-1",
    )
    draft = factories.doc(
        "incoming", store, [(kefir, "6", "41.00")], date=dt.datetime(2026, 3, 4, 8, 0)
    )
    Document.update(posted_at=POSTED_AT).where(Document.posted_at.is_null(False)).execute()
    return Shop(
        store=store,
        manager=manager,
        cashier=cashier,
        groups={"food": food, "dairy": dairy, "bakery": bakery, "drinks": drinks},
        goods={"milk": milk, "kefir": kefir, "juice": juice, "bread": bread, "sugar": sugar},
        docs={"incoming": incoming, "writeoff": writeoff, "sale": sale, "draft": draft},
    )


class ShopApp(App):
    """A bare app that shows one screen, as the console does, with an operator signed in."""

    TITLE = "IIS"

    def __init__(self, operator: Employee, make_screen: Callable[[], Screen]) -> None:
        super().__init__()
        self.operator = operator
        self._make_screen = make_screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())


async def settle(pilot: Pilot, timeout: float = 10.0) -> None:
    """Run until every worker (counts, pages, tree levels) is done and its results shown."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("workers still running")


def rows(table: LazyTable) -> list[Row]:
    """Every row the table shows (a short table: all loaded)."""
    found = [table.get_row(index) for index in range(table.row_count)]
    assert None not in found, "some rows are still loading"
    return found  # type: ignore[return-value]


def shown_text(widget: Static) -> str:
    """What a `Static` shows, as plain text (markup and Rich tables rendered)."""
    console = Console(width=max(widget.size.width, 40), file=io.StringIO(), record=True)
    content = widget.content
    console.print(Text.from_markup(content) if isinstance(content, str) else content)
    return console.export_text()


def codes(table: LazyTable) -> list[str]:
    return [row.cells[1] for row in rows(table)]


@contextlib.contextmanager
def utc_times() -> Iterator[None]:
    """Show times in UTC, so the figures on screen do not depend on the machine's zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.fixture
def shop(books: Path) -> Iterator[Shop]:
    with utc_times():
        yield build_shop()


def stock_app(shop: Shop, operator: Employee | None = None) -> ShopApp:
    return ShopApp(operator or shop.manager, lambda: StockScreen(today=TODAY))


def _table(app: App) -> LazyTable:
    return app.screen.query_one("#stock-table", LazyTable)


async def test_stock_shows_balances_with_expiry_and_negative_marked(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)
        table = _table(app)
        assert codes(table) == ["P001", "P002", "P003", "P004"]
        by_code = {row.cells[1]: row for row in rows(table)}
        milk = by_code["P001"]
        # 15 received, 1 sold; the earliest batch in stock expired on 1 March.
        assert milk.cells[2:5] == ("Milk 3.2%", "14", "pcs")
        assert milk.cells[7] == "89.90"
        assert milk.style == "red" and milk.cells[0] == "!"
        assert by_code["P002"].style == ""
        assert by_code["P004"].cells[3] == "-2"
        assert by_code["P004"].style == "bold red"
        status = shown_text(app.screen.query_one("#stock-status", Static))
        assert "S01" in status and "4 goods" in status
        assert table.has_focus


async def test_all_goods_toggle_shows_goods_never_stocked(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert codes(_table(app)) == ["P001", "P002", "P003", "P004", "P005"]
        await pilot.press("a")
        await settle(pilot)
        assert codes(_table(app)) == ["P001", "P002", "P003", "P004"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("P003", ["P003"]),
        ("kefir", ["P002"]),
        ("bread", ["P004"]),
        ("4600000000017", ["P001"]),
        ("nothing like it", []),
    ],
)
async def test_search_by_code_name_or_barcode(shop: Shop, typed: str, expected: list[str]):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.screen.query_one("#stock-search").has_focus
        await pilot.press(*typed)
        # The search waits for a pause in typing, then runs by itself.
        await pilot.pause(0.4)
        await settle(pilot)
        assert codes(_table(app)) == expected


async def test_search_enter_runs_at_once_and_returns_to_the_list(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"4600000000017", "enter")
        await settle(pilot)
        table = _table(app)
        assert codes(table) == ["P001"]
        assert table.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, GoodsScreen)
        assert app.screen.product_id == shop.goods["milk"].id


async def test_group_tree_loads_lazily_and_filters_the_subtree(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        tree = screen.query_one("#stock-groups", Tree)
        # At 80 columns the tree starts hidden; `g` calls it up over the whole width.
        assert not tree.display
        await pilot.press("g")
        await settle(pilot)
        assert tree.display and tree.has_focus
        top = [node.label.plain for node in tree.root.children]
        assert top == ["Drinks", "Food"]
        food = tree.root.children[1]
        # Only one level is read until a node is opened.
        assert list(food.children) == []
        await pilot.press("down", "down", "space")
        await settle(pilot)
        assert [node.label.plain for node in food.children] == ["Bakery", "Dairy"]

        await pilot.press("enter")
        await settle(pilot)
        # Choosing a group hides the tree again and shows the subtree's goods.
        assert not tree.display
        assert codes(_table(app)) == ["P001", "P002", "P004"]

        await pilot.press("g", "down", "down", "enter")
        await settle(pilot)
        assert codes(_table(app)) == ["P001", "P002"]
        assert "Dairy" in shown_text(screen.query_one("#stock-status", Static))

        await pilot.press("g", "home", "enter")
        await settle(pilot)
        assert codes(_table(app)) == ["P001", "P002", "P003", "P004"]


async def test_tree_sits_beside_the_list_when_wide_and_survives_a_resize(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        tree = screen.query_one("#stock-groups", Tree)
        table = _table(app)
        assert tree.display and table.display
        assert tree.region.right <= table.region.x
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not tree.display and table.display
        assert table.region.width == 80
        await pilot.resize_terminal(130, 40)
        await settle(pilot)
        assert tree.display and table.display
        await pilot.press("g")
        await settle(pilot)
        assert not tree.display
        assert table.region.width == 130


async def test_drill_down_shows_batches_by_expiry_and_moves_with_documents(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GoodsScreen)
        batches = rows(screen.query_one("#goods-batches", LazyTable))
        # The sale took one from the earliest-expiring batch (FEFO).
        assert [(row.cells[3], row.cells[4]) for row in batches] == [
            ("3/1/26", "9"),
            ("3/14/26", "5"),
        ]
        assert [row.style for row in batches] == ["red", "yellow"]
        assert [row.cells[0] for row in batches] == ["!", "~"]
        header = shown_text(screen.query_one("#goods-header", Static))
        assert "Milk 3.2%" in header and "Food/Dairy" in header

        moves_table = screen.query_one("#goods-moves", LazyTable)
        moves = rows(moves_table)
        assert [row.cells[1] for row in moves] == ["S-000003", "IN-000001", "IN-000001"]
        assert [row.cells[3] for row in moves] == ["-1", "5", "10"]

        moves_table.focus()
        await pilot.press("enter")
        await settle(pilot)
        from console.screens.document import DocumentScreen

        assert isinstance(app.screen, DocumentScreen)
        assert app.screen.document_id == shop.docs["sale"].id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)


async def test_refresh_keeps_the_cursor_on_its_goods(shop: Shop):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = _table(app)
        await pilot.press("down", "down")
        assert table.cursor_key == shop.goods["juice"].id
        # Another connection receives goods that sort first, and more juice.
        early = factories.product("A000", "Anise", at=shop.store)
        factories.doc(
            "incoming",
            shop.store,
            [(early, "1", "1.00"), (shop.goods["juice"], "5", "80")],
            post=True,
        )
        app.screen.refresh_data()
        await settle(pilot)
        assert table.cursor_key == shop.goods["juice"].id
        assert table.cursor_index == 3
        juice = table.get_row(3)
        assert juice is not None and juice.cells[3] == "15"


async def test_load_failure_is_a_notification_not_a_crash(shop: Shop, books: Path):
    app = stock_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        Balance._meta.database.execute_sql('ALTER TABLE "price" RENAME TO "price_gone"')
        try:
            app.screen.refresh_data()
            await settle(pilot)
            assert any("price" in n.message for n in app._notifications)
            assert isinstance(app.screen, StockScreen)
        finally:
            Balance._meta.database.execute_sql('ALTER TABLE "price_gone" RENAME TO "price"')


def test_screens_keep_no_connection_open_on_worker_threads(shop: Shop):
    """Sources open a connection per call on a thread that has none, and close it."""
    import threading

    from console.sources import StockSource
    from models.stock import StockFilter

    source = StockSource(StockFilter(shop.store), TODAY)
    seen: list[bool] = []

    def work() -> None:
        assert source.count() == 4
        assert len(source.fetch(0, 10)) == 4
        seen.append(Balance._meta.database.is_closed())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [True]
