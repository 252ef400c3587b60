"""In-store barcode rules: the contract's examples, building codes, and refusing bad ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.barcode_rules import (
    DEFAULT_RULES,
    BarcodeError,
    BarcodeRule,
    decode,
    encode_identifier,
    encode_item,
    encode_price,
    encode_weight,
    find_rule,
    render_svg,
)
from exchange.shopv2 import parse_file
from models.ean import is_valid_ean13

SAMPLES = Path(__file__).parent / "data" / "samples"


def test_contract_weight_example() -> None:
    decoded = decode("2200005007341")
    assert decoded is not None
    assert decoded.kind == "weight"
    assert decoded.plu == 5
    assert decoded.weight == Decimal("0.734")
    assert decoded.price is None


def test_contract_price_example() -> None:
    decoded = decode("2300005285531")
    assert decoded is not None
    assert decoded.kind == "price"
    assert decoded.plu == 5
    assert decoded.price == Decimal("285.53")


def test_identifier_and_item() -> None:
    card = decode("2770000012348")
    assert card is not None
    assert card.kind == "identifier"
    assert card.identifier == "2770000012348"
    item = decode(encode_item(42))
    assert item is not None
    assert (item.kind, item.number, item.plu) == ("item", 42, None)


def test_wrong_check_digit_is_an_error_not_none() -> None:
    with pytest.raises(BarcodeError, match="2200005007342 has a wrong check digit"):
        decode("2200005007342")
    with pytest.raises(BarcodeError, match=r"expected 3"):
        decode("4601234567890")


def test_codes_that_are_not_in_store() -> None:
    assert decode("4601234567893") is None
    assert decode("46012344") is None
    assert decode("ABC-123") is None
    assert decode("") is None


def test_longest_prefix_wins() -> None:
    rules = (*DEFAULT_RULES, BarcodeRule("27", "price", 5, 5))
    assert find_rule("2770000012348", rules).prefix == "277"
    assert find_rule("2710000000000", rules).prefix == "27"
    assert decode("2770000012348", rules).kind == "identifier"


def test_default_rules_are_the_ones_the_catalog_sample_sends() -> None:
    parsed = parse_file((SAMPLES / "catalog_00000042.jsonl").read_bytes())
    sent = tuple(
        BarcodeRule(r.data["prefix"], r.data["kind"], r.data["plu_digits"], r.data["value_digits"])
        for r in parsed.records
        if r.type == "barcode_rule"
    )
    assert sent == DEFAULT_RULES


def test_encode_examples() -> None:
    assert encode_weight(5, 734) == "2200005007341"
    assert encode_price(5, 28553) == "2300005285531"
    assert encode_identifier(1234) == "2770000012348"
    assert is_valid_ean13(encode_item(9_999_999_999))


@pytest.mark.parametrize(
    "build",
    [
        lambda: encode_weight(100_000, 1),
        lambda: encode_weight(5, 100_000),
        lambda: encode_price(-1, 5),
        lambda: encode_item(10_000_000_000),
        lambda: encode_weight(5, 100, rules=(BarcodeRule("21", "item", 0, 10),)),
    ],
)
def test_encode_refuses_what_does_not_fit(build) -> None:
    with pytest.raises(BarcodeError):
        build()


@pytest.mark.parametrize(
    ("prefix", "kind", "plu", "value"),
    [
        ("22", "weight", 5, 4),
        ("12", "weight", 5, 5),
        ("22", "volume", 5, 5),
        ("2x", "item", 0, 10),
    ],
)
def test_bad_rules_are_refused(prefix: str, kind: str, plu: int, value: int) -> None:
    with pytest.raises(BarcodeError):
        BarcodeRule(prefix, kind, plu, value)


@given(st.integers(0, 99_999), st.integers(0, 99_999))
def test_weight_and_price_round_trip(plu: int, value: int) -> None:
    weighed = decode(encode_weight(plu, value))
    assert (weighed.plu, weighed.weight) == (plu, Decimal(value) / 1000)
    priced = decode(encode_price(plu, value))
    assert (priced.plu, priced.price) == (plu, Decimal(value) / 100)


@given(st.integers(0, 9_999_999_999), st.integers(0, 11), st.integers(1, 9))
def test_any_single_digit_error_is_caught(number: int, where: int, delta: int) -> None:
    code = encode_item(number)
    digit = (int(code[where]) + delta) % 10
    damaged = code[:where] + str(digit) + code[where + 1 :]
    with pytest.raises(BarcodeError):
        decode(damaged)


def test_render_svg() -> None:
    svg = render_svg("2200005007341")
    assert svg.lstrip().startswith(b"<?xml")
    assert b"<svg" in svg
    assert b"<rect" in svg
    with pytest.raises(BarcodeError):
        render_svg("2200005007342")
    with pytest.raises(BarcodeError):
        render_svg("22000")
