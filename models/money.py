"""Exact money and quantities.

The database holds integers: kopecks for money, thousandths for quantities (a
piece good is 1000, 1.5 kg is 1500). Python code above the database speaks
`Decimal`. These helpers are the only crossing between the two, so rounding
happens in one place and in one way: half up, as receipts are rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from models.i18n import _

KOPECKS = 100
MILLI = 1000
_CENT = Decimal("0.01")
_MILLI = Decimal("0.001")


class AmountError(ValueError):
    """A money or quantity text that is not an exact decimal of the allowed scale."""


def to_decimal(value: object, places: int = 2, what: str | None = None) -> Decimal:
    """Parse `value` (str, int or Decimal; never float) into a Decimal.

    More decimal places than `places` is an error, not a silent rounding: a
    till that sends "1.2345" kg has a bug we must see. `what` names the value
    in the error (default: "amount", in the operator's language).
    """
    kind = type(value)
    if kind is str:
        try:
            number = Decimal(value)  # surrounding whitespace is allowed by Decimal
        except InvalidOperation:
            raise AmountError(
                _("{what} is not a number: {value}").format(
                    what=what or _("amount"), value=repr(value)
                )
            ) from None
    elif kind is Decimal:
        number = value
    elif kind is int:
        return Decimal(value)
    elif isinstance(value, float):
        raise AmountError(
            _("{what} must be a decimal string, not a float: {value}").format(
                what=what or _("amount"), value=repr(value)
            )
        )
    elif isinstance(value, bool) or value is None:
        raise AmountError(
            _("{what} is missing or not a number: {value}").format(
                what=what or _("amount"), value=repr(value)
            )
        )
    else:
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise AmountError(
                _("{what} is not a number: {value}").format(
                    what=what or _("amount"), value=repr(value)
                )
            ) from None
    if not number.is_finite():
        raise AmountError(
            _("{what} is not a finite number: {value}").format(
                what=what or _("amount"), value=repr(value)
            )
        )
    exponent = number.as_tuple().exponent
    if exponent < -places:
        raise AmountError(
            _("{what} has more than {places} decimal places: {value}").format(
                what=what or _("amount"), places=places, value=repr(value)
            )
        )
    return number


def kopecks(amount: Decimal | str | int) -> int:
    """Money as integer kopecks; `amount` must already be exact to the kopeck."""
    return int(to_decimal(amount, 2) * KOPECKS)


def milli(quantity: Decimal | str | int) -> int:
    """A quantity as integer thousandths."""
    return int(to_decimal(quantity, 3, _("quantity")) * MILLI)


def money(kop: int | None) -> Decimal | None:
    """Kopecks back to a two-place Decimal."""
    if kop is None:
        return None
    return (Decimal(kop) / KOPECKS).quantize(_CENT)


def quantity(qty: int | None) -> Decimal | None:
    """Thousandths back to a Decimal, without trailing zeros beyond what is needed."""
    if qty is None:
        return None
    value = (Decimal(qty) / MILLI).quantize(_MILLI)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (exact, no floats)."""
    if denominator == 0:
        raise ZeroDivisionError("round_half_up by zero")
    negative = (numerator < 0) != (denominator < 0)
    q, r = divmod(abs(numerator), abs(denominator))
    if 2 * r >= abs(denominator):
        q += 1
    return -q if negative else q


def line_value(qty_milli: int, price_kop: int) -> int:
    """qty x price in kopecks, rounded half up (the receipt rule)."""
    return round_half_up(qty_milli * price_kop, MILLI)


def format_money(kop: int | None) -> str:
    """Money as the contract writes it: "89.90"."""
    value = money(kop)
    return "" if value is None else f"{value:.2f}"


def format_quantity(qty: int | None) -> str:
    """A quantity as the contract writes it: "2", "1.5", "0.734"."""
    value = quantity(qty)
    return "" if value is None else f"{value:f}"
