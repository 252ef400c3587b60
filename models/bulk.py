"""Bulk writes for the hot paths (posting receipts by the thousand).

Peewee's `insert_many` builds SQL per call; for the ledger we want one
prepared statement and `executemany`, which is what a raw insert costs. These
helpers keep the SQL portable between SQLite and PostgreSQL: the placeholder
comes from the database, ids are allocated up front so rows can reference each
other before they are written, and upserts use `ON CONFLICT`, which both speak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import Model

from models.db import database, is_sqlite

_PLAIN = frozenset({int, str, bool, type(None)})


def sql_row(row: Sequence[Any]) -> tuple:
    """A row of Python values as the columns take them; plain values pass untouched."""
    return tuple(v if type(v) in _PLAIN else sql_value(v) for v in row)


def sql_value(value: Any) -> Any:
    """Python values as the database columns hold them (naive UTC text for times)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Reserve `count` consecutive primary keys of `model`'s table.

    Must run inside a write transaction: on SQLite the IMMEDIATE lock makes
    MAX(id)+1 safe; on PostgreSQL the table's sequence hands them out.
    """
    if count <= 0:
        return []
    table = model._meta.table_name
    if is_sqlite():
        cursor = database.execute_sql(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))
    cursor = database.execute_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in cursor.fetchall()]


class IdPool:
    """Ids handed out one by one while the rows that use them are not yet written.

    On SQLite, MAX(id) does not see rows still in memory, so a refill starts
    after the last id this pool handed out.
    """

    def __init__(self, model: type[Model], expected: int) -> None:
        self.model = model
        self.ids = allocate_ids(model, expected)
        self.last = self.ids[-1] if self.ids else 0

    def take(self) -> int:
        if not self.ids:
            fresh = allocate_ids(self.model, 16)
            if is_sqlite() and fresh[0] <= self.last:
                fresh = list(range(self.last + 1, self.last + 17))
            self.ids = fresh
        self.last = max(self.last, self.ids[0])
        return self.ids.pop(0)


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT many rows into `model`'s table with one prepared statement."""
    rows = [sql_row(row) for row in rows]
    if not rows:
        return
    table = model._meta.table_name
    marks = ", ".join([database.param] * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    database.cursor().executemany(sql, rows)


def upsert_rows(
    model: type[Model],
    columns: Sequence[str],
    conflict: Sequence[str],
    update: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """INSERT ... ON CONFLICT (conflict) DO UPDATE SET update = excluded.update."""
    rows = [sql_row(row) for row in rows]
    if not rows:
        return
    table = model._meta.table_name
    marks = ", ".join([database.param] * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    target = ", ".join(f'"{c}"' for c in conflict)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in update)
    sql = (
        f'INSERT INTO "{table}" ({names}) VALUES ({marks}) '
        f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    )
    database.cursor().executemany(sql, rows)


def update_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE many rows by id: each row is (id, *values for columns)."""
    rows = [(*sql_row(row[1:]), row[0]) for row in rows]
    if not rows:
        return
    table = model._meta.table_name
    sets = ", ".join(f'"{c}" = {database.param}' for c in columns)
    sql = f'UPDATE "{table}" SET {sets} WHERE "id" = {database.param}'
    database.cursor().executemany(sql, rows)


def chunked(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """Slices of `items`, to keep `IN (...)` lists under the parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
