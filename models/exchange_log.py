"""The exchange log and the per-till summary, as the console and `iis exchange` show them.

Every step a file takes (received, imported, refused, published, acknowledged) is one
`ExchangeEvent` row, written by the exchange in the same database the console reads, so
an operator sees what happened without the daemon running. The keys of the rows here
are the stable keys of `iis exchange log --format json` and `iis exchange status`.

What lies on disk (files waiting in a till's upload folder) is counted by the exchange
and passed in: the books do not look at folders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from peewee import fn

from models.errors import BooksError
from models.i18n import _
from models.org import Store, Till, now
from models.till_records import EXCHANGE_EVENTS, ExchangeEvent, ExchangeFile, TillStatus

__all__ = [
    "HELD_STATES",
    "LOG_KEYS",
    "STATUS_KEYS",
    "held_files",
    "log_event",
    "log_rows",
    "parse_since",
    "status_rows",
]

LOG_KEYS = ("time", "till", "kind", "seq", "file", "event", "detail")
STATUS_KEYS = (
    "till",
    "store",
    "last_contact",
    "version",
    "shift_open",
    "waiting_in",
    "waiting_out",
    "quarantined",
    "last_error",
)
#: States of an incoming file that wait for the operator.
HELD_STATES = ("quarantined", "conflict")


def log_event(
    event: str,
    till: str = "",
    kind: str = "",
    seq: int | None = None,
    file: str = "",
    detail: str = "",
    time: dt.datetime | None = None,
) -> ExchangeEvent:
    """Write one row of the exchange log."""
    if event not in EXCHANGE_EVENTS:
        raise ValueError(f"unknown exchange event {event!r}")
    return ExchangeEvent.create(
        time=time or now(),
        till=till or "",
        kind=kind or "",
        seq=seq,
        file=file or "",
        event=event,
        detail=detail or "",
    )


def log_rows(
    till: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = 1000,
    events: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """The newest log rows first (at most `limit`), optionally of one till and since a time."""
    query = ExchangeEvent.select(
        ExchangeEvent.time,
        ExchangeEvent.till,
        ExchangeEvent.kind,
        ExchangeEvent.seq,
        ExchangeEvent.file,
        ExchangeEvent.event,
        ExchangeEvent.detail,
    )
    if till:
        query = query.where(ExchangeEvent.till == till)
    if since is not None:
        query = query.where(ExchangeEvent.time >= since)
    if events:
        query = query.where(ExchangeEvent.event.in_(list(events)))
    query = query.order_by(ExchangeEvent.time.desc(), ExchangeEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return [dict(zip(LOG_KEYS, row, strict=True)) for row in query.tuples()]


def parse_since(text: str) -> dt.datetime:
    """An ISO date or time from the command line as the books store times (naive UTC)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BooksError(
            _("{text} is not a date or time such as 2026-12-04 or 2026-12-04T10:00").format(
                text=text
            )
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def held_files(till: str | None = None) -> list[ExchangeFile]:
    """Incoming files that wait for the operator: quarantined or in conflict."""
    query = ExchangeFile.select().where(
        (ExchangeFile.direction == "in") & ExchangeFile.state.in_(list(HELD_STATES))
    )
    if till:
        query = query.where(ExchangeFile.till == till)
    return list(query.order_by(ExchangeFile.till, ExchangeFile.kind, ExchangeFile.seq))


def status_rows(
    waiting_in: Mapping[str, int] | None = None,
    waiting_out: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """One row per till: last contact, version, open shift, queues and the last error.

    `waiting_in` (files in a till's upload folder) comes from the exchange, which sees
    the folders; `waiting_out` likewise when given, else the files published to the till
    and not yet acknowledged, as the books record them.
    """
    tills = {
        code: {"store": store, "enabled": enabled}
        for code, store, enabled in Till.select(Till.code, Store.code, Till.enabled)
        .join(Store)
        .tuples()
    }
    statuses = {
        code: (last_contact, version, shift_open, last_error)
        for code, last_contact, version, shift_open, last_error in TillStatus.select(
            Till.code,
            TillStatus.last_contact,
            TillStatus.version,
            TillStatus.shift_open,
            TillStatus.last_error,
        )
        .join(Till)
        .tuples()
    }
    held: dict[str, int] = dict(
        ExchangeFile.select(ExchangeFile.till, fn.COUNT(ExchangeFile.id))
        .where((ExchangeFile.direction == "in") & ExchangeFile.state.in_(list(HELD_STATES)))
        .group_by(ExchangeFile.till)
        .tuples()
    )
    published: dict[str, int] = dict(
        ExchangeFile.select(ExchangeFile.till, fn.COUNT(ExchangeFile.id))
        .where((ExchangeFile.direction == "out") & (ExchangeFile.state == "published"))
        .group_by(ExchangeFile.till)
        .tuples()
    )
    last_received: dict[str, dt.datetime] = dict(
        ExchangeFile.select(ExchangeFile.till, fn.MAX(ExchangeFile.received_at))
        .where(ExchangeFile.direction == "in")
        .group_by(ExchangeFile.till)
        .tuples()
    )
    last_held: dict[str, str] = {}
    for till, reason in (
        ExchangeFile.select(ExchangeFile.till, ExchangeFile.reason)
        .where((ExchangeFile.direction == "in") & ExchangeFile.state.in_(list(HELD_STATES)))
        .order_by(ExchangeFile.received_at, ExchangeFile.id)
        .tuples()
    ):
        last_held[till] = reason
    codes = sorted(set(tills) | set(held) | set(waiting_in or {}) | set(last_received))
    rows = []
    for code in codes:
        contact, version, shift_open, till_error = statuses.get(code, (None, "", False, ""))
        received = last_received.get(code)
        if isinstance(received, str):
            received = dt.datetime.fromisoformat(received)
        if received is not None and (contact is None or received > contact):
            contact = received
        out = (waiting_out or {}).get(code, published.get(code, 0))
        rows.append(
            {
                "till": code,
                "store": tills.get(code, {}).get("store", ""),
                "last_contact": contact,
                "version": version,
                "shift_open": bool(shift_open),
                "waiting_in": (waiting_in or {}).get(code, 0),
                "waiting_out": out,
                "quarantined": held.get(code, 0),
                "last_error": last_held.get(code) or till_error or "",
            }
        )
    return rows
