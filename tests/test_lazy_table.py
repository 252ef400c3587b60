"""LazyTable over a real SQLite table of 100,000 goods, driven at the console's 80x24.

The source counts with COUNT(*) and pages with LIMIT/OFFSET, as the console's
stock screen will; it records the thread of every call so the tests can prove
the widget never queries on the UI thread, where a slow query would freeze
the console.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from console.widgets.lazy_table import Column, LazyTable, Row

GOODS = 100_000

COLUMNS = (
    Column("code", "Code", 7),
    Column("name", "Name", 20, flex=True),
    Column("qty", "Qty", 6, align="right"),
)


def _name(i: int) -> str:
    return f"Item {i:06d}"


@pytest.fixture(scope="module")
def goods_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("goods") / "goods.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE goods (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL,"
        " qty INTEGER NOT NULL, expired INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX goods_by_name ON goods (name, id)")
    db.executemany(
        "INSERT INTO goods (id, code, name, qty, expired) VALUES (?, ?, ?, ?, ?)",
        ((i, f"G{i:06d}", _name(i), i % 97, int(i % 10 == 0)) for i in range(1, GOODS + 1)),
    )
    db.commit()
    db.close()
    return path


@pytest.fixture
def goods_db(goods_template: Path, tmp_path: Path) -> Path:
    """A private copy, so a test may insert goods without disturbing the others."""
    path = tmp_path / "goods.sqlite3"
    shutil.copyfile(goods_template, path)
    return path


class GoodsSource:
    """Goods in name order, optionally filtered; one connection per calling thread.

    `gate`, when given, holds every fetch until it is set, to look at the table
    while a query is under way. A worker thread may still be querying when a
    test's app has exited, so `close` waits for the call in progress.
    """

    def __init__(
        self,
        path: Path,
        where: str = "",
        params: Sequence[object] = (),
        gate: threading.Event | None = None,
    ) -> None:
        self.path = path
        self.where = f"WHERE {where}" if where else ""
        self.params = tuple(params)
        self.gate = gate
        self.threads: list[int] = []
        self.connections: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False

    def _db(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("the source is closed")
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, check_same_thread=False)
            self._local.db = db
            self.connections.append(db)
        return db

    def count(self) -> int:
        self.threads.append(threading.get_ident())
        sql = f"SELECT COUNT(*) FROM goods {self.where}"
        with self._lock:
            return self._db().execute(sql, self.params).fetchone()[0]

    def fetch(self, offset: int, limit: int) -> list[Row]:
        self.threads.append(threading.get_ident())
        if self.gate is not None:
            self.gate.wait(10)
        sql = (
            f"SELECT id, code, name, qty, expired FROM goods {self.where}"
            " ORDER BY name, id LIMIT ? OFFSET ?"
        )
        with self._lock:
            cursor = self._db().execute(sql, (*self.params, limit, offset))
            return [
                Row(key, (code, name, str(qty)), "red" if expired else "")
                for key, code, name, qty, expired in cursor
            ]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in self.connections:
                db.close()


class ListSource:
    """Rows held in memory, for layout checks that need no database."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = list(rows)

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[Row]:
        return self.rows[offset : offset + limit]


class TableApp(App[None]):
    def __init__(self, source: GoodsSource | ListSource) -> None:
        super().__init__()
        self.source = source
        self.ui_thread = threading.get_ident()
        self.mounted_at = 0.0
        self.highlighted: list[LazyTable.RowHighlighted] = []
        self.selected: list[LazyTable.RowSelected] = []
        self.counted: list[int] = []

    def compose(self) -> ComposeResult:
        yield LazyTable(COLUMNS, self.source, id="goods")

    def on_mount(self) -> None:
        self.mounted_at = time.perf_counter()
        self.ui_thread = threading.get_ident()

    def on_lazy_table_row_highlighted(self, message: LazyTable.RowHighlighted) -> None:
        self.highlighted.append(message)

    def on_lazy_table_row_selected(self, message: LazyTable.RowSelected) -> None:
        self.selected.append(message)

    def on_lazy_table_counted(self, message: LazyTable.Counted) -> None:
        self.counted.append(message.count)


def screen_lines(app: App[None]) -> list[str]:
    """The text of the screen as the compositor would paint it now."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the table"
        await pilot.pause(0.005)


def on_screen(app: App[None], text: str) -> bool:
    return any(text in line for line in screen_lines(app))


def row_lines(app: App[None]) -> int:
    """Row lines in view: the table fills the screen, less its header line."""
    return app.query_one(LazyTable).scrollable_content_region.height - 1


@pytest.fixture
def source(goods_db: Path):
    source = GoodsSource(goods_db)
    yield source
    source.close()


async def test_first_paint_shows_first_rows(source: GoodsSource) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        first_paint = time.perf_counter() - app.mounted_at
        print(f"\nfirst rows painted {first_paint * 1000:.0f} ms after mount ({GOODS} rows)")
        await wait_for(pilot, lambda: bool(app.highlighted))
        table = app.query_one(LazyTable)
        lines = screen_lines(app)
        assert lines[0].split() == ["Code", "Name", "Qty"]
        assert lines[1].split()[:3] == ["G000001", "Item", "000001"]
        assert lines[2].split()[:3] == ["G000002", "Item", "000002"]
        assert table.row_count == GOODS
        assert table.cursor_index == 0
        assert table.cursor_key == 1
        assert (app.highlighted[-1].index, app.highlighted[-1].key) == (0, 1)
        assert app.counted == [GOODS]


async def test_end_jumps_to_the_last_row(source: GoodsSource) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        table = app.query_one(LazyTable)
        await pilot.press("end")
        assert table.cursor_index == GOODS - 1
        await wait_for(pilot, lambda: on_screen(app, _name(GOODS)))
        lines = screen_lines(app)
        assert _name(GOODS) in lines[row_lines(app)]
        assert _name(GOODS - 1) in lines[row_lines(app) - 1]
        assert table.cursor_key == GOODS
        await wait_for(pilot, lambda: app.highlighted[-1].key == GOODS)
        assert app.highlighted[-1].index == GOODS - 1

        await pilot.press("home")
        assert table.cursor_index == 0
        await wait_for(pilot, lambda: _name(1) in screen_lines(app)[1])


async def test_pagedown_moves_a_page(source: GoodsSource) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        table = app.query_one(LazyTable)
        page = row_lines(app)
        assert page == 23
        await pilot.press("down", "down")
        await pilot.press("pagedown")
        assert table.cursor_index == 2 + page
        await wait_for(pilot, lambda: _name(page + 1) in screen_lines(app)[1])
        assert _name(page + 3) in screen_lines(app)[3]
        assert table.cursor_key == page + 3
        await pilot.press("pageup")
        assert table.cursor_index == 2
        await wait_for(pilot, lambda: _name(1) in screen_lines(app)[1])


async def test_enter_selects_the_cursor_row(source: GoodsSource) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        await pilot.press("down", "down", "down", "enter")
        await wait_for(pilot, lambda: bool(app.selected))
        assert (app.selected[-1].index, app.selected[-1].key) == (3, 4)
        assert app.selected[-1].control is app.query_one(LazyTable)


async def test_set_source_shows_only_matches(source: GoodsSource, goods_db: Path) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        table = app.query_one(LazyTable)
        await pilot.press("pagedown")
        search = GoodsSource(goods_db, "name LIKE ?", ["%4242%"])
        try:
            expected = search.count()
            search.threads.clear()
            table.set_source(search)
            await wait_for(pilot, lambda: table.row_count == expected)
            await wait_for(pilot, lambda: on_screen(app, "4242"))
            assert 0 < expected < row_lines(app)
            lines = screen_lines(app)
            assert all("4242" in line for line in lines[1 : expected + 1])
            assert all(not line.strip() for line in lines[expected + 1 :])
            assert table.cursor_index == 0
            assert table.cursor_key == 4242
            await wait_for(pilot, lambda: app.counted[-1] == expected)
            assert app.ui_thread not in search.threads

            table.set_source(GoodsSource(goods_db, "name = ?", ["no such thing"]))
            await wait_for(pilot, lambda: table.row_count == 0)
            await wait_for(pilot, lambda: "No rows" in screen_lines(app)[1])
            assert table.cursor_key is None
        finally:
            search.close()


async def test_reload_keeps_the_cursor_on_its_row(source: GoodsSource, goods_db: Path) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        table = app.query_one(LazyTable)
        await pilot.press(*["down"] * 10)
        assert table.cursor_key == 11
        cursor_line = screen_lines(app).index(next(x for x in screen_lines(app) if _name(11) in x))

        db = sqlite3.connect(goods_db)
        db.executemany(
            "INSERT INTO goods (code, name, qty, expired) VALUES (?, ?, ?, 0)",
            [(f"A{i}", f"Aardvark {i}", i) for i in range(5)],
        )
        db.commit()
        db.close()

        table.reload()
        await wait_for(pilot, lambda: table.row_count == GOODS + 5)
        assert table.cursor_index == 15
        assert table.cursor_key == 11
        await wait_for(pilot, lambda: _name(11) in screen_lines(app)[cursor_line])
        await wait_for(pilot, lambda: app.highlighted[-1].index == 15)
        assert app.highlighted[-1].key == 11

        await pilot.press("home")
        await wait_for(pilot, lambda: "Aardvark 0" in screen_lines(app)[1])


async def test_reload_shows_old_rows_until_new_ones_arrive(goods_db: Path) -> None:
    gate = threading.Event()
    gate.set()
    source = GoodsSource(goods_db, gate=gate)
    app = TableApp(source)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: on_screen(app, _name(1)))
            table = app.query_one(LazyTable)
            before = screen_lines(app)
            gate.clear()
            table.reload()
            await pilot.pause(0.2)
            assert screen_lines(app) == before
            assert not table.loading
            gate.set()
            await wait_for(pilot, lambda: app.counted == [GOODS, GOODS])
            assert screen_lines(app)[1:] == before[1:]
    finally:
        gate.set()
        source.close()


async def test_the_source_is_never_called_on_the_ui_thread(source: GoodsSource) -> None:
    app = TableApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, _name(1)))
        table = app.query_one(LazyTable)
        for key in ("pagedown", "pagedown", "end", "up", "pageup", "home"):
            await pilot.press(key)
        table.scroll_to(y=50_000, animate=False)
        await wait_for(pilot, lambda: on_screen(app, _name(50_001)))
        table.reload()
        await wait_for(pilot, lambda: len(app.counted) >= 2)
        assert source.threads, "the source was never called"
        assert app.ui_thread not in source.threads


async def test_columns_fill_the_width_and_cut_long_text() -> None:
    rows = [
        Row(1, ("A1", "x" * 200, "12"), "red"),
        Row(2, ("B2", "short", "3.5"), ""),
    ]
    app = TableApp(ListSource(rows))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: on_screen(app, "short"))
        table = app.query_one(LazyTable)
        width = table.scrollable_content_region.width
        lines = [line[:width] for line in screen_lines(app)]
        assert lines[1].rstrip().endswith("…" + " " * 5 + "12")
        assert lines[2].rstrip().endswith("short" + " " * (width - 18) + "3.5")
        assert lines[0].rstrip().endswith("Qty")
        assert len(lines[0].rstrip()) == width - 1


async def test_rows_not_loaded_yet_show_a_placeholder(goods_db: Path) -> None:
    gate = threading.Event()
    gate.set()
    source = GoodsSource(goods_db, gate=gate)
    app = TableApp(source)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: on_screen(app, _name(1)))
            table = app.query_one(LazyTable)
            gate.clear()
            table.scroll_to(y=50_000, animate=False)
            await pilot.pause(0.1)
            assert screen_lines(app)[1].split()[0] == "…"
            assert table.get_row(50_000) is None
            gate.set()
            await wait_for(pilot, lambda: _name(50_001) in screen_lines(app)[1])
            assert table.get_row(50_000) == Row(
                50_001, ("G050001", _name(50_001), str(50_001 % 97)), ""
            )
    finally:
        gate.set()
        source.close()


class SlowCountSource(GoodsSource):
    def __init__(self, path: Path, release: threading.Event) -> None:
        super().__init__(path)
        self.release = release

    def count(self) -> int:
        self.release.wait(10)
        return super().count()


async def test_a_slow_count_shows_the_table_busy(goods_db: Path) -> None:
    release = threading.Event()
    source = SlowCountSource(goods_db, release)
    app = TableApp(source)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.query_one(LazyTable)
            await pilot.pause(LazyTable.BUSY_DELAY + 0.2)
            assert table.loading
            release.set()
            await wait_for(pilot, lambda: on_screen(app, _name(1)))
            assert not table.loading
    finally:
        release.set()
        source.close()


class BrokenSource(ListSource):
    def fetch(self, offset: int, limit: int) -> list[Row]:
        raise sqlite3.OperationalError("disk I/O error")


async def test_a_failing_source_is_reported_not_fatal() -> None:
    failures: list[Exception] = []

    class WatchingApp(TableApp):
        def on_lazy_table_load_failed(self, message: LazyTable.LoadFailed) -> None:
            failures.append(message.error)

    app = WatchingApp(BrokenSource([Row(1, ("A1", "one", "1"))]))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(failures))
        assert isinstance(failures[0], sqlite3.OperationalError)
        table = app.query_one(LazyTable)
        assert table.row_count == 1
        assert table.cursor_key is None
        await pilot.press("down", "enter")
        await pilot.pause(0.05)
        assert app.is_running
        assert len(failures) == 1
