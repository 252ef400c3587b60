"""The organisation: stores, their tills, the people who work there, settings."""

from __future__ import annotations

import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from models.db import BaseModel

ROLES = ("cashier", "seller", "manager", "admin")
APPROVER_ROLES = frozenset({"manager", "admin"})


def now() -> dt.datetime:
    """The time stamps of the books: naive UTC.

    The database holds naive UTC (SQLite has no time-zone type, and naive
    values sort and compare as text); times that arrive with an offset are
    converted by `to_utc` at the edge, and shown in local time by the console.
    """
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_utc(value: dt.datetime) -> dt.datetime:
    """A time with an offset (a till's ISO 8601 stamp) as the books store it."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


class Store(BaseModel):
    code = CharField(unique=True)
    name = CharField()
    address = CharField(default="")
    allow_negative = BooleanField(default=False)
    created = DateTimeField(default=now)


class Till(BaseModel):
    """A PrimePOS-ShopV2 till: one FTP account, locked into its own folder."""

    code = CharField(unique=True)
    store = ForeignKeyField(Store, backref="tills", on_delete="RESTRICT")
    password_hash = CharField(default="")
    enabled = BooleanField(default=True)
    created = DateTimeField(default=now)


class Employee(BaseModel):
    """Cashiers, sellers, managers and admins; `login` maps an OS user to them."""

    code = CharField(unique=True)
    name = CharField()
    role = CharField(default="cashier")
    login = CharField(null=True, unique=True)
    store = ForeignKeyField(Store, null=True, backref="staff", on_delete="SET NULL")
    pin_hash = CharField(default="")
    key = CharField(null=True)
    active = BooleanField(default=True)
    updated = DateTimeField(default=now, index=True)

    @property
    def can_approve(self) -> bool:
        return self.active and self.role in APPROVER_ROLES


class Setting(BaseModel):
    """Free-form back-office settings (key/value), e.g. the default store."""

    key = CharField(unique=True)
    value = TextField(default="")

    @classmethod
    def get_value(cls, key: str, default: str | None = None) -> str | None:
        row = cls.get_or_none(cls.key == key)
        return row.value if row else default

    @classmethod
    def set_value(cls, key: str, value: str) -> None:
        cls.insert(key=key, value=value).on_conflict(
            conflict_target=[cls.key], update={cls.value: value}
        ).execute()


DEFAULT_STORE_KEY = "default_store"


def default_store() -> Store:
    """The store a command means when it names none: the one `iis init` made.

    Raises `NotFoundError` when the books have no store yet.
    """
    from models.errors import NotFoundError
    from models.i18n import _

    code = Setting.get_value(DEFAULT_STORE_KEY)
    store = Store.get_or_none(Store.code == code) if code else None
    store = store or Store.select().order_by(Store.id).first()
    if store is None:
        raise NotFoundError(_("no store yet: run `iis init --store CODE --name NAME` first"))
    return store


def find_store(code: str | None) -> Store:
    """The store with `code`, or the default store when `code` is None."""
    from models.errors import NotFoundError
    from models.i18n import _

    if not code:
        return default_store()
    store = Store.get_or_none(Store.code == code)
    if store is None:
        known = ", ".join(s.code for s in Store.select(Store.code).order_by(Store.code))
        raise NotFoundError(
            _("no store {code}; known stores: {known}").format(code=code, known=known or "-")
        )
    return store
