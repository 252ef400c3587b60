"""The outbox: what each till must know, written as ShopV2 files into its `to_pos/`.

For every enabled till and every kind it receives (`catalog`, `staff`, `customers`,
`stats`, `messages`) the outbox decides between nothing, a delta and a full load:

- a full load when the till is new or one was asked for (`OutboxState.want_full`);
- otherwise a delta of the rows whose `updated` stamp is later than the build time of
  the last file the till acknowledged (so a till that missed nothing gets only what
  changed, and a file still waiting in `to_pos/` is simply superseded by a larger one);
- nothing at all when nothing changed since the last file published.

A file is written under a name the till never takes (`.catalog_00000043.jsonl.tmp`) and
renamed to its final name only when whole, inside the transaction that records it, so
the books and the folder agree: a failure removes the file and rolls the record back.

The till deletes a file once applied; that deletion is its acknowledgement. It is
recorded from the FTP server's "deleted" event (`acknowledge`) and, as a safety net for
deletions the server did not see, by `scan_acknowledgements`.

Work is in bulk: a full catalog is a handful of queries whatever its size, never one
per product, so 100,000 goods export in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import JOIN, Case, fn

from exchange.barcode_rules import DEFAULT_RULES
from exchange.folders import ExchangeFolders
from exchange.shopv2 import file_name, parse_name, write_file
from models.catalog import Barcode, Price, Product, ProductGroup
from models.db import database, is_sqlite, write_transaction
from models.documents import POSTED, RETURN, SALE, Document, DocumentLine
from models.exchange_log import log_event
from models.i18n import _
from models.money import format_money, format_quantity
from models.org import Employee, Store, Till, now
from models.parties import Customer, PartyGroup
from models.till_records import (
    CustomerPayment,
    ExchangeFile,
    Message,
    OutboxState,
    ReceiptPayment,
)

__all__ = [
    "OUTBOX_KINDS",
    "STATS_DAYS",
    "Acknowledged",
    "Outbox",
    "Published",
    "temporary_name",
]

logger = logging.getLogger("iis.exchange.outbox")

#: The kinds IIS publishes, in the order a run builds them.
OUTBOX_KINDS: tuple[str, ...] = ("catalog", "staff", "customers", "stats", "messages")
#: How many days of sales statistics a till keeps on its screens.
STATS_DAYS = 7

_UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class Published:
    """One file the outbox put in a till's `to_pos/`."""

    till: str
    kind: str
    seq: int
    mode: str
    records: int
    size: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A published file the till deleted: it has applied it."""

    till: str
    kind: str
    seq: int
    name: str


def temporary_name(kind: str, seq: int) -> str:
    """The name a file is written under before it is whole: hidden, and not a ShopV2 name."""
    return f".{file_name(kind, seq)}.tmp"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A naive UTC stamp of the books as the local time with its offset, as files carry it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=_UTC).astimezone().replace(microsecond=0)


class _Build:
    """The records of one file, and whether it is the full set or a delta."""

    __slots__ = ("mode", "records")

    def __init__(self, mode: str, records: list[dict[str, Any]]) -> None:
        self.mode = mode
        self.records = records


class Outbox:
    """Builds and publishes the IIS -> till files of every enabled till.

    Call it from the one thread that owns the exchange's writes (the service's worker,
    or `iis export`); it opens its own transactions.
    """

    def __init__(self, folders: ExchangeFolders, kinds: Sequence[str] = OUTBOX_KINDS) -> None:
        unknown = set(kinds) - set(OUTBOX_KINDS)
        if unknown:
            raise ValueError(f"the outbox cannot build {sorted(unknown)}")
        self.folders = folders
        self.kinds = tuple(kinds)
        #: Records built during one `run`, shared by the tills of one store: a chain's
        #: store with ten tills reads its 100,000 goods once, not ten times.
        self._built: dict[tuple, list[dict[str, Any]]] | None = None

    # -- publishing ------------------------------------------------------------------------

    def run(
        self,
        *,
        full: bool = False,
        tills: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[Published]:
        """One pass over the enabled tills (or those named): publish what each must know.

        `full` forces full loads; otherwise each till gets a full load when it wants one
        and a delta when something changed. Returns the files published.
        """
        wanted = tuple(kinds) if kinds is not None else self.kinds
        query = Till.select(Till, Store).join(Store).where(Till.enabled == True)  # noqa: E712
        if tills is not None:
            query = query.where(Till.code.in_(list(tills)))
        published: list[Published] = []
        self._built = {}
        try:
            for till in query.order_by(Till.code):
                self.folders.ensure(till.code)
                for kind in wanted:
                    try:
                        item = self.publish(till, kind, full=full)
                    except Exception:
                        logger.exception("could not publish %s for till %s", kind, till.code)
                        continue
                    if item is not None:
                        published.append(item)
        finally:
            self._built = None
        return published

    def request_full(
        self, tills: Iterable[str] | None = None, kinds: Iterable[str] | None = None
    ) -> None:
        """Mark tills (all when None) to get a full load of `kinds` (all when None) next run."""
        query = Till.select(Till.id)
        if tills is not None:
            query = query.where(Till.code.in_(list(tills)))
        chosen = list(kinds) if kinds is not None else list(self.kinds)
        with write_transaction():
            for (till_id,) in query.tuples():
                for kind in chosen:
                    state = self._state(till_id, kind)
                    state.want_full = True
                    state.save()

    def publish(self, till: Till, kind: str, *, full: bool = False) -> Published | None:
        """Build and publish one kind for one till; None when there is nothing to send."""
        state = OutboxState.get_or_none((OutboxState.till == till.id) & (OutboxState.kind == kind))
        as_of = now()
        since = None if state is None else self._delta_base(till.code, kind, state)
        mode_full = full or state is None or state.want_full or since is None
        if not mode_full:
            last_built = state.last_published_at
            if last_built is not None and not self._changed(till, kind, last_built):
                return None
        build = self._build(till, kind, None if mode_full else since)
        if build is None or (build.mode == "delta" and not build.records):
            return None
        return self._write(till, kind, build, as_of)

    def _delta_base(self, till: str, kind: str, state: OutboxState) -> dt.datetime | None:
        """The build time a delta starts from: the last acknowledged file's, else the last full's.

        A till that has not yet acknowledged its full load will apply it before any delta
        (files are applied in sequence order), so a delta may start where that full ended.
        """
        if state.acked_as_of is not None:
            return state.acked_as_of
        row = (
            ExchangeFile.select(ExchangeFile.received_at)
            .where(
                (ExchangeFile.till == till)
                & (ExchangeFile.direction == "out")
                & (ExchangeFile.kind == kind)
                & (ExchangeFile.mode == "full")
            )
            .order_by(ExchangeFile.seq.desc())
            .first()
        )
        return row.received_at if row else None

    def _state(self, till_id: int, kind: str) -> OutboxState:
        state = OutboxState.get_or_none((OutboxState.till == till_id) & (OutboxState.kind == kind))
        if state is None:
            state = OutboxState.create(till=till_id, kind=kind, want_full=True)
        return state

    def _write(self, till: Till, kind: str, build: _Build, as_of: dt.datetime) -> Published:
        """Write the file under a temporary name, rename it, and record it, all or nothing."""
        folder = self.folders.to_pos(till.code)
        folder.mkdir(parents=True, exist_ok=True)
        final: Path | None = None
        tmp: Path | None = None
        try:
            with write_transaction():
                state = self._state(till.id, kind)
                seq = state.last_seq + 1
                data = write_file(
                    kind, till.code, till.store.code, seq, build.records, mode=build.mode
                )
                tmp = folder / temporary_name(kind, seq)
                final = folder / file_name(kind, seq)
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, final)
                tmp = None
                ExchangeFile.create(
                    till=till.code,
                    direction="out",
                    kind=kind,
                    seq=seq,
                    name=final.name,
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    records=len(build.records),
                    state="published",
                    path=self.folders.relative(final),
                    mode=build.mode,
                    received_at=as_of,
                )
                log_event(
                    "published",
                    till=till.code,
                    kind=kind,
                    seq=seq,
                    file=final.name,
                    detail=_("{mode} load, {count} records").format(
                        mode=build.mode, count=len(build.records)
                    ),
                )
                state.last_seq = seq
                state.last_published_at = as_of
                if build.mode == "full":
                    state.want_full = False
                state.save()
        except BaseException:
            for leftover in (tmp, final):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            raise
        logger.info(
            "published %s for till %s (%s, %d records)",
            final.name,
            till.code,
            build.mode,
            len(build.records),
        )
        return Published(
            till=till.code,
            kind=kind,
            seq=seq,
            mode=build.mode,
            records=len(build.records),
            size=len(data),
            path=final,
        )

    # -- what changed ----------------------------------------------------------------------

    def _changed(self, till: Till, kind: str, since: dt.datetime) -> bool:
        """Whether anything of `kind` for this till changed after `since` (cheap queries)."""
        store_id = till.store_id
        if kind == "catalog":
            return (
                Product.select().where(Product.updated > since).exists()
                or ProductGroup.select().where(ProductGroup.updated > since).exists()
                or Price.select()
                .where((Price.store == store_id) & (Price.updated > since))
                .exists()
            )
        if kind == "staff":
            return _staff_query(store_id).where(Employee.updated > since).exists()
        if kind == "customers":
            return Customer.select().where(Customer.updated > since).exists()
        if kind == "stats":
            return _stats_documents(store_id).where(Document.updated > since).exists()
        if kind == "messages":
            return _messages_query(till.code).where(Message.updated > since).exists()
        raise ValueError(kind)

    def _build(self, till: Till, kind: str, since: dt.datetime | None) -> _Build | None:
        mode = "full" if since is None else "delta"
        scope = till.code if kind == "messages" else None if kind == "customers" else till.store_id
        key = (kind, scope, since)
        if self._built is not None and key in self._built:
            return _Build(mode, self._built[key])
        build = self._build_records(till, kind, since, mode)
        if self._built is not None:
            self._built[key] = build.records
        return build

    def _build_records(self, till: Till, kind: str, since: dt.datetime | None, mode: str) -> _Build:
        if kind == "catalog":
            records = list(catalog_records(till.store_id, since))
        elif kind == "staff":
            records = list(staff_records(till.store_id, since))
        elif kind == "customers":
            records = list(customer_records(since))
        elif kind == "stats":
            records = list(stats_records(till.store_id, since))
        elif kind == "messages":
            records = list(message_records(till.code, since))
        else:
            raise ValueError(kind)
        return _Build(mode, records)

    # -- acknowledgements ------------------------------------------------------------------

    def acknowledge(self, till: str, name: str) -> Acknowledged | None:
        """Record that the till deleted `name` from its `to_pos/` (it applied the file).

        Returns None when the name is not a published file of this till, or the file is
        still there (a deletion event that raced with a re-publication).
        """
        parsed = parse_name(name)
        if parsed is None or parsed.incoming:
            return None
        if (self.folders.to_pos(till) / name).exists():
            return None
        with write_transaction():
            row = ExchangeFile.get_or_none(
                (ExchangeFile.till == till)
                & (ExchangeFile.direction == "out")
                & (ExchangeFile.kind == parsed.kind)
                & (ExchangeFile.seq == parsed.seq)
                & (ExchangeFile.state == "published")
            )
            if row is None:
                return None
            return self._record_ack(row)

    def scan_acknowledgements(self) -> list[Acknowledged]:
        """Every published file no longer in its `to_pos/`, recorded as acknowledged."""
        gone = [
            row
            for row in ExchangeFile.select().where(
                (ExchangeFile.direction == "out") & (ExchangeFile.state == "published")
            )
            if not self.folders.absolute(row.path).exists()
        ]
        done: list[Acknowledged] = []
        for row in sorted(gone, key=lambda r: (r.till, r.kind, r.seq)):
            with write_transaction():
                fresh = ExchangeFile.get_or_none(
                    (ExchangeFile.id == row.id) & (ExchangeFile.state == "published")
                )
                if fresh is not None:
                    done.append(self._record_ack(fresh))
        return done

    def _record_ack(self, row: ExchangeFile) -> Acknowledged:
        stamp = now()
        row.state = "acknowledged"
        row.processed_at = stamp
        row.save()
        till = Till.get_or_none(Till.code == row.till)
        if till is not None:
            state = self._state(till.id, row.kind)
            if row.seq >= state.acked_seq:
                state.acked_seq = row.seq
                state.acked_as_of = row.received_at
                state.save()
        log_event(
            "acknowledged",
            till=row.till,
            kind=row.kind,
            seq=row.seq,
            file=row.name,
            detail=_("the till applied and deleted the file"),
        )
        logger.info("till %s acknowledged %s", row.till, row.name)
        return Acknowledged(till=row.till, kind=row.kind, seq=row.seq, name=row.name)


# -- catalog ---------------------------------------------------------------------------------


def catalog_records(store_id: int, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """Barcode rules (full only), groups (parents first) and the store's priced goods.

    Goods without a price in this store are left out: a till cannot sell them. A delta
    carries goods whose card or price changed; a deleted product travels as
    `"deleted": true` in a delta and is simply absent from a full load.
    """
    if since is None:
        for rule in DEFAULT_RULES:
            yield {
                "type": "barcode_rule",
                "prefix": rule.prefix,
                "kind": rule.kind,
                "plu_digits": rule.plu_digits,
                "value_digits": rule.value_digits,
            }
    parent = ProductGroup.alias()
    groups = (
        ProductGroup.select(ProductGroup.code, parent.code, ProductGroup.name)
        .join(parent, JOIN.LEFT_OUTER, on=(ProductGroup.parent == parent.id))
        .order_by(ProductGroup.depth, ProductGroup.code)
    )
    if since is not None:
        groups = groups.where(ProductGroup.updated > since)
    for code, parent_code, name in groups.tuples().iterator():
        yield {"type": "group", "code": code, "parent": parent_code, "name": name}

    query = (
        Product.select(
            Product.id,
            Product.code,
            Product.name,
            ProductGroup.code,
            Product.unit,
            Product.vat,
            Price.price,
            Product.weighed,
            Product.excise,
            Product.age_limit,
            Product.expiry_control,
            Product.min_price,
            Product.plu,
            Product.deleted,
        )
        .join(Price, on=((Price.product == Product.id) & (Price.store == store_id)))
        .switch(Product)
        .join(ProductGroup, JOIN.LEFT_OUTER, on=(Product.group == ProductGroup.id))
        .order_by(Product.code)
    )
    if since is None:
        query = query.where(Product.deleted == False)  # noqa: E712
    else:
        query = query.where((Product.updated > since) | (Price.updated > since))
    rows = list(query.tuples().iterator())
    barcodes = _barcodes([row[0] for row in rows] if since is not None else None)
    for (
        pid,
        code,
        name,
        group,
        unit,
        vat,
        price,
        weighed,
        excise,
        age_limit,
        expiry_control,
        min_price,
        plu,
        deleted,
    ) in rows:
        yield {
            "type": "product",
            "code": code,
            "name": name,
            "group": group,
            "unit": unit,
            "vat": vat,
            "price": format_money(price),
            "barcodes": barcodes.get(pid, []),
            "weighed": bool(weighed),
            "excise": bool(excise),
            "age_limit": age_limit or 0,
            "expiry_control": bool(expiry_control),
            "min_price": format_money(min_price) if min_price is not None else None,
            "plu": plu,
            "deleted": bool(deleted),
        }


def _barcodes(product_ids: list[int] | None) -> dict[int, list[str]]:
    """Barcodes by product: every one in one query, or those of the goods named."""
    found: dict[int, list[str]] = defaultdict(list)
    if product_ids is None:
        query = Barcode.select(Barcode.product_id, Barcode.code).order_by(Barcode.code)
        for pid, code in query.tuples().iterator():
            found[pid].append(code)
        return found
    for start in range(0, len(product_ids), 500):
        chunk = product_ids[start : start + 500]
        query = (
            Barcode.select(Barcode.product_id, Barcode.code)
            .where(Barcode.product.in_(chunk))
            .order_by(Barcode.code)
        )
        for pid, code in query.tuples():
            found[pid].append(code)
    return found


# -- staff -------------------------------------------------------------------------------------


def _staff_query(store_id: int):
    """Employees of this store and those of no store in particular (they work anywhere)."""
    return Employee.select().where((Employee.store.is_null()) | (Employee.store == store_id))


def staff_records(store_id: int, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    query = _staff_query(store_id).order_by(Employee.code)
    if since is not None:
        query = query.where(Employee.updated > since)
    for row in query:
        yield {
            "type": "employee",
            "code": row.code,
            "name": row.name,
            "role": row.role,
            "pin": row.pin_hash or None,
            "key": row.key or None,
            "active": bool(row.active),
        }


# -- customers ---------------------------------------------------------------------------------


def customer_records(since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """Customer cards with their account balance (payments in less credit taken)."""
    query = (
        Customer.select(
            Customer.id,
            Customer.code,
            Customer.name,
            PartyGroup.code,
            Customer.phone,
            Customer.email,
            Customer.price_policy,
            Customer.credit_limit,
            Customer.blocked,
        )
        .join(PartyGroup, JOIN.LEFT_OUTER, on=(Customer.group == PartyGroup.id))
        .order_by(Customer.code)
    )
    if since is not None:
        query = query.where(Customer.updated > since)
    rows = list(query.tuples().iterator())
    balances = _balances()
    for cid, code, name, group, phone, email, policy, limit, blocked in rows:
        yield {
            "type": "customer",
            "code": code,
            "name": name,
            "group": group,
            "phone": phone or None,
            "email": email or None,
            "price_policy": policy or None,
            "credit_limit": format_money(limit or 0),
            "balance": format_money(balances.get(cid, 0) + balances.get(code, 0)),
            "blocked": bool(blocked),
        }


def _balances() -> dict[Any, int]:
    """Account balances in kopecks: by customer id for payments, by code for credit sales."""
    balances: dict[Any, int] = defaultdict(int)
    paid = (
        CustomerPayment.select(CustomerPayment.customer, fn.SUM(CustomerPayment.amount))
        .where(CustomerPayment.customer.is_null(False))
        .group_by(CustomerPayment.customer)
    )
    for cid, amount in paid.tuples():
        balances[cid] += int(amount or 0)
    credit = (
        ReceiptPayment.select(ReceiptPayment.customer, fn.SUM(ReceiptPayment.amount))
        .join(Document)
        .where((ReceiptPayment.method == "credit") & (Document.state == POSTED))
        .group_by(ReceiptPayment.customer)
    )
    for code, amount in credit.tuples():
        if code:
            balances[code] -= int(amount or 0)
    return balances


# -- stats -------------------------------------------------------------------------------------


def _stats_documents(store_id: int):
    """Receipts of the store within the statistics window, posted or later cancelled."""
    start = now() - dt.timedelta(days=STATS_DAYS)
    return Document.select().where(
        (Document.store == store_id)
        & (Document.kind.in_([SALE, RETURN]))
        & (Document.state.in_([POSTED, "cancelled"]))
        & (Document.date >= start)
    )


def _local_day(column):
    """The shop's calendar day of a naive UTC stamp, as SQL (the server's UTC offset)."""
    offset = int(dt.datetime.now().astimezone().utcoffset().total_seconds())
    if is_sqlite():
        return fn.DATE(column, f"{offset:+d} seconds")
    return fn.DATE(column + dt.timedelta(seconds=offset))


def stats_records(store_id: int, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """Net sales (sales less returns) by goods and day, and each day's receipts and total.

    A delta re-sends whole days that any receipt touched since `since`; goods whose
    receipts were all cancelled that day come with zero, so the till's figure drops.
    """
    day = _local_day(Document.date)
    docs = _stats_documents(store_id)
    if since is not None:
        days = [
            str(d) for (d,) in docs.select(day).where(Document.updated > since).distinct().tuples()
        ]
        if not days:
            return
        docs = docs.where(day.in_(days))
    posted = Document.state == POSTED
    sign = Case(Document.kind, ((RETURN, -1),), 1)
    lines = (
        DocumentLine.select(
            day.alias("day"),
            Product.code,
            fn.SUM(Case(None, ((posted, DocumentLine.qty * sign),), 0)),
            fn.SUM(Case(None, ((posted, DocumentLine.sum * sign),), 0)),
        )
        .join(Document)
        .switch(DocumentLine)
        .join(Product)
        .where(Document.id.in_(docs.select(Document.id)))
        .group_by(day, Product.code)
        .order_by(day, Product.code)
    )
    for period, code, qty, total in lines.tuples().iterator():
        yield {
            "type": "stat",
            "period": str(period),
            "product": code,
            "qty": format_quantity(int(qty or 0)),
            "sum": format_money(int(total or 0)),
        }
    totals = (
        Document.select(
            day.alias("day"),
            fn.SUM(Case(None, (((posted) & (Document.kind == SALE), 1),), 0)),
            fn.SUM(Case(None, ((posted, Document.total * sign),), 0)),
        )
        .where(Document.id.in_(docs.select(Document.id)))
        .group_by(day)
        .order_by(day)
    )
    for period, receipts, total in totals.tuples():
        yield {
            "type": "stat_total",
            "period": str(period),
            "receipts": int(receipts or 0),
            "sum": format_money(int(total or 0)),
        }


# -- messages ----------------------------------------------------------------------------------


def _messages_query(till: str):
    return Message.select().where(
        Message.till.is_null() | (Message.till == "") | (Message.till == till)
    )


def message_records(till: str, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """Messages for all tills or this one; a full load leaves out those already expired."""
    query = _messages_query(till).order_by(Message.time, Message.code)
    if since is None:
        query = query.where(Message.until.is_null() | (Message.until > now()))
    else:
        query = query.where(Message.updated > since)
    for row in query:
        yield {
            "type": "message",
            "id": row.code,
            "time": _aware(row.time),
            "from": row.sender,
            "text": row.text,
            "until": _aware(row.until),
            "priority": row.priority,
        }


def database_marker() -> object:
    """A cheap value that changes when another connection committed to the books.

    SQLite's `PRAGMA data_version` moves only on others' commits; elsewhere the latest
    `updated` stamps of what the tills receive stand in for it.
    """
    if is_sqlite():
        return database.execute_sql("PRAGMA data_version").fetchone()[0]
    return tuple(
        model.select(fn.MAX(model.updated)).scalar()
        for model in (Product, Price, ProductGroup, Employee, Customer, Message)
    )
