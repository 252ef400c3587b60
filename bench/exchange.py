"""How fast the exchange works: imports, the FTP round trip, and the catalog export.

Three figures, each in a fresh store in a temporary folder:

- the import rate of sales lines through the real inbox (parse, check, post, archive),
  and its ratio to a raw `sqlite3.executemany` of exactly the ledger rows the import
  wrote, into an identical table, in the same run (target: at most 10x);
- the median time from a till's RNTO to the import being in the exchange log, over
  uploads through the real FTP server on the loopback (target: under 1 s);
- a full catalog export of 100,000 goods (target: under 5 s).

    python bench/exchange.py [--receipts 5000] [--uploads 20] [--goods 100000] [--json]
"""

from __future__ import annotations

import argparse
import ftplib
import io
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from posting import (
    LINES_PER_RECEIPT,
    RECEIPTS_PER_FILE,
    build_store,
    insert_priced_goods,
    moves_since,
    raw_baseline,
)

from exchange.folders import ExchangeFolders
from exchange.inbox import Inbox
from exchange.outbox import Outbox
from exchange.service import ExchangeService
from exchange.shopv2 import file_name, write_file
from models.bulk import insert_rows
from models.catalog import Barcode, Product
from models.db import open_database, write_transaction
from models.ledger import StockMove
from models.org import Store
from models.till_records import ExchangeEvent
from models.tills import add_till

PASSWORD = "bench-password"
HOST = "127.0.0.1"


def sales_file(till: str, seq: int, first: int, count: int, codes: list[str], rng) -> bytes:
    """A sales file of `count` receipts of five lines each, arithmetic right."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    stamp = stamp[:-2] + ":" + stamp[-2:]
    receipts = []
    for n in range(first, first + count):
        lines = []
        total = Decimal("0.00")
        for i in range(LINES_PER_RECEIPT):
            qty = rng.choice((1, 2, 3))
            amount = Decimal("99.90") * qty
            total += amount
            lines.append(
                {
                    "n": i + 1,
                    "product": rng.choice(codes),
                    "qty": str(qty),
                    "price": "99.90",
                    "sum": f"{amount:.2f}",
                }
            )
        receipts.append(
            {
                "type": "receipt",
                "id": f"{till}-1-{n}",
                "shift": 1,
                "number": n,
                "op": "sale",
                "opened": stamp,
                "closed": stamp,
                "cashier": "C01",
                "lines": lines,
                "payments": [{"method": "card", "amount": f"{total:.2f}", "change": "0.00"}],
                "total": f"{total:.2f}",
            }
        )
    return write_file("sales", till, "S01", seq, receipts)


def bench_import(folder: Path, receipts: int) -> dict[str, float]:
    import random

    store, _ids = build_store(folder / "books")
    add_till("T01", store, PASSWORD)
    codes = [code for (code,) in Product.select(Product.code).tuples()]
    folders = ExchangeFolders(folder / "books")
    folders.ensure("T01")
    rng = random.Random(7)
    files = []
    for seq, first in enumerate(range(0, receipts, RECEIPTS_PER_FILE), start=1):
        count = min(RECEIPTS_PER_FILE, receipts - first)
        files.append(
            (file_name("sales", seq, "T01"), sales_file("T01", seq, first, count, codes, rng))
        )
    for name, data in files:
        (folders.from_pos("T01") / name).write_bytes(data)
    before = StockMove.select().count()
    inbox = Inbox(folders)
    started = time.perf_counter()
    outcomes = inbox.scan()
    import_s = time.perf_counter() - started
    failed = [o for o in outcomes if o.event != "imported"]
    if failed:
        raise SystemExit(f"bench import failed: {failed[0].event}: {failed[0].detail}")
    moves = moves_since(before)
    raw_s = raw_baseline(moves, folder)
    lines = receipts * LINES_PER_RECEIPT
    return {
        "receipts": receipts,
        "lines": lines,
        "files": len(files),
        "ledger_rows": len(moves),
        "import_s": round(import_s, 3),
        "raw_executemany_s": round(raw_s, 3),
        "lines_per_s": round(lines / import_s),
        "ratio_to_raw": round(import_s / raw_s, 2),
    }


def bench_round_trip(folder: Path, uploads: int) -> dict[str, float]:
    """Median seconds from the RNTO of an upload to its `imported` row in the exchange log."""
    import random

    books = folder / "books"
    codes = [code for (code,) in Product.select(Product.code).limit(1000).tuples()]
    rng = random.Random(11)
    service = ExchangeService(books, port=0, export_interval=3600.0, scan_interval=3600.0)
    service.start()
    delays = []
    try:
        with ftplib.FTP() as ftp:
            ftp.connect(HOST, service.port, timeout=10)
            ftp.login("T01", PASSWORD)
            for seq in range(1, uploads + 1):
                name = file_name("sales", 10_000 + seq, "T01")
                data = sales_file("T01", 10_000 + seq, 1_000_000 + seq * 10, 10, codes, rng)
                ftp.storbinary(f"STOR from_pos/{name}.part", io.BytesIO(data))
                started = time.perf_counter()
                ftp.rename(f"from_pos/{name}.part", f"from_pos/{name}")
                deadline = started + 30
                while time.perf_counter() < deadline:
                    done = (
                        ExchangeEvent.select()
                        .where((ExchangeEvent.file == name) & (ExchangeEvent.event == "imported"))
                        .exists()
                    )
                    if done:
                        break
                    time.sleep(0.005)
                else:
                    raise SystemExit(f"{name} was not imported within 30 s")
                delays.append(time.perf_counter() - started)
    finally:
        service.stop()
    return {
        "uploads": uploads,
        "rename_to_log_median_s": round(statistics.median(delays), 3),
        "rename_to_log_max_s": round(max(delays), 3),
    }


def bench_catalog(folder: Path, goods: int) -> dict[str, float]:
    """A full catalog of `goods` priced goods with a barcode each, exported for one till."""
    books = folder / "catalog"
    open_database(books)
    store = Store.create(code="S01", name="Bench")
    add_till("T01", store, PASSWORD)
    ids = insert_priced_goods(store, goods)
    with write_transaction():
        insert_rows(Barcode, ("code", "product_id"), [(f"46{p:011d}", p) for p in ids])
    outbox = Outbox(ExchangeFolders(books))
    started = time.perf_counter()
    (published,) = outbox.run(kinds=["catalog"])
    elapsed = time.perf_counter() - started
    return {
        "catalog_goods": goods,
        "catalog_bytes": published.size,
        "catalog_export_100k_s" if goods == 100_000 else "catalog_export_s": round(elapsed, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=5000)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--goods", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures.update(bench_import(folder, args.receipts))
        figures.update(bench_round_trip(folder, args.uploads))
        figures.update(bench_catalog(folder, args.goods))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
