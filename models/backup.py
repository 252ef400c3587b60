"""A consistent copy of the books while the daemon and consoles keep working.

SQLite's online backup copies the database page by page under its own read
transaction, so the copy is one moment of the books even while tills import.
A PostgreSQL chain backs up with its own tools (pg_dump), which we say rather
than pretend.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

from models.db import database, is_sqlite
from models.errors import BooksError
from models.i18n import _


def backup_books(target: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Copy the SQLite books to `target` (a file, or a folder to put a dated file in)."""
    if not is_sqlite():
        raise BooksError(_("the books are in PostgreSQL: back them up with pg_dump"))
    if target.is_dir():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = target / f"iis-{stamp}.sqlite3"
    if target.exists():
        raise BooksError(_("{path} already exists; choose a new name").format(path=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    source = database.connection()
    copy = sqlite3.connect(target)
    try:
        source.backup(
            copy,
            pages=1024,
            progress=(lambda _status, left, total: progress(total - left, total))
            if progress
            else None,
        )
    finally:
        copy.close()
    return target
