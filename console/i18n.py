"""The console's side of translation: gettext from the books, Babel for numbers and dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_decimal

from models.i18n import _, current_language, ngettext, setup_language

__all__ = [
    "_",
    "current_language",
    "fmt_datetime",
    "fmt_money",
    "fmt_qty",
    "ngettext",
    "setup_language",
]


def fmt_money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00", locale=current_language())


def fmt_qty(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.###", locale=current_language())


def fmt_datetime(value: dt.datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone()
    return format_datetime(value, format=fmt, locale=current_language())
