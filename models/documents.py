"""Documents and their lines: the only way stock and money move.

A document is born a `draft` (typed by an operator or sent by a till), is
`posted` (its moves written to the ledger) or `rejected` (a till draft the
operator turned down, with a reason), and a posted one may later be
`cancelled` (reversing moves written). A posted document is never edited.
"""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.catalog import Product
from models.db import BaseModel
from models.org import Store, now
from models.parties import Customer, Supplier

INCOMING = "incoming"
SUPPLIER_RETURN = "supplier_return"
TRANSFER = "transfer"
INVENTORY = "inventory"
WRITEOFF = "writeoff"
SALE = "sale"
RETURN = "return"
ORDER = "order"

KINDS = (INCOMING, SUPPLIER_RETURN, TRANSFER, INVENTORY, WRITEOFF, SALE, RETURN, ORDER)
#: Kinds that move stock when posted (an order only reserves).
STOCK_KINDS = frozenset(KINDS) - {ORDER}
#: Kinds an operator posts; the negative-stock guard applies to them.
OPERATOR_KINDS = frozenset({INCOMING, SUPPLIER_RETURN, TRANSFER, INVENTORY, WRITEOFF})
#: Receipts from the tills: facts, posted on import, never refused.
RECEIPT_KINDS = frozenset({SALE, RETURN})

WRITEOFF_REASONS = ("expired", "damaged", "lost", "internal")

DRAFT = "draft"
POSTED = "posted"
CANCELLED = "cancelled"
REJECTED = "rejected"
STATES = (DRAFT, POSTED, CANCELLED, REJECTED)

#: Short prefixes for document numbers an operator reads.
NUMBER_PREFIX = {
    INCOMING: "IN",
    SUPPLIER_RETURN: "SR",
    TRANSFER: "TR",
    INVENTORY: "INV",
    WRITEOFF: "WO",
    SALE: "S",
    RETURN: "R",
    ORDER: "ORD",
}


class Document(BaseModel):
    """A document and its state; the indexes are the few the journal and imports use.

    Every index costs each of the thousands of receipts a day their insert, so
    foreign keys that a composite index already leads with (or that nothing
    looks up) carry none.
    """

    kind = CharField()
    state = CharField(default=DRAFT)
    number = CharField(default="")
    date = DateTimeField(default=now, index=True)
    store = ForeignKeyField(Store, backref="documents", on_delete="RESTRICT", index=False)
    to_store = ForeignKeyField(Store, null=True, on_delete="RESTRICT", index=False)
    supplier = ForeignKeyField(Supplier, null=True, on_delete="RESTRICT", index=False)
    #: A supplier code a till named that the books do not know (yet).
    supplier_code = CharField(default="")
    customer = ForeignKeyField(Customer, null=True, on_delete="RESTRICT", index=False)
    author = CharField(default="")
    till = CharField(null=True)
    #: The till's own id of the draft or receipt ("T01-123-42").
    external_id = CharField(null=True)
    reason = CharField(default="")
    comment = TextField(default="")
    invoice = CharField(default="")
    invoice_date = DateField(null=True)
    #: For receipts: the shift and the till's receipt number; a return's sold receipt.
    shift = IntegerField(null=True)
    return_of = CharField(default="")
    card = CharField(default="")
    cashier = CharField(default="")
    total = IntegerField(default=0)  # kopecks
    created = DateTimeField(default=now)
    posted_at = DateTimeField(null=True)
    posted_by = CharField(default="")
    cancelled_at = DateTimeField(null=True)
    cancelled_by = CharField(default="")
    cancel_reason = CharField(default="")
    #: The last operator who edited a draft's lines before approval.
    edited_by = CharField(default="")
    edited_at = DateTimeField(null=True)
    rejected_at = DateTimeField(null=True)
    rejected_by = CharField(default="")
    reject_reason = CharField(default="")
    #: Count of lines not matched to goods (kept, never dropped).
    unmatched = IntegerField(default=0)
    updated = DateTimeField(default=now, index=True)

    class Meta:
        indexes = (
            (("till", "external_id"), True),
            (("store", "kind", "state"), False),
        )

    @property
    def display_number(self) -> str:
        return self.number or f"{NUMBER_PREFIX.get(self.kind, 'D')}-{self.id:06d}"


# The approval queue reads drafts across stores; a partial index holds only them,
# so the receipts (posted on arrival) never pay for it.
Document.add_index(Document.index(Document.state, Document.date).where(Document.state == DRAFT))


class DocumentLine(BaseModel):
    document = ForeignKeyField(Document, backref="lines", on_delete="CASCADE", index=False)
    n = IntegerField(default=0)
    product = ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    #: What the till named when the goods could not be matched: code and barcode.
    product_code = CharField(default="")
    barcode = CharField(default="")
    qty = IntegerField(default=0)  # thousandths
    price = IntegerField(default=0)  # kopecks per unit
    discount = IntegerField(default=0)  # kopecks
    sum = IntegerField(default=0)  # kopecks
    #: The cost of goods this line moved, written when posted.
    cost = IntegerField(default=0)
    #: Inventory count: the book quantity at posting, so the difference stays readable.
    book_qty = IntegerField(null=True)
    expiry = DateField(null=True)
    certificate = CharField(default="")
    mark = CharField(default="")
    department = IntegerField(null=True)
    unmatched = BooleanField(default=False)

    class Meta:
        indexes = ((("document", "n"), False),)
