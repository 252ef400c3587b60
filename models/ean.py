"""EAN-13 check digits and the store's own (in-store) barcode ranges."""

from __future__ import annotations

from models.i18n import _


def ean_check_digit(first12: str) -> int:
    """The EAN-13 check digit of the first twelve digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean_check_digit(code[:12]) == int(code[12])


def is_valid_ean8(code: str) -> bool:
    if len(code) != 8 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(code[:7]))
    return (10 - total % 10) % 10 == int(code[7])


def barcode_problem(code: str) -> str | None:
    """Why `code` is not an acceptable goods barcode, or None when it is.

    EAN-13 and EAN-8 must carry a right check digit; other symbologies (codes
    of other lengths or with letters, e.g. Code 128) are accepted as they are.
    """
    if not code:
        return _("empty barcode")
    if code.isdigit() and len(code) == 13 and not is_valid_ean13(code):
        return _("EAN-13 {code} has a wrong check digit (expected {digit})").format(
            code=code, digit=ean_check_digit(code[:12])
        )
    if code.isdigit() and len(code) == 8 and not is_valid_ean8(code):
        return _("EAN-8 {code} has a wrong check digit").format(code=code)
    return None


def make_ean13(first12: str) -> str:
    return first12 + str(ean_check_digit(first12))

