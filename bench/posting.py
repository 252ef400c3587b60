"""How fast receipts post, against a raw insert of the same ledger rows.

Builds a store of 10,000 goods with stock, then posts receipts of five lines
each (in files of 100, as the tills send them) through the real posting
engine, and times a raw `sqlite3.executemany` of exactly the stock-move rows
that posting wrote, into an identical table, in the same run. The ratio of the
two is the figure to watch (target: at most 10x).

    python bench/posting.py [--receipts 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.bulk import insert_rows
from models.catalog import Price, Product
from models.db import open_database, write_transaction
from models.ledger import StockMove
from models.org import Store
from models.posting import DocumentInput, LineInput, create_documents

GOODS = 10_000
LINES_PER_RECEIPT = 5
RECEIPTS_PER_FILE = 100


PRODUCT_COLUMNS = (
    "code",
    "name",
    "unit",
    "weighed",
    "vat",
    "excise",
    "age_limit",
    "expiry_control",
    "deleted",
    "updated",
)
STAMP = "2026-01-01 00:00:00"


def insert_priced_goods(store: Store, goods: int) -> list[int]:
    """`goods` plain goods P000000, P000001, ... at 99.90 in `store`; returns their ids."""
    with write_transaction():
        insert_rows(
            Product,
            PRODUCT_COLUMNS,
            [
                (f"P{i:06d}", f"Goods {i}", "pcs", False, "20", False, 0, False, False, STAMP)
                for i in range(goods)
            ],
        )
    ids = [p for (p,) in Product.select(Product.id).tuples()]
    with write_transaction():
        insert_rows(
            Price,
            ("store_id", "product_id", "price", "updated"),
            [(store.id, p, 9990, STAMP) for p in ids],
        )
    return ids


def moves_since(before: int) -> list[tuple]:
    """The stock-move rows written after move id `before`, as `raw_baseline` inserts them."""
    return [
        (*m[:7], str(m[7]))
        for m in StockMove.select(
            StockMove.document_id,
            StockMove.line_id,
            StockMove.store_id,
            StockMove.product_id,
            StockMove.batch_id,
            StockMove.qty,
            StockMove.cost,
            StockMove.time,
        )
        .where(StockMove.id > before)
        .tuples()
    ]


def build_store(folder: Path) -> tuple[Store, list[int]]:
    open_database(folder)
    store = Store.create(code="S01", name="Bench")
    ids = insert_priced_goods(store, GOODS)
    # Stock every goods with two batches, so sales split across batches now and then.
    for start in range(0, GOODS, 1000):
        chunk = ids[start : start + 1000]
        for price in (5000, 5100):
            create_documents(
                [
                    DocumentInput(
                        kind="incoming",
                        store_id=store.id,
                        lines=[LineInput(product_id=p, qty=50_000, price=price) for p in chunk],
                    )
                ],
                post_by="bench",
            )
    return store, ids


def receipts(store: Store, ids: list[int], count: int, seed: int = 7) -> list[DocumentInput]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        lines = [
            LineInput(
                product_id=rng.choice(ids),
                qty=rng.choice((1000, 2000, 3000)),
                price=9990,
                sum=None,
                n=i + 1,
            )
            for i in range(LINES_PER_RECEIPT)
        ]
        out.append(
            DocumentInput(
                kind="sale",
                store_id=store.id,
                lines=lines,
                till="T01",
                external_id=f"T01-1-{n}",
                shift=1,
            )
        )
    return out


def raw_baseline(rows: list[tuple], folder: Path) -> float:
    """executemany of the same move rows into an identical table, in a fresh file."""
    conn = sqlite3.connect(folder / "raw.sqlite3")
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    conn.execute(
        'CREATE TABLE "stock_move" ("id" INTEGER NOT NULL PRIMARY KEY, "document_id" INTEGER '
        'NOT NULL, "line_id" INTEGER, "store_id" INTEGER NOT NULL, "product_id" INTEGER NOT '
        'NULL, "batch_id" INTEGER NOT NULL, "qty" INTEGER NOT NULL, "cost" INTEGER NOT NULL, '
        '"time" DATETIME NOT NULL)'
    )
    for index in StockMove._meta.database.obj.get_indexes("stock_move"):
        conn.execute(index.sql)
    started = time.perf_counter()
    for start in range(0, len(rows), RECEIPTS_PER_FILE * LINES_PER_RECEIPT):
        with conn:
            conn.executemany(
                'INSERT INTO "stock_move" ("document_id", "line_id", "store_id", "product_id", '
                '"batch_id", "qty", "cost", "time") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                rows[start : start + RECEIPTS_PER_FILE * LINES_PER_RECEIPT],
            )
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store, ids = build_store(folder / "books")
        before = StockMove.select().count()
        work = receipts(store, ids, args.receipts)
        started = time.perf_counter()
        for start in range(0, len(work), RECEIPTS_PER_FILE):
            create_documents(work[start : start + RECEIPTS_PER_FILE], post_by="T01")
        posting_s = time.perf_counter() - started
        moves = moves_since(before)
        raw_s = raw_baseline(moves, folder)
    lines = args.receipts * LINES_PER_RECEIPT
    figures = {
        "receipts": args.receipts,
        "lines": lines,
        "ledger_rows": len(moves),
        "posting_s": round(posting_s, 3),
        "raw_executemany_s": round(raw_s, 3),
        "lines_per_s": round(lines / posting_s),
        "ratio_to_raw": round(posting_s / raw_s, 2),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
