"""Listings for the command line: a table for people, CSV and JSON for scripts.

Rows are dicts with stable keys. Money and quantities arrive as Decimal and
leave as decimal strings in every format (JSON never sees a float).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def render(rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str = "table") -> str:
    """Render rows (dicts) with the given column keys in `fmt`."""
    rows = [{key: _plain(row.get(key)) for key in columns} for row in rows]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    return _table(rows, columns)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[("" if row[c] is None else str(row[c])) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(_looks_numeric(r[i]) for r in cells if r[i]) and any(r[i] for r in cells)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(columns)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _looks_numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
