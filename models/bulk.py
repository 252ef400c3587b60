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

from peewee import BooleanField, Model

from models.db import database, is_sqlite

_PLAIN = frozenset({int, str, bool, type(None)})
#: Statements per round trip when psycopg2 runs a batch.
PG_PAGE_SIZE = 500


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


def _booleans(model: type[Model], columns: Sequence[str], rows: list[tuple]) -> list[tuple]:
    """Rows whose 0/1 in boolean columns become False/True, on PostgreSQL only.

    SQLite stores a boolean as 0/1 and takes either; PostgreSQL refuses an
    integer for a boolean column. SQLite rows pass untouched (no per-row cost).
    """
    if not rows or is_sqlite():
        return rows
    fields = model._meta.columns
    flags = [i for i, c in enumerate(columns) if isinstance(fields.get(c), BooleanField)]
    if not flags:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i in flags:
            if values[i] is not None:
                values[i] = bool(values[i])
        out.append(tuple(values))
    return out


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
    _catch_up_sequence(table)
    cursor = database.execute_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in cursor.fetchall()]


def _catch_up_sequence(table: str) -> None:
    """Move `table`'s id sequence past its largest id, if rows outran it.

    Rows written with explicit ids (a copy of SQLite books, a bench, a fixture)
    do not advance the sequence, and nextval would then hand out ids already
    taken. MAX(id) is one index probe; setval runs only when the sequence is
    behind (`pg_sequence_last_value` is NULL before its first nextval, when the
    next value is the start, 1). The caller's write lock keeps this race-free.
    """
    database.execute_sql(
        "SELECT setval(seq, top) FROM "
        "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) AS s, "
        f'(SELECT MAX("id") AS top FROM "{table}") AS t '
        "WHERE top >= COALESCE(pg_sequence_last_value(seq) + 1, 1)",
        (table,),
    )


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


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    plain: bool = False,
) -> None:
    """INSERT many rows into `model`'s table with one prepared statement.

    `plain=True` promises every value is already int, str, bool or None (times
    as text), which skips the per-value conversion on the hottest paths.
    """
    rows = list(rows) if plain else [sql_row(row) for row in rows]
    rows = _booleans(model, columns, rows)
    if not rows:
        return
    table = model._meta.table_name
    marks = ", ".join([database.param] * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    _executemany(sql, rows, values=f'INSERT INTO "{table}" ({names}) VALUES %s')


def upsert_rows(
    model: type[Model],
    columns: Sequence[str],
    conflict: Sequence[str],
    update: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    plain: bool = False,
) -> None:
    """INSERT ... ON CONFLICT (conflict) DO UPDATE SET update = excluded.update.

    `plain=True` makes the same promise as for `insert_rows`.
    """
    rows = _booleans(model, columns, list(rows) if plain else [sql_row(row) for row in rows])
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
    _executemany(sql, rows)


def update_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE many rows by id: each row is (id, *values for columns)."""
    rows = _booleans(model, columns, [(*sql_row(row[1:]), row[0]) for row in rows])
    if not rows:
        return
    table = model._meta.table_name
    sets = ", ".join(f'"{c}" = {database.param}' for c in columns)
    sql = f'UPDATE "{table}" SET {sets} WHERE "id" = {database.param}'
    _executemany(sql, rows)


def select_in(sql: str, values: Sequence[Any], before: Sequence[Any] = ()) -> list[tuple]:
    """Run a SELECT whose `{marks}` is an IN (...) list over `values`, in chunks; raw rows.

    Peewee builds a node per value of an `in_()` list, which costs more than the
    query itself for a file's worth of codes; this writes the placeholders once.
    `{p}` in `sql` is one placeholder (for the `before` parameters).
    """
    rows: list[tuple] = []
    for chunk in chunked(list(values)):
        marks = ", ".join([database.param] * len(chunk))
        text = sql.format(marks=marks, p=database.param)
        rows.extend(database.execute_sql(text, (*before, *chunk)).fetchall())
    return rows


def _executemany(sql: str, rows: list[tuple], values: str | None = None) -> None:
    """Run `sql` once per row, in as few round trips as the driver allows.

    sqlite3 and psycopg 3 batch `executemany` themselves; psycopg2's runs one
    round trip per row, which made posting on PostgreSQL several times slower.
    There a plain INSERT (`values`: the statement with one `VALUES %s`) goes as
    multi-row INSERTs, and anything else as pages of statements.
    """
    cursor = database.cursor()
    if not is_sqlite() and type(cursor).__module__.startswith("psycopg2"):
        from psycopg2.extras import execute_batch, execute_values

        if values is not None:
            execute_values(cursor, values, rows, page_size=PG_PAGE_SIZE)
        else:
            execute_batch(cursor, sql, rows, page_size=PG_PAGE_SIZE)
        return
    cursor.executemany(sql, rows)


def chunked(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """Slices of `items`, to keep `IN (...)` lists under the parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
