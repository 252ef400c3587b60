"""The one database the books live in, and how to open it.

Every model inherits `BaseModel`, whose database is a proxy bound once by
`open_database`. SQLite is the default (a file in the data folder, WAL, foreign
keys on, a busy timeout so the daemon and several consoles can share it);
`IIS_DATABASE_URL` points the same models at PostgreSQL for a chain.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from peewee import Database, DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase, fn
from playhouse.db_url import connect

database = DatabaseProxy()

DATABASE_FILE = "iis.sqlite3"
#: The PostgreSQL advisory lock that stands for SQLite's write lock (any fixed number
#: works; this one spells "IIS" so it is recognisable in pg_locks).
WRITE_LOCK_KEY = 0x494953
#: How long a writer waits for the write lock on PostgreSQL, as SQLite's busy timeout.
WRITE_LOCK_TIMEOUT = "15s"
SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 15000),
    ("synchronous", "normal"),
    ("cache_size", -32000),
)


class BaseModel(Model):
    """Every table of the books."""

    class Meta:
        database = database
        legacy_table_names = False


def database_url() -> str | None:
    """The PostgreSQL (or other) URL from the environment, if one is set."""
    return os.environ.get("IIS_DATABASE_URL") or None


def open_database(data_dir: Path, url: str | None = None, migrate: bool = True) -> Database:
    """Open the books in `data_dir` (or at `url`), bind the models, apply migrations.

    Opening is idempotent: a second call rebinds the proxy to a fresh connection,
    which is what tests and the demo (a new temporary store) need.
    """
    url = url or database_url()
    if url:
        db = connect(url)
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        db = SqliteDatabase(
            str(data_dir / DATABASE_FILE),
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            timeout=15,
        )
        db.register_function(_fold, "iis_fold", 1, deterministic=True)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    if migrate:
        from models.schema import migrate_schema

        migrate_schema(db)
    return db


def _fold(text: str | None) -> str | None:
    """Case-folding for SQLite, whose own LIKE and lower() fold only Latin letters."""
    return text.casefold() if text is not None else None


def contains_text(field, text: str):
    """A case-insensitive "field contains text" that folds Cyrillic too.

    SQLite gets the registered `iis_fold` (Python's casefold) on both sides;
    PostgreSQL's ILIKE folds by the database's locale.
    """
    if is_sqlite():
        return fn.iis_fold(field).contains(text.casefold())
    return field.contains(text)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes the write lock at its start.

    On SQLite a plain BEGIN upgrades to a write lock on the first write and can
    then fail with "database is locked" half-way; BEGIN IMMEDIATE waits (busy
    timeout) at the door instead. Nested calls become savepoints.

    PostgreSQL has no database write lock, and posting reads balances and
    writes them back computed: two writers at once would each overwrite the
    other's balances (lost updates). A transaction-scoped advisory lock gives
    PostgreSQL the same one-writer-at-a-time rule; readers are not blocked.
    """
    db = database.obj
    if db.transaction_depth() == 0 and is_sqlite():
        with db.atomic("IMMEDIATE"):
            yield
    elif db.transaction_depth() == 0 and is_postgres():
        with db.atomic():
            db.execute_sql(f"SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'")
            db.execute_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            yield
    else:
        with db.atomic():
            yield
