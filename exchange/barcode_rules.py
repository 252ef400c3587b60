"""In-store barcodes: EAN-13 codes with prefixes 20-29 that carry the store's own data.

A till sends a scanned barcode as it is; IIS reads the PLU, weight, price, item
number or identifier out of it by the store's rules, the same rules it sends the
tills with the catalog. A code whose check digit is wrong is not a valid scan,
and saying so beats treating it as "no rule matched": the operator must see a
misread or a mistyped code, not a product that silently fails to be found.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from models.ean import ean_check_digit, is_valid_ean13, make_ean13
from models.i18n import _

RULE_KINDS = ("item", "weight", "price", "identifier")


class BarcodeError(ValueError):
    """A barcode that cannot be read or built, in words an operator can act on."""


@dataclass(frozen=True, slots=True)
class BarcodeRule:
    """One layout: prefix, then `plu_digits` of PLU, then `value_digits` of value.

    Prefix and digits fill the twelve digits before the check digit, so a rule
    that does not add up to twelve is refused when it is made.
    """

    prefix: str
    kind: str
    plu_digits: int = 0
    value_digits: int = 0

    def __post_init__(self) -> None:
        if not self.prefix.isdigit() or not self.prefix.startswith("2"):
            raise BarcodeError(
                _("barcode rule prefix {prefix} must be digits starting with 2").format(
                    prefix=self.prefix
                )
            )
        if self.kind not in RULE_KINDS:
            raise BarcodeError(
                _("barcode rule kind {kind} must be one of {allowed}").format(
                    kind=self.kind, allowed=", ".join(RULE_KINDS)
                )
            )
        if self.plu_digits < 0 or self.value_digits < 0:
            raise BarcodeError(_("barcode rule digit counts must not be negative"))
        if len(self.prefix) + self.plu_digits + self.value_digits != 12:
            raise BarcodeError(
                _(
                    "barcode rule {prefix}: prefix, PLU and value digits must make 12, not {total}"
                ).format(
                    prefix=self.prefix,
                    total=len(self.prefix) + self.plu_digits + self.value_digits,
                )
            )


DEFAULT_RULES: tuple[BarcodeRule, ...] = (
    BarcodeRule("21", "item", 0, 10),
    BarcodeRule("22", "weight", 5, 5),
    BarcodeRule("23", "price", 5, 5),
    BarcodeRule("277", "identifier", 0, 9),
)


@dataclass(frozen=True, slots=True)
class DecodedBarcode:
    """What an in-store barcode says; only the fields of its kind are set."""

    barcode: str
    kind: str
    rule: BarcodeRule
    plu: int | None = None
    #: kilograms, to the gram
    weight: Decimal | None = None
    price: Decimal | None = None
    number: int | None = None
    identifier: str | None = None


def _check(barcode: str) -> None:
    if not is_valid_ean13(barcode):
        raise BarcodeError(
            _("barcode {barcode} has a wrong check digit (expected {expected})").format(
                barcode=barcode, expected=ean_check_digit(barcode[:12])
            )
        )


def find_rule(barcode: str, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> BarcodeRule | None:
    """The rule with the longest prefix the barcode starts with (277 before 27 before 2)."""
    best: BarcodeRule | None = None
    for rule in rules:
        if barcode.startswith(rule.prefix) and (
            best is None or len(rule.prefix) > len(best.prefix)
        ):
            best = rule
    return best


def decode(barcode: str, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> DecodedBarcode | None:
    """Read an in-store barcode by `rules`; None when it is not one of them.

    Any thirteen-digit code with a wrong check digit raises `BarcodeError`.
    Codes of other lengths (EAN-8, Code 128) are not in-store codes: None.
    """
    code = barcode.strip()
    if len(code) != 13 or not code.isdigit():
        return None
    _check(code)
    rule = find_rule(code, rules)
    if rule is None:
        return None
    start = len(rule.prefix)
    plu_text = code[start : start + rule.plu_digits]
    value = int(code[start + rule.plu_digits : 12] or "0")
    plu = int(plu_text) if plu_text else None
    if rule.kind == "weight":
        return DecodedBarcode(code, rule.kind, rule, plu=plu, weight=Decimal(value).scaleb(-3))
    if rule.kind == "price":
        return DecodedBarcode(code, rule.kind, rule, plu=plu, price=Decimal(value).scaleb(-2))
    if rule.kind == "item":
        return DecodedBarcode(code, rule.kind, rule, plu=plu, number=value)
    return DecodedBarcode(code, rule.kind, rule, plu=plu, identifier=code)


def _rule_of(kind: str, rules: Sequence[BarcodeRule]) -> BarcodeRule:
    for rule in rules:
        if rule.kind == kind:
            return rule
    raise BarcodeError(_("no barcode rule of kind {kind}").format(kind=kind))


def encode(rule: BarcodeRule, value: int, plu: int = 0) -> str:
    """A valid EAN-13 by `rule`: prefix, PLU, value, check digit."""
    if rule.plu_digits == 0:
        if plu:
            raise BarcodeError(_("barcode rule {prefix} carries no PLU").format(prefix=rule.prefix))
    elif not 0 <= plu < 10**rule.plu_digits:
        raise BarcodeError(
            _("PLU {plu} does not fit in {digits} digits").format(plu=plu, digits=rule.plu_digits)
        )
    if not 0 <= value < 10**rule.value_digits:
        raise BarcodeError(
            _("{value} does not fit in {digits} digits").format(
                value=value, digits=rule.value_digits
            )
        )
    plu_text = f"{plu:0{rule.plu_digits}d}" if rule.plu_digits else ""
    return make_ean13(f"{rule.prefix}{plu_text}{value:0{rule.value_digits}d}")


def encode_weight(plu: int, grams: int, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> str:
    """A weighed good's label: PLU and weight in grams."""
    return encode(_rule_of("weight", rules), grams, plu)


def encode_price(plu: int, kopecks: int, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> str:
    """A label with the price printed in: PLU and price in kopecks."""
    return encode(_rule_of("price", rules), kopecks, plu)


def encode_item(number: int, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> str:
    """An in-store code IIS issues for a piece good without a maker's barcode."""
    return encode(_rule_of("item", rules), number)


def encode_identifier(number: int, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> str:
    """An electronic identifier: loyalty card, key fob, gift card."""
    return encode(_rule_of("identifier", rules), number)


def render_svg(code: str) -> bytes:
    """An SVG label of an EAN-13 code, drawn by python-barcode.

    The check digit is verified first: printing a label that no till can read
    is worse than refusing it.
    """
    if len(code) != 13 or not code.isdigit():
        raise BarcodeError(_("{code} is not a 13-digit EAN-13 code").format(code=code))
    _check(code)
    # Imported here: python-barcode logs about optional image support on import,
    # which would land on the stderr of every command that only decodes codes.
    from barcode import EAN13
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    EAN13(code, writer=SVGWriter()).write(out)
    return out.getvalue()
