"""The stock ledger: batches, append-only moves, and the balances kept beside them.

`StockMove` rows are never updated or deleted; `Balance` is a cache of their
sums per (store, batch), written in the same transaction, which `iis check`
proves equal to the moves.
"""

from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from models.catalog import Product
from models.db import BaseModel
from models.documents import Document, DocumentLine
from models.org import Store, now
from models.parties import Supplier


class Batch(BaseModel):
    """A lot of goods as received: its cost, expiry date and certificate.

    A batch is not tied to a store: a transfer moves part of it to another
    store at the same cost. `cost` is per unit (per piece or per kg), kopecks.
    """

    product = ForeignKeyField(Product, backref="batches", on_delete="RESTRICT")
    supplier = ForeignKeyField(Supplier, null=True, on_delete="RESTRICT")
    document = ForeignKeyField(Document, null=True, on_delete="RESTRICT")
    received = DateTimeField(default=now)
    cost = IntegerField(default=0)
    expiry = DateField(null=True, index=True)
    certificate = CharField(default="")
    #: Why a batch exists without a receipt: "negative" for a sale ahead of stock.
    origin = CharField(default="")


class StockMove(BaseModel):
    document = ForeignKeyField(Document, backref="moves", on_delete="RESTRICT")
    # No index on line, store or batch: moves are read by document, or by
    # (store, product, time); each index would slow every receipt's insert.
    line = ForeignKeyField(DocumentLine, null=True, on_delete="RESTRICT", index=False)
    store = ForeignKeyField(Store, on_delete="RESTRICT", index=False)
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    batch = ForeignKeyField(Batch, on_delete="RESTRICT", index=False)
    qty = IntegerField()  # thousandths, signed
    cost = IntegerField()  # kopecks, signed
    time = DateTimeField(default=now)

    class Meta:
        indexes = ((("store", "product", "time"), False),)


class Balance(BaseModel):
    # The composite indexes below lead with store; no separate ones are needed.
    store = ForeignKeyField(Store, on_delete="RESTRICT", index=False)
    product = ForeignKeyField(Product, on_delete="RESTRICT", index=False)
    batch = ForeignKeyField(Batch, on_delete="RESTRICT")
    qty = IntegerField(default=0)
    cost = IntegerField(default=0)

    class Meta:
        indexes = (
            (("store", "batch"), True),
            (("store", "product"), False),
        )
