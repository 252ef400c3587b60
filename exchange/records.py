"""Typed records of the ShopV2 files a till sends, checked as they are read.

A till's file is a fact about money and goods. Reading it into plain dicts would
push every check (is this money exact? does the receipt add up?) into each place
that uses it, and a bad file would surface half-imported. Here each record is
validated once, at the line it came from, and the importer receives frozen
values of the right types: `Decimal` money and quantities, aware `datetime`,
`date`. Anything wrong is a `ShopV2Error` naming the line and the field, in
words an operator can act on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, NoReturn

from models.i18n import _
from models.money import AmountError, kopecks, line_value, milli, to_decimal

#: Kinds of file a till sends, and the record types each may hold.
INCOMING_KINDS: dict[str, frozenset[str]] = {
    "sales": frozenset({"receipt", "cancelled", "cash", "payment", "shift"}),
    "drafts": frozenset({"draft"}),
    "baskets": frozenset({"basket"}),
    "status": frozenset({"status"}),
}
#: Kinds of file IIS publishes for the tills, and the record types each may hold.
OUTGOING_KINDS: dict[str, frozenset[str]] = {
    "catalog": frozenset({"group", "product", "barcode_rule"}),
    "customers": frozenset({"customer"}),
    "loyalty": frozenset({"price_policy", "bonus_rule", "promotion"}),
    "identifiers": frozenset({"identifier"}),
    "staff": frozenset({"employee"}),
    "stats": frozenset({"stat", "stat_total"}),
    "messages": frozenset({"message"}),
}
#: Every file kind and the record types allowed in it.
RECORD_TYPES_BY_KIND: dict[str, frozenset[str]] = {**INCOMING_KINDS, **OUTGOING_KINDS}
#: Every record type the contract knows; any other is reported and skipped.
KNOWN_RECORD_TYPES: frozenset[str] = frozenset().union(*RECORD_TYPES_BY_KIND.values())

PAYMENT_METHODS = ("cash", "card", "bonus", "certificate", "credit")
ACCOUNT_PAYMENT_METHODS = ("cash", "card")
RECEIPT_OPS = ("sale", "return")
CASH_OPS = ("in", "out")
DRAFT_DOCS = ("incoming", "supplier_return", "transfer", "inventory", "writeoff")
WRITEOFF_REASONS = ("expired", "damaged", "lost", "internal")

_ZERO = Decimal("0.00")


class ShopV2Error(ValueError):
    """A file or record that breaks the contract: fatal for the whole file.

    `reason` is one operator-readable sentence (it already names the line);
    `line` is the 1-based line number, kept apart so it can be stored and shown.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def show_value(value: Any) -> str:
    """A value as it stood in the file, short enough for one error line."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """Reads typed fields out of one JSON object, failing with line and field name.

    `prefix` names where a nested object sits ("lines[2]."), so an error inside
    a receipt line says which line of the receipt it is.
    """

    __slots__ = ("line", "obj", "prefix")

    def __init__(self, obj: Any, line: int, prefix: str = "") -> None:
        self.obj = obj
        self.line = line
        self.prefix = prefix

    def name(self, key: str) -> str:
        return self.prefix + key if key else self.prefix.rstrip(".")

    def fail(self, message: str, key: str = "", **values: Any) -> NoReturn:
        raise ShopV2Error(message.format(line=self.line, field=self.name(key), **values), self.line)

    def raw(self, key: str, required: bool) -> Any:
        value = self.obj.get(key)
        if value is None and required:
            self.fail(_("line {line}: {field} is missing"), key)
        return value

    def text(self, key: str, required: bool = True) -> Any:
        value = self.raw(key, required)
        if value is not None and not isinstance(value, str):
            self.fail(
                _("line {line}: {field} must be text, not {value}"), key, value=show_value(value)
            )
        return value

    def integer(self, key: str, required: bool = True) -> Any:
        value = self.raw(key, required)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail(
                _("line {line}: {field} must be a whole number, not {value}"),
                key,
                value=show_value(value),
            )
        return value

    def count(self, key: str) -> int:
        value = self.integer(key)
        if value < 0:
            self.fail(_("line {line}: {field} must not be negative: {value}"), key, value=value)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(
                _("line {line}: {field} must be true or false, not {value}"),
                key,
                value=show_value(value),
            )
        return value

    def choice(self, key: str, allowed: tuple[str, ...], required: bool = True) -> Any:
        value = self.text(key, required)
        if value is not None and value not in allowed:
            self.fail(
                _("line {line}: {field} must be one of {allowed}, not {value}"),
                key,
                allowed=", ".join(allowed),
                value=show_value(value),
            )
        return value

    def _decimal(self, key: str, places: int, required: bool, negative: bool) -> Any:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.fail(
                _('line {line}: {field} must be a decimal string such as "89.90", not a number'),
                key,
            )
        if not isinstance(value, str):
            self.fail(
                _("line {line}: {field} must be text, not {value}"), key, value=show_value(value)
            )
        try:
            number = to_decimal(value, places)
        except AmountError:
            self.fail(
                _(
                    "line {line}: {field} is not a decimal number with at most {places} places: "
                    "{value}"
                ),
                key,
                places=places,
                value=show_value(value),
            )
        if number < 0 and not negative:
            self.fail(
                _("line {line}: {field} must not be negative: {value}"),
                key,
                value=show_value(value),
            )
        return number

    def money(self, key: str, required: bool = True, negative: bool = False) -> Any:
        """Money: a decimal string with at most two places."""
        return self._decimal(key, 2, required, negative)

    def money_or_zero(self, key: str) -> Decimal:
        value = self.money(key, required=False)
        return _ZERO if value is None else value

    def qty(self, key: str, positive: bool = True) -> Decimal:
        """A quantity: a decimal string with at most three places."""
        value = self._decimal(key, 3, True, False)
        if positive and value == 0:
            self.fail(_("line {line}: {field} must be more than zero"), key)
        return value

    def time(self, key: str, required: bool = True) -> Any:
        """A moment: ISO 8601 with its UTC offset; a time without one is ambiguous."""
        value = self.raw(key, required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            self.fail(
                _(
                    "line {line}: {field} must be a date and time such as "
                    '"2026-12-04T10:15:00+03:00", not {value}'
                ),
                key,
                value=show_value(value),
            )
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail(
                _("line {line}: {field} has no UTC offset: {value}"), key, value=show_value(value)
            )
        return moment

    def day(self, key: str, required: bool = False) -> Any:
        value = self.raw(key, required)
        if value is None:
            return None
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(
            _('line {line}: {field} must be a date such as "2026-12-03", not {value}'),
            key,
            value=show_value(value),
        )

    def objects(self, key: str, required: bool = True) -> list[Fields]:
        """A list of JSON objects, each read with its 1-based place in the name."""
        value = self.raw(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(_("line {line}: {field} must be a list of objects"), key)
        return [
            Fields(item, self.line, f"{self.name(key)}[{index}].")
            for index, item in enumerate(value, 1)
        ]

    def nested(self, key: str) -> Fields | None:
        value = self.raw(key, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(_("line {line}: {field} must be an object"), key)
        return Fields(value, self.line, f"{self.name(key)}.")

    def items(self, key: str) -> list[Any]:
        value = self.raw(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_("line {line}: {field} must be a list"), key)
        return value

    def goods(self) -> tuple[str | None, str | None]:
        """product and barcode of a line: either or both, never neither."""
        product = self.text("product", False)
        barcode = self.text("barcode", False)
        if not product and not barcode:
            self.fail(_("line {line}: {field} names neither a product nor a barcode"))
        return product, barcode


def _line_sum(qty: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    """qty x price - discount, rounded half up to kopecks (the till's rule)."""
    kop = line_value(milli(qty), kopecks(price)) - kopecks(discount)
    return Decimal(kop).scaleb(-2)


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    n: int
    product: str | None
    barcode: str | None
    qty: Decimal
    price: Decimal
    discount: Decimal
    sum: Decimal
    department: int | None = None
    mark: str | None = None

    @classmethod
    def from_fields(cls, f: Fields, position: int) -> ReceiptLine:
        product, barcode = f.goods()
        n = f.integer("n", False)
        qty = f.qty("qty")
        price = f.money("price")
        discount = f.money_or_zero("discount")
        total = f.money("sum", negative=True)
        expected = _line_sum(qty, price, discount)
        if total != expected:
            f.fail(
                _("line {line}: {field} is {actual} but qty x price - discount is {expected}"),
                "sum",
                actual=f"{total:.2f}",
                expected=f"{expected:.2f}",
            )
        return cls(
            n=position if n is None else n,
            product=product,
            barcode=barcode,
            qty=qty,
            price=price,
            discount=discount,
            sum=total,
            department=f.integer("department", False),
            mark=f.text("mark", False),
        )


@dataclass(frozen=True, slots=True)
class ReceiptPayment:
    method: str
    amount: Decimal
    change: Decimal = _ZERO
    certificate: str | None = None
    customer: str | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> ReceiptPayment:
        method = f.choice("method", PAYMENT_METHODS)
        return cls(
            method=method,
            amount=f.money("amount"),
            change=f.money_or_zero("change"),
            certificate=f.text("certificate", method == "certificate"),
            customer=f.text("customer", method == "credit"),
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    """One closed receipt, a sale or a return, whose arithmetic adds up."""

    type: ClassVar[str] = "receipt"

    id: str
    shift: int
    number: int
    op: str
    opened: datetime | None
    closed: datetime
    cashier: str
    lines: tuple[ReceiptLine, ...]
    payments: tuple[ReceiptPayment, ...]
    total: Decimal
    seller: str | None = None
    card: str | None = None
    bonus_earned: Decimal = _ZERO
    bonus_redeemed: Decimal = _ZERO
    return_of: str | None = None
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> Receipt:
        f = Fields(obj, line)
        ident, shift, number = f.text("id"), f.integer("shift"), f.integer("number")
        op, opened, closed = f.choice("op", RECEIPT_OPS), f.time("opened", False), f.time("closed")
        line_fields = f.objects("lines")
        if not line_fields:
            f.fail(_("line {line}: the receipt has no lines"))
        lines = tuple(ReceiptLine.from_fields(lf, i) for i, lf in enumerate(line_fields, 1))
        payments = tuple(ReceiptPayment.from_fields(pf) for pf in f.objects("payments"))
        total = f.money("total", negative=True)
        lines_total = sum((item.sum for item in lines), _ZERO)
        if total != lines_total:
            f.fail(
                _("line {line}: total is {total} but the line sums add up to {expected}"),
                total=f"{total:.2f}",
                expected=f"{lines_total:.2f}",
            )
        paid = sum((p.amount - p.change for p in payments), _ZERO)
        if paid != total:
            f.fail(
                _("line {line}: the payments less change come to {paid} but total is {total}"),
                paid=f"{paid:.2f}",
                total=f"{total:.2f}",
            )
        bonus = f.nested("bonus")
        return cls(
            id=ident,
            shift=shift,
            number=number,
            op=op,
            opened=opened,
            closed=closed,
            cashier=f.text("cashier"),
            lines=lines,
            payments=payments,
            total=total,
            seller=f.text("seller", False),
            card=f.text("card", False),
            bonus_earned=_ZERO if bonus is None else bonus.money_or_zero("earned"),
            bonus_redeemed=_ZERO if bonus is None else bonus.money_or_zero("redeemed"),
            return_of=f.text("return_of", False),
            line=line,
        )


@dataclass(frozen=True, slots=True)
class CancelledReceipt:
    """A receipt begun and cancelled before closing, kept for staff control."""

    type: ClassVar[str] = "cancelled"

    id: str
    time: datetime
    total: Decimal
    shift: int | None = None
    number: int | None = None
    cashier: str | None = None
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> CancelledReceipt:
        f = Fields(obj, line)
        return cls(
            id=f.text("id"),
            time=f.time("time"),
            total=f.money_or_zero("total"),
            shift=f.integer("shift", False),
            number=f.integer("number", False),
            cashier=f.text("cashier", False),
            line=line,
        )


@dataclass(frozen=True, slots=True)
class CashOperation:
    """Money put into (`in`) or taken out of (`out`) the drawer outside receipts."""

    type: ClassVar[str] = "cash"

    id: str
    time: datetime
    op: str
    amount: Decimal
    shift: int | None = None
    cashier: str | None = None
    reason: str = ""
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> CashOperation:
        f = Fields(obj, line)
        return cls(
            id=f.text("id"),
            time=f.time("time"),
            op=f.choice("op", CASH_OPS),
            amount=f.money("amount"),
            shift=f.integer("shift", False),
            cashier=f.text("cashier", False),
            reason=f.text("reason", False) or "",
            line=line,
        )


@dataclass(frozen=True, slots=True)
class CustomerPayment:
    """A customer paying at the till against an account, not for a receipt."""

    type: ClassVar[str] = "payment"

    id: str
    time: datetime
    customer: str
    method: str
    amount: Decimal
    shift: int | None = None
    basket: str | None = None
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> CustomerPayment:
        f = Fields(obj, line)
        return cls(
            id=f.text("id"),
            time=f.time("time"),
            customer=f.text("customer"),
            method=f.choice("method", ACCOUNT_PAYMENT_METHODS),
            amount=f.money("amount"),
            shift=f.integer("shift", False),
            basket=f.text("basket", False),
            line=line,
        )


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """The till's Z-report; reconciling it with the receipts is the importer's job."""

    type: ClassVar[str] = "shift"

    shift: int
    closed: datetime
    receipts: int
    returns: int
    sales_total: Decimal
    returns_total: Decimal
    by_method: dict[str, Decimal]
    cash_in: Decimal = _ZERO
    cash_out: Decimal = _ZERO
    opened: datetime | None = None
    cashier: str | None = None
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> ShiftReport:
        f = Fields(obj, line)
        methods = f.nested("by_method")
        by_method: dict[str, Decimal] = {}
        if methods is not None:
            for method in methods.obj:
                by_method[method] = methods.money(method, negative=True)
        return cls(
            shift=f.integer("shift"),
            closed=f.time("closed"),
            receipts=f.count("receipts"),
            returns=f.count("returns"),
            sales_total=f.money("sales_total"),
            returns_total=f.money("returns_total"),
            by_method=by_method,
            cash_in=f.money_or_zero("cash_in"),
            cash_out=f.money_or_zero("cash_out"),
            opened=f.time("opened", False),
            cashier=f.text("cashier", False),
            line=line,
        )


@dataclass(frozen=True, slots=True)
class DraftLine:
    product: str | None
    barcode: str | None
    qty: Decimal
    price: Decimal | None = None
    expiry: date | None = None
    certificate: str | None = None

    @classmethod
    def from_fields(cls, f: Fields, counted: bool) -> DraftLine:
        product, barcode = f.goods()
        return cls(
            product=product,
            barcode=barcode,
            qty=f.qty("qty", positive=not counted),
            price=f.money("price", required=False),
            expiry=f.day("expiry"),
            certificate=f.text("certificate", False),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """A document drafted at the till; it changes nothing until an operator approves it."""

    type: ClassVar[str] = "draft"

    id: str
    doc: str
    created: datetime
    author: str
    lines: tuple[DraftLine, ...]
    supplier: str | None = None
    invoice: str | None = None
    invoice_date: date | None = None
    to_store: str | None = None
    reason: str | None = None
    comment: str = ""
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> Draft:
        f = Fields(obj, line)
        doc = f.choice("doc", DRAFT_DOCS)
        line_fields = f.objects("lines")
        if not line_fields:
            f.fail(_("line {line}: the draft has no lines"))
        counted = doc == "inventory"
        return cls(
            id=f.text("id"),
            doc=doc,
            created=f.time("created"),
            author=f.text("author"),
            lines=tuple(DraftLine.from_fields(lf, counted) for lf in line_fields),
            supplier=f.text("supplier", doc in ("incoming", "supplier_return")),
            invoice=f.text("invoice", False),
            invoice_date=f.day("invoice_date"),
            to_store=f.text("to_store", doc == "transfer"),
            reason=f.choice("reason", WRITEOFF_REASONS, doc == "writeoff"),
            comment=f.text("comment", False) or "",
            line=line,
        )


@dataclass(frozen=True, slots=True)
class BasketLine:
    product: str | None
    barcode: str | None
    qty: Decimal

    @classmethod
    def from_fields(cls, f: Fields) -> BasketLine:
        product, barcode = f.goods()
        return cls(product=product, barcode=barcode, qty=f.qty("qty"))


@dataclass(frozen=True, slots=True)
class Basket:
    """Goods a customer wants reserved or ordered."""

    type: ClassVar[str] = "basket"

    id: str
    created: datetime
    lines: tuple[BasketLine, ...]
    cashier: str | None = None
    card: str | None = None
    customer: str | None = None
    comment: str = ""
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> Basket:
        f = Fields(obj, line)
        line_fields = f.objects("lines")
        if not line_fields:
            f.fail(_("line {line}: the basket has no lines"))
        return cls(
            id=f.text("id"),
            created=f.time("created"),
            lines=tuple(BasketLine.from_fields(lf) for lf in line_fields),
            cashier=f.text("cashier", False),
            card=f.text("card", False),
            customer=f.text("customer", False),
            comment=f.text("comment", False) or "",
            line=line,
        )


@dataclass(frozen=True, slots=True)
class Status:
    """The till's heartbeat: what it runs and the last file it applied per kind."""

    type: ClassVar[str] = "status"

    time: datetime
    version: str = ""
    shift: int | None = None
    shift_open: bool = False
    applied: dict[str, int] = field(default_factory=dict)
    errors: tuple[Any, ...] = ()
    line: int = field(default=0, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> Status:
        f = Fields(obj, line)
        kinds = f.nested("applied")
        applied: dict[str, int] = {}
        if kinds is not None:
            for kind in kinds.obj:
                applied[kind] = kinds.count(kind)
        return cls(
            time=f.time("time"),
            version=f.text("version", False) or "",
            shift=f.integer("shift", False),
            shift_open=f.flag("shift_open"),
            applied=applied,
            errors=tuple(f.items("errors")),
            line=line,
        )


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record of a file IIS writes for the tills, kept as its JSON object.

    IIS reads these only to check its own output, so they are not typed further.
    """

    type: str
    data: dict[str, Any]
    line: int = field(default=0, compare=False)


TillRecord = (
    Receipt
    | CancelledReceipt
    | CashOperation
    | CustomerPayment
    | ShiftReport
    | Draft
    | Basket
    | Status
)
Record = TillRecord | RawRecord

#: Record type -> the class that reads it, for every type a till sends.
RECORD_CLASSES: dict[str, Any] = {
    cls.type: cls
    for cls in (
        Receipt,
        CancelledReceipt,
        CashOperation,
        CustomerPayment,
        ShiftReport,
        Draft,
        Basket,
        Status,
    )
}


def record_from_json(obj: dict[str, Any], line: int) -> Record:
    """Read one record of a known type: typed when a till sends it, raw otherwise."""
    cls = RECORD_CLASSES.get(obj["type"])
    if cls is None:
        return RawRecord(type=obj["type"], data=obj, line=line)
    return cls.from_json(obj, line)
