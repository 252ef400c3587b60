"""Stock as people read it: balances per goods (or per batch), with cost, value, price.

Pages are cheap at any catalog size: the goods of a page are chosen first
(indexed, LIMIT/OFFSET over the product table), then their balances summed in
one grouped query. Nothing here reads the whole catalog to show a screenful.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, Case, fn

from models.catalog import Barcode, Price, Product, ProductGroup
from models.db import contains_text
from models.documents import Document
from models.ledger import Balance, Batch, StockMove
from models.money import money, quantity, round_half_up
from models.org import Store


@dataclass(frozen=True)
class StockFilter:
    store: Store
    group: ProductGroup | None = None
    search: str = ""
    #: Only goods that have (or had, negative included) a balance in the store.
    only_stocked: bool = True


def _products(flt: StockFilter):
    query = Product.select(Product.id).where(~Product.deleted)
    if flt.group is not None:
        query = query.where(Product.group.in_(ProductGroup.subtree_ids(flt.group)))
    text = flt.search.strip()
    if text:
        by_barcode = Barcode.select(Barcode.product_id).where(Barcode.code == text)
        query = query.where(
            (Product.code == text)
            | Product.code.startswith(text)
            | Product.id.in_(by_barcode)
            | contains_text(Product.name, text)
        )
    if flt.only_stocked:
        stocked = Balance.select(Balance.product_id).where(
            (Balance.store == flt.store) & (Balance.qty != 0)
        )
        query = query.where(Product.id.in_(stocked))
    return query


def count_stock(flt: StockFilter) -> int:
    return _products(flt).count()


def stock_page(flt: StockFilter, offset: int = 0, limit: int = 100) -> list[dict]:
    """One page of goods with their store balance, ordered by code.

    Keys: store, product, name, unit, quantity, cost (per unit, average over
    batches), value, price, plus `product_id`, `negative` and `expiring`.
    """
    ids = [
        row[0] for row in _products(flt).order_by(Product.code).offset(offset).limit(limit).tuples()
    ]
    return stock_rows_for(flt.store, ids)


def stock_rows_for(store: Store, product_ids: list[int]) -> list[dict]:
    if not product_ids:
        return []
    products = {
        p.id: p
        for p in Product.select(Product.id, Product.code, Product.name, Product.unit).where(
            Product.id.in_(product_ids)
        )
    }
    sums = {
        pid: (qty or 0, cost or 0, expiry)
        for pid, qty, cost, expiry in Balance.select(
            Balance.product_id,
            fn.SUM(Balance.qty),
            fn.SUM(Balance.cost),
            fn.MIN(Case(None, [((Balance.qty > 0), Batch.expiry)], None)),
        )
        .join(Batch)
        .where((Balance.store == store) & Balance.product_id.in_(product_ids))
        .group_by(Balance.product_id)
        .tuples()
    }
    prices = dict(
        Price.select(Price.product_id, Price.price)
        .where((Price.store == store) & Price.product_id.in_(product_ids))
        .tuples()
    )
    rows = []
    for pid in product_ids:
        product = products[pid]
        qty, value, earliest = sums.get(pid, (0, 0, None))
        rows.append(
            {
                "product_id": pid,
                "store": store.code,
                "product": product.code,
                "name": product.name,
                "unit": product.unit,
                "quantity": quantity(qty),
                "cost": money(round_half_up(value * 1000, qty)) if qty else None,
                "value": money(value),
                "price": money(prices.get(pid)),
                "negative": qty < 0,
                "earliest_expiry": _as_date(earliest),
            }
        )
    return rows


def batch_rows(store: Store, product_ids: list[int] | None = None, *, with_zero: bool = False):
    """Balances per batch: keys of `stock_rows_for` plus batch, expiry, received, supplier."""
    query = (
        Balance.select(
            Balance.product_id,
            Product.code,
            Product.name,
            Product.unit,
            Balance.batch_id,
            Balance.qty,
            Balance.cost,
            Batch.expiry,
            Batch.received,
            Batch.certificate,
            Price.price,
        )
        .join(Batch)
        .switch(Balance)
        .join(Product)
        .switch(Balance)
        .join(
            Price,
            JOIN.LEFT_OUTER,
            on=((Price.product == Balance.product) & (Price.store == Balance.store)),
        )
        .where(Balance.store == store)
        .order_by(Product.code, Batch.expiry.asc(nulls="LAST"), Batch.received, Batch.id)
        .tuples()
    )
    if product_ids is not None:
        query = query.where(Balance.product_id.in_(product_ids))
    if not with_zero:
        query = query.where(Balance.qty != 0)
    for pid, code, name, unit, batch_id, qty, cost, expiry, received, cert, price in query:
        yield {
            "product_id": pid,
            "store": store.code,
            "product": code,
            "name": name,
            "unit": unit,
            "quantity": quantity(qty),
            "cost": money(round_half_up(cost * 1000, qty)) if qty else None,
            "value": money(cost),
            "price": money(price),
            "batch": batch_id,
            "expiry": _as_date(expiry),
            "received": received,
            "certificate": cert,
        }


def product_moves(store: Store, product_id: int, limit: int = 200) -> list[dict]:
    """The latest stock moves of one goods in a store, with their documents."""
    query = (
        StockMove.select(
            StockMove.time,
            StockMove.qty,
            StockMove.cost,
            StockMove.batch_id,
            Document.id,
            Document.kind,
            Document.number,
            Document.state,
        )
        .join(Document)
        .where((StockMove.store == store) & (StockMove.product == product_id))
        .order_by(StockMove.time.desc(), StockMove.id.desc())
        .limit(limit)
        .tuples()
    )
    return [
        {
            "time": time,
            "quantity": quantity(qty),
            "cost": money(cost),
            "batch": batch,
            "document_id": doc_id,
            "kind": kind,
            "number": number,
            "state": state,
        }
        for time, qty, cost, batch, doc_id, kind, number, state in query
    ]


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def expiry_state(expiry: dt.date | None, today: dt.date | None = None, soon_days: int = 7) -> str:
    """ "expired", "soon" (within `soon_days`) or "" for a batch's expiry date."""
    if expiry is None:
        return ""
    today = today or dt.date.today()
    if expiry < today:
        return "expired"
    if expiry <= today + dt.timedelta(days=soon_days):
        return "soon"
    return ""

