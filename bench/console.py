"""How fast the console's stock screen opens and searches a store of 100,000 goods.

Builds a temporary store (goods in a group tree, barcodes, prices, one batch
of stock each, written in bulk as bench/posting.py does), then drives the real
`StockScreen` headless at 80x24 with `App.run_test`:

- stock_open_s: from pushing the screen to its first rows painted;
- stock_search_s: from the last keystroke of a search (so the pause the
  screen waits for typing to stop is included) to the filtered rows painted;
- rss_mb: the process's resident memory then (psutil).

Target: under 1 s each.

    python bench/console.py [--goods 100000] [--search "milk 12"] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from textual.app import App

from models.bulk import insert_rows
from models.catalog import Barcode, Price, Product, ProductGroup
from models.db import open_database, write_transaction
from models.documents import Document
from models.ledger import Balance, Batch, StockMove
from models.org import DEFAULT_STORE_KEY, Employee, Setting, Store

GOODS = 100_000
STAMP = "2026-01-15 09:00:00"
KINDS_OF_GOODS = (
    "Milk",
    "Kefir",
    "Bread",
    "Cheese",
    "Butter",
    "Apples",
    "Tea",
    "Coffee",
    "Sugar",
    "Rice",
    "Pasta",
    "Juice",
    "Water",
    "Soap",
    "Candy",
    "Yogurt",
)
BRANDS = ("Prima", "Dobroe", "Lugovoe", "Severnoe", "Zolotoe", "Selskoe", "Gorod", "Vesna")


def build_books(folder: Path, goods: int = GOODS, seed: int = 11) -> Store:
    """Fresh books in `folder` with `goods` goods in stock in one store; returns the store."""
    rng = random.Random(seed)
    open_database(folder)
    store = Store.create(code="S01", name="Bench")
    Setting.set_value(DEFAULT_STORE_KEY, "S01")
    Employee.create(code="M01", name="Bench Manager", role="manager")
    tops = [ProductGroup.create_node(f"G{t}", KINDS_OF_GOODS[t]) for t in range(8)]
    leaves = [
        ProductGroup.create_node(f"G{t}.{s}", f"{top.name} {s}", top)
        for t, top in enumerate(tops)
        for s in range(10)
    ]
    product_columns = (
        "code",
        "name",
        "group_id",
        "unit",
        "weighed",
        "vat",
        "excise",
        "age_limit",
        "expiry_control",
        "deleted",
        "updated",
    )
    with write_transaction():
        insert_rows(
            Product,
            product_columns,
            [
                (
                    f"P{i:06d}",
                    f"{rng.choice(KINDS_OF_GOODS)} {rng.choice(BRANDS)} {i}",
                    rng.choice(leaves).id,
                    "pcs",
                    False,
                    "20",
                    False,
                    0,
                    True,
                    False,
                    STAMP,
                )
                for i in range(goods)
            ],
        )
    ids = [p for (p,) in Product.select(Product.id).order_by(Product.id).tuples()]
    today = dt.date(2026, 1, 15)
    with write_transaction():
        insert_rows(
            Barcode,
            ("code", "product_id"),
            [(f"46{p:011d}", p) for p in ids],
        )
        insert_rows(
            Price,
            ("store_id", "product_id", "price", "updated"),
            [(store.id, p, rng.randrange(5_000, 50_000), STAMP) for p in ids],
        )
        doc = Document.create(
            kind="incoming",
            state="posted",
            number="IN-000001",
            date=STAMP,
            store=store,
            author="M01",
            posted_at=STAMP,
            posted_by="M01",
        )
        insert_rows(
            Batch,
            (
                "id",
                "product_id",
                "document_id",
                "received",
                "cost",
                "expiry",
                "certificate",
                "origin",
            ),
            [
                (
                    p,
                    p,
                    doc.id,
                    STAMP,
                    3_000,
                    today + dt.timedelta(days=rng.randrange(-5, 400)),
                    "",
                    "",
                )
                for p in ids
            ],
        )
        stocked = [p for p in ids if p % 10]
        insert_rows(
            StockMove,
            ("document_id", "store_id", "product_id", "batch_id", "qty", "cost", "time"),
            [(doc.id, store.id, p, p, 10_000, 30_000, STAMP) for p in stocked],
        )
        insert_rows(
            Balance,
            ("store_id", "product_id", "batch_id", "qty", "cost"),
            [(store.id, p, p, 10_000, 30_000) for p in stocked],
        )
    database_analyze()
    return store


def database_analyze() -> None:
    """Fresh statistics, as `iis init` and a nightly `iis check` leave them."""
    from models.db import database

    database.execute_sql("ANALYZE")


async def measure(search: str) -> dict[str, float]:
    from console.screens.stock import StockScreen
    from console.widgets.lazy_table import LazyTable

    class BenchApp(App):
        def __init__(self) -> None:
            super().__init__()
            self.operator = Employee.get(Employee.code == "M01")

    app = BenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        started = time.perf_counter()
        screen = StockScreen()
        await app.push_screen(screen)
        table = screen.query_one("#stock-table", LazyTable)
        await _until(pilot, lambda: table.row_count > 0 and table.get_row(0) is not None)
        stock_open_s = time.perf_counter() - started

        screen.query_one("#stock-search").focus()
        # The pilot spends tens of milliseconds on each simulated key, which an
        # operator's typing does not; the clock starts at the last keystroke.
        await pilot.press(*search[:-1])
        started = time.perf_counter()
        await pilot.press(search[-1])
        await _until(
            pilot,
            lambda: (
                screen.search_text == search.strip()
                and screen.goods_count is not None
                and (screen.goods_count == 0 or table.get_row(0) is not None)
            ),
        )
        stock_search_s = time.perf_counter() - started
        rss_mb = psutil.Process().memory_info().rss / 2**20
    return {
        "stock_open_s": round(stock_open_s, 3),
        "stock_search_s": round(stock_search_s, 3),
        "rss_mb": round(rss_mb, 1),
        "found": screen.goods_count or 0,
    }


async def _until(pilot, ready, timeout: float = 30.0) -> None:
    """Let the app run until `ready()` holds and the screen has painted it."""
    deadline = time.perf_counter() + timeout
    while not ready():
        if time.perf_counter() > deadline:
            raise TimeoutError("the stock screen did not show its rows in time")
        await asyncio.sleep(0.005)
    await pilot.pause()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--goods", type=int, default=GOODS)
    parser.add_argument("--search", default="kefir prima")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_books(Path(tmp) / "books", args.goods)
        figures = asyncio.run(measure(args.search))
    found = figures.pop("found")
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in {"goods": args.goods, **figures, "found": found}.items():
            print(f"{key:>15}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
