"""Every table of the books, and the migrations that bring a database up to date.

Migrations live in `models/migrations/` as numbered scripts (peewee's
`playhouse.migrations` runner records which ran). Opening the books applies
whatever is pending, so an upgrade needs no separate step.
"""

from __future__ import annotations

from pathlib import Path

from peewee import Database
from playhouse.migrations import Runner

from models.catalog import Barcode, Manufacturer, Price, Product, ProductGroup, Representative
from models.documents import Document, DocumentLine
from models.ledger import Balance, Batch, StockMove
from models.org import Employee, Setting, Store, Till
from models.parties import Bank, Customer, PartyGroup, Supplier
from models.till_records import TILL_RECORD_MODELS

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

ALL_MODELS = [
    Setting,
    Store,
    Till,
    Employee,
    ProductGroup,
    Manufacturer,
    Representative,
    Product,
    Barcode,
    Price,
    Bank,
    PartyGroup,
    Supplier,
    Customer,
    Document,
    DocumentLine,
    Batch,
    StockMove,
    Balance,
    *TILL_RECORD_MODELS,
]


def migrate_schema(db: Database) -> list[str]:
    """Apply pending migrations; return the names of those applied."""
    runner = Runner(db, directory=str(MIGRATIONS_DIR))
    pending = [m.name for m in runner.status() if m.applied is None and m.path]
    if pending:
        runner.up()
    return pending
