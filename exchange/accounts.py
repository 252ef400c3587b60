"""The FTP server's till accounts, read from the books.

The server asks from its own worker threads; peewee keeps one connection per thread,
so each call simply queries the shared database from whichever thread it runs on.
"""

from __future__ import annotations

from pathlib import Path

from exchange.folders import ExchangeFolders
from models.tills import verify_till_password

__all__ = ["DatabaseTillAccounts"]


class DatabaseTillAccounts:
    """`TillAccounts` for the FTP server: enabled tills log in with their own password."""

    def __init__(self, folders: ExchangeFolders) -> None:
        self.folders = folders

    def authenticate(self, login: str, password: str) -> bool:
        """True when `login` is an enabled till and `password` matches its stored hash."""
        try:
            return verify_till_password(login, password)
        except Exception:  # a database hiccup must refuse the login, not crash a session
            return False

    def home(self, login: str) -> Path:
        """The till's home with `from_pos/` and `to_pos/`, created when first needed."""
        return self.folders.ensure(login)
