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
from models.money import KOPECKS, MILLI, AmountError, kopecks, line_value, milli, to_decimal

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
#: A missing discount or change, as (Decimal, kopecks).
_NO_MONEY = (_ZERO, 0)


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


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One line of a receipt; the amounts come as Decimals and as the integers the books keep.

    The integers (thousandths of the quantity, kopecks of the rest) are worked out once,
    while the line is checked, so that posting need not parse the same text again.
    """

    n: int
    product: str | None
    barcode: str | None
    qty: Decimal
    price: Decimal
    discount: Decimal
    sum: Decimal
    department: int | None = None
    mark: str | None = None
    qty_milli: int = field(kw_only=True, compare=False, repr=False)
    price_kop: int = field(kw_only=True, compare=False, repr=False)
    discount_kop: int = field(kw_only=True, compare=False, repr=False)
    sum_kop: int = field(kw_only=True, compare=False, repr=False)

    @classmethod
    def from_fields(cls, f: Fields, position: int) -> ReceiptLine:
        product, barcode = f.goods()
        n = f.integer("n", False)
        qty = f.qty("qty")
        price = f.money("price")
        discount = f.money_or_zero("discount")
        total = f.money("sum", negative=True)
        qty_milli, price_kop, discount_kop = milli(qty), kopecks(price), kopecks(discount)
        # qty x price - discount, rounded half up to kopecks (the till's rule).
        expected = Decimal(line_value(qty_milli, price_kop) - discount_kop).scaleb(-2)
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
            qty_milli=qty_milli,
            price_kop=price_kop,
            discount_kop=discount_kop,
            sum_kop=kopecks(total),
        )


@dataclass(frozen=True, slots=True)
class ReceiptPayment:
    """One payment of a receipt; amount and change also in kopecks, as the books keep them."""

    method: str
    amount: Decimal
    change: Decimal = _ZERO
    certificate: str | None = None
    customer: str | None = None
    amount_kop: int = field(kw_only=True, compare=False, repr=False)
    change_kop: int = field(kw_only=True, compare=False, repr=False)

    @classmethod
    def from_fields(cls, f: Fields) -> ReceiptPayment:
        method = f.choice("method", PAYMENT_METHODS)
        amount = f.money("amount")
        change = f.money_or_zero("change")
        return cls(
            method=method,
            amount=amount,
            change=change,
            certificate=f.text("certificate", method == "certificate"),
            customer=f.text("customer", method == "credit"),
            amount_kop=kopecks(amount),
            change_kop=kopecks(change),
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
    total_kop: int = field(kw_only=True, compare=False, repr=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any], line: int) -> Receipt:
        """Read a receipt: the quick reading of a right one, else the full reading.

        Both accept the same receipts and read them alike; only the full reading says
        what is wrong, naming the line and the field.
        """
        receipt = _quick_receipt(obj, line)
        return receipt if receipt is not None else cls.from_fields(Fields(obj, line))

    @classmethod
    def from_fields(cls, f: Fields) -> Receipt:
        """Read a receipt field by field, failing at the first thing wrong."""
        line = f.line
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
            total_kop=kopecks(total),
        )


#: Money and quantity texts already read, as (Decimal, kopecks or thousandths). A till
#: repeats the same few prices and quantities line after line; a text once proved right
#: need not be parsed and proved again. Bounded: cleared when full.
_MONEY_SEEN: dict[str, tuple[Decimal, int]] = {}
_QTY_SEEN: dict[str, tuple[Decimal, int]] = {}
_SEEN_LIMIT = 4096
#: The quick reading takes amounts below 10**12 only (so below 10**15 kopecks or
#: thousandths), where its integer arithmetic and the Decimal arithmetic of the full
#: reading agree to the last digit; anything larger is left to the full reading.
_QUICK_MAGNITUDE = 12


def _known_amount(
    value: Any, places: int, seen: dict[str, tuple[Decimal, int]]
) -> tuple[Decimal, int] | None:
    """A decimal text as (Decimal, integer in units of 10**-places), or None if unusual.

    None means "not for the quick reading": not text, not a number of at most `places`
    places, or too large. The integer is worked out as `kopecks` and `milli` do it.
    """
    if type(value) is not str:
        return None
    found = seen.get(value)
    if found is not None:
        return found
    try:
        number = to_decimal(value, places)
    except AmountError:
        return None
    if number.adjusted() >= _QUICK_MAGNITUDE:
        return None
    found = (number, int(number * (KOPECKS if places == 2 else MILLI)))
    if len(seen) >= _SEEN_LIMIT:
        seen.clear()
    seen[value] = found
    return found


def _aware(value: Any) -> datetime | None:
    """An ISO 8601 time with its UTC offset, or None for anything else."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    return moment


def _quick_receipt(obj: dict[str, Any], line: int) -> Receipt | None:
    """A receipt with nothing wrong in it, read with plain look-ups; None for anything else.

    Sales files are almost all receipts, and almost all of them right: reading each
    line through a `Fields` object costs more than the rest of the import. This makes
    every check `Receipt.from_fields` makes (types, required fields, choices, places,
    signs, each line's sum, the total, the payments), on integer kopecks; it never
    explains a failure. At anything unusual it returns None, and the full reading runs
    and names the line and the field. A receipt it does accept reads exactly as the full
    reading would read it.
    """
    get = obj.get
    ident, shift, number = get("id"), get("shift"), get("number")
    op, cashier = get("op"), get("cashier")
    if (
        type(ident) is not str
        or type(shift) is not int
        or type(number) is not int
        or type(op) is not str
        or op not in RECEIPT_OPS
        or type(cashier) is not str
    ):
        return None
    seller, card, return_of = get("seller"), get("card"), get("return_of")
    for text in (seller, card, return_of):
        if text is not None and type(text) is not str:
            return None
    closed = _aware(get("closed"))
    opened = get("opened")
    if opened is not None:
        opened = _aware(opened)
        if opened is None:
            return None
    items = get("lines")
    paying = get("payments")
    total = _known_amount(get("total"), 2, _MONEY_SEEN)
    if closed is None or type(items) is not list or not items or type(paying) is not list:
        return None
    if total is None:
        return None
    bonus = get("bonus")
    earned = redeemed = _NO_MONEY
    if bonus is not None:
        if type(bonus) is not dict:
            return None
        earned = _optional_money(bonus.get("earned"))
        redeemed = _optional_money(bonus.get("redeemed"))
        if earned is None or redeemed is None:
            return None
    lines: list[ReceiptLine] = []
    lines_total = 0
    for position, item in enumerate(items, 1):
        if type(item) is not dict:
            return None
        read = item.get
        product, barcode, n = read("product"), read("barcode"), read("n")
        department, mark = read("department"), read("mark")
        if (
            (product is not None and type(product) is not str)
            or (barcode is not None and type(barcode) is not str)
            or not (product or barcode)
            or (n is not None and type(n) is not int)
            or (department is not None and type(department) is not int)
            or (mark is not None and type(mark) is not str)
        ):
            return None
        qty = _known_amount(read("qty"), 3, _QTY_SEEN)
        price = _known_amount(read("price"), 2, _MONEY_SEEN)
        discount = _optional_money(read("discount"))
        line_sum = _known_amount(read("sum"), 2, _MONEY_SEEN)
        if qty is None or price is None or discount is None or line_sum is None:
            return None
        qty_milli, price_kop, discount_kop, sum_kop = qty[1], price[1], discount[1], line_sum[1]
        # qty x price is never negative here, so half up is adding half and flooring.
        if (
            qty_milli <= 0
            or price_kop < 0
            or (qty_milli * price_kop + 500) // 1000 - discount_kop != sum_kop
        ):
            return None
        lines_total += sum_kop
        lines.append(
            ReceiptLine(
                n=position if n is None else n,
                product=product,
                barcode=barcode,
                qty=qty[0],
                price=price[0],
                discount=discount[0],
                sum=line_sum[0],
                department=department,
                mark=mark,
                qty_milli=qty_milli,
                price_kop=price_kop,
                discount_kop=discount_kop,
                sum_kop=sum_kop,
            )
        )
    payments: list[ReceiptPayment] = []
    paid = 0
    for item in paying:
        if type(item) is not dict:
            return None
        read = item.get
        method, certificate, customer = read("method"), read("certificate"), read("customer")
        amount = _known_amount(read("amount"), 2, _MONEY_SEEN)
        change = _optional_money(read("change"))
        if (
            type(method) is not str
            or method not in PAYMENT_METHODS
            or amount is None
            or amount[1] < 0
            or change is None
        ):
            return None
        if certificate is None:
            if method == "certificate":
                return None
        elif type(certificate) is not str:
            return None
        if customer is None:
            if method == "credit":
                return None
        elif type(customer) is not str:
            return None
        paid += amount[1] - change[1]
        payments.append(
            ReceiptPayment(
                method=method,
                amount=amount[0],
                change=change[0],
                certificate=certificate,
                customer=customer,
                amount_kop=amount[1],
                change_kop=change[1],
            )
        )
    if total[1] != lines_total or paid != total[1]:
        return None
    return Receipt(
        id=ident,
        shift=shift,
        number=number,
        op=op,
        opened=opened,
        closed=closed,
        cashier=cashier,
        lines=tuple(lines),
        payments=tuple(payments),
        total=total[0],
        seller=seller,
        card=card,
        bonus_earned=earned[0],
        bonus_redeemed=redeemed[0],
        return_of=return_of,
        line=line,
        total_kop=total[1],
    )


def _optional_money(value: Any) -> tuple[Decimal, int] | None:
    """Money that may be left out (zero then) but not negative; None if unusual."""
    if value is None:
        return _NO_MONEY
    amount = _known_amount(value, 2, _MONEY_SEEN)
    return amount if amount is not None and amount[1] >= 0 else None


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
