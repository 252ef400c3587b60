"""Shared fixtures: fresh books in a temporary folder, a store and a few goods.

`books` opens SQLite in a temporary folder. With `IIS_TEST_DATABASE_URL` set to
a PostgreSQL URL (for example `postgresql://iis:iis@127.0.0.1:5432/iis_test`) it
opens that database instead, so the same tests prove the PostgreSQL path. The
database is wiped: its `public` schema is dropped once per session (the
migrations then build every table again) and every table is truncated before
each test, which keeps a test's cost at a few milliseconds rather than a
schema build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peewee import Database

from models.db import open_database
from models.i18n import setup_language

PG_URL_VARIABLE = "IIS_TEST_DATABASE_URL"
PG_MIGRATIONS_TABLE = "schema_migration"


@pytest.fixture(autouse=True)
def english():
    """Tests read English texts unless they choose otherwise."""
    setup_language("en")
    yield
    setup_language("en")


def postgres_test_url() -> str | None:
    """The PostgreSQL test database named by the environment, if any."""
    return os.environ.get(PG_URL_VARIABLE) or None


def _postgres_unavailable(url: str | None) -> str | None:
    """Why the PostgreSQL tests cannot run (None when they can)."""
    if not url:
        return (
            f"no PostgreSQL to test against: set {PG_URL_VARIABLE}="
            "postgresql://USER:PASSWORD@127.0.0.1:5432/DBNAME"
        )
    try:
        import psycopg2
    except ImportError:
        return "psycopg2 is not installed (pip install -e '.[postgres]')"
    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL at {PG_URL_VARIABLE} is not reachable: {reason}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable, freshly emptied PostgreSQL test database; skips the test otherwise."""
    url = postgres_test_url()
    reason = _postgres_unavailable(url)
    if reason:
        pytest.skip(reason)
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    finally:
        conn.close()
    return url


def _truncate_all(db: Database) -> None:
    """Empty every table of the books and restart their id sequences."""
    tables = [
        name
        for (name,) in db.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        if name != PG_MIGRATIONS_TABLE
    ]
    if tables:
        names = ", ".join(f'"{name}"' for name in tables)
        db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def empty_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Database]:
    """A function that opens the PostgreSQL test database with every table empty.

    For tests that need fresh books more than once (a Hypothesis example each).
    `IIS_DATABASE_URL` is set too, so whatever reopens the books from the data
    folder (a service, a subprocess) reaches the same database.
    """
    monkeypatch.setenv("IIS_DATABASE_URL", postgres_url)

    def reopen() -> Database:
        db = open_database(tmp_path / "data", url=postgres_url)
        _truncate_all(db)
        return db

    return reopen


@pytest.fixture
def postgres_books(empty_postgres: Callable[[], Database], tmp_path: Path) -> Iterator[Path]:
    """Empty books on the PostgreSQL test database; return the (unused) data folder."""
    db = empty_postgres()
    yield tmp_path / "data"
    db.close()


@pytest.fixture
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """Open empty books in a temporary data folder; return the folder."""
    if postgres_test_url():
        yield request.getfixturevalue("postgres_books")
        return
    db = open_database(tmp_path / "data")
    yield tmp_path / "data"
    db.close()
