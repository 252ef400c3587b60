"""Till accounts: one FTP login per till, its password kept only as a salted hash.

The login is the till's code, the same code a till writes in its file names and
headers, so a file can be checked against the account that delivered it. A till
that is disabled can no longer log in; what it sent before stays in the books.
"""

from __future__ import annotations

import re
from typing import Any

from models.db import write_transaction
from models.errors import BooksError, NotFoundError
from models.i18n import _
from models.org import Store, Till, find_store
from models.security import hash_secret, new_password, verify_secret

__all__ = [
    "TILL_KEYS",
    "add_till",
    "disable_till",
    "enable_till",
    "find_till",
    "set_password",
    "till_rows",
    "verify_till_password",
]

#: Columns of `iis till list`.
TILL_KEYS = ("till", "store", "enabled", "password", "created")

#: A till code as the ShopV2 file names carry it (`sales_<till>_<seq>.jsonl`).
_TILL_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_MIN_PASSWORD = 8


def _check_code(code: str) -> None:
    if not _TILL_CODE.match(code or ""):
        raise BooksError(
            _("till code {code} must be 1 to 32 letters, digits or dashes").format(code=code)
        )


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD or password != password.strip():
        raise BooksError(
            _(
                "a till password needs at least {count} characters and no spaces at either end"
            ).format(count=_MIN_PASSWORD)
        )


def find_till(code: str) -> Till:
    till = Till.get_or_none(Till.code == code)
    if till is None:
        raise NotFoundError(_("no till {code}").format(code=code))
    return till


def add_till(code: str, store: Store | str | None, password: str | None = None) -> str:
    """Create the account of till `code` in `store`; return its password.

    With no password given a new one is generated; either way the books keep only
    its hash, so the caller must show the returned password to the operator now.
    """
    _check_code(code)
    if password is None:
        password = new_password()
    _check_password(password)
    with write_transaction():
        if Till.select().where(Till.code == code).exists():
            raise BooksError(_("till {code} already exists").format(code=code))
        shop = store if isinstance(store, Store) else find_store(store)
        Till.create(code=code, store=shop, password_hash=hash_secret(password))
    return password


def set_password(code: str, password: str | None = None) -> str:
    """Give till `code` a new password (generated when None); return it."""
    if password is None:
        password = new_password()
    _check_password(password)
    with write_transaction():
        till = find_till(code)
        till.password_hash = hash_secret(password)
        till.save()
    return password


def disable_till(code: str) -> None:
    """Stop till `code` from logging in; its files and records stay."""
    with write_transaction():
        till = find_till(code)
        till.enabled = False
        till.save()


def enable_till(code: str) -> None:
    with write_transaction():
        till = find_till(code)
        till.enabled = True
        till.save()


def verify_till_password(code: str, password: str) -> bool:
    """True when `code` is an enabled till and `password` is its password."""
    row = (
        Till.select(Till.password_hash)
        .where((Till.code == code) & (Till.enabled == True))  # noqa: E712
        .tuples()
        .first()
    )
    if row is None or not row[0]:
        return False
    return verify_secret(password, row[0])


def till_rows() -> list[dict[str, Any]]:
    """Every till account with its store, for listings (never the hash itself)."""
    query = (
        Till.select(Till.code, Store.code, Till.enabled, Till.password_hash, Till.created)
        .join(Store)
        .order_by(Till.code)
        .tuples()
    )
    return [
        {
            "till": code,
            "store": store,
            "enabled": enabled,
            "password": "set" if password_hash else "none",
            "created": created,
        }
        for code, store, enabled, password_hash, created in query
    ]
