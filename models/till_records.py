"""What the tills tell the books besides stock: payments, cash, shifts, status,
and the record of every file exchanged with them.

These are facts the exchange writes and the console reads; they live with the
books so that a console never needs the daemon's memory.
"""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.db import BaseModel
from models.documents import Document
from models.org import Till, now
from models.parties import Customer

#: Events of the exchange log, as `iis exchange log` prints them.
EXCHANGE_EVENTS = (
    "received",
    "imported",
    "duplicate",
    "conflict",
    "gap",
    "quarantined",
    "retried",
    "discarded",
    "published",
    "acknowledged",
)


class ExchangeFile(BaseModel):
    """One file that crossed the exchange, in either direction, and where it is now.

    `state`: for incoming files `received`, `imported`, `duplicate`, `conflict`,
    `quarantined`, `discarded`; for outgoing `published`, `acknowledged`.
    """

    till = CharField(index=True)
    direction = CharField(default="in")  # "in": till -> IIS, "out": IIS -> till
    kind = CharField()
    seq = IntegerField()
    name = CharField()
    sha256 = CharField(default="")
    size = IntegerField(default=0)
    records = IntegerField(default=0)
    state = CharField(index=True)
    #: Where the file lies now, relative to the data folder.
    path = CharField(default="")
    reason = TextField(default="")
    line = IntegerField(null=True)
    mode = CharField(default="")  # outgoing: "full" or "delta"
    received_at = DateTimeField(default=now)
    processed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("till", "direction", "kind", "seq"), False),)


class ExchangeEvent(BaseModel):
    """The exchange log: every file taken, imported, refused, published, acknowledged."""

    time = DateTimeField(default=now, index=True)
    till = CharField(default="", index=True)
    kind = CharField(default="")
    seq = IntegerField(null=True)
    file = CharField(default="")
    event = CharField(index=True)
    detail = TextField(default="")


class TillStatus(BaseModel):
    """The till's last heartbeat and what it said."""

    till = ForeignKeyField(Till, unique=True, on_delete="CASCADE")
    last_contact = DateTimeField(null=True)
    version = CharField(default="")
    shift = IntegerField(null=True)
    shift_open = BooleanField(default=False)
    applied = TextField(default="{}")  # JSON: kind -> last applied seq
    errors = TextField(default="[]")  # JSON list the till reported
    last_error = TextField(default="")


class OutboxState(BaseModel):
    """Per till and kind: the last sequence published and the last acknowledged."""

    till = ForeignKeyField(Till, on_delete="CASCADE")
    kind = CharField()
    last_seq = IntegerField(default=0)
    acked_seq = IntegerField(default=0)
    #: When the last file the till acknowledged was built: deltas start from here.
    acked_as_of = DateTimeField(null=True)
    last_published_at = DateTimeField(null=True)
    want_full = BooleanField(default=True)

    class Meta:
        indexes = ((("till", "kind"), True),)


class ReceiptPayment(BaseModel):
    document = ForeignKeyField(Document, backref="payments", on_delete="CASCADE")
    method = CharField()
    amount = IntegerField()  # kopecks
    change = IntegerField(default=0)
    certificate = CharField(default="")
    customer = CharField(default="")


class CashOperation(BaseModel):
    """Money put into or taken out of a drawer outside receipts."""

    till = CharField()
    external_id = CharField()
    shift = IntegerField(null=True)
    time = DateTimeField()
    op = CharField()  # "in" | "out"
    amount = IntegerField()
    cashier = CharField(default="")
    reason = CharField(default="")

    class Meta:
        indexes = ((("till", "external_id"), True),)


class CustomerPayment(BaseModel):
    """A customer paying at the till against an account (debt, prepayment)."""

    till = CharField()
    external_id = CharField()
    shift = IntegerField(null=True)
    time = DateTimeField()
    customer_code = CharField()
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    method = CharField()
    amount = IntegerField()
    basket = CharField(default="")

    class Meta:
        indexes = ((("till", "external_id"), True),)


class CancelledReceipt(BaseModel):
    """A receipt begun and cancelled before closing, kept for staff control."""

    till = CharField()
    external_id = CharField()
    shift = IntegerField(null=True)
    number = IntegerField(null=True)
    cashier = CharField(default="")
    time = DateTimeField()
    total = IntegerField(default=0)

    class Meta:
        indexes = ((("till", "external_id"), True),)


class ShiftReport(BaseModel):
    """A till's Z-report, and how it compares with the receipts the books hold."""

    till = CharField()
    shift = IntegerField()
    opened = DateTimeField(null=True)
    closed = DateTimeField(null=True)
    cashier = CharField(default="")
    receipts = IntegerField(default=0)
    returns = IntegerField(default=0)
    sales_total = IntegerField(default=0)
    returns_total = IntegerField(default=0)
    by_method = TextField(default="{}")  # JSON: method -> kopecks
    cash_in = IntegerField(default=0)
    cash_out = IntegerField(default=0)
    #: "pending" (receipts still missing), "ok", or "difference"
    reconciled = CharField(default="pending")
    difference = TextField(default="")

    class Meta:
        indexes = ((("till", "shift"), True),)


class Message(BaseModel):
    """An information message for the tills (all, or one)."""

    code = CharField(unique=True)
    time = DateTimeField(default=now)
    sender = CharField(default="manager")
    text = TextField()
    until = DateTimeField(null=True)
    priority = CharField(default="normal")
    till = CharField(null=True)
    updated = DateTimeField(default=now, index=True)


TILL_RECORD_MODELS = [
    ExchangeFile,
    ExchangeEvent,
    TillStatus,
    OutboxState,
    ReceiptPayment,
    CashOperation,
    CustomerPayment,
    CancelledReceipt,
    ShiftReport,
    Message,
]
