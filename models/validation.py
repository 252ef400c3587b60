"""Checks of a Russian counterparty's requisites: INN, KPP, BIK, settlement account.

Each check returns None when the value is acceptable, else one sentence the
operator can act on. The check digits catch the usual typo (one wrong or two
swapped digits) before a payment order bounces at the bank: a supplier card
with a bad INN or account is worse than one with none.
"""

from __future__ import annotations

import re

from models.i18n import _

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3)
_KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _digits(text: str, *lengths: int) -> bool:
    """Only the ASCII digits 0-9 (`isdigit` alone lets "²" through), of one of `lengths`."""
    return len(text) in lengths and text.isascii() and text.isdigit()


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    """The INN control number: the weighted sum modulo 11, then modulo 10."""
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn_problem(inn: str) -> str | None:
    """Why `inn` is not a valid INN: 10 digits for a company, 12 for a person."""
    if not _digits(inn, 10, 12):
        return _("INN {inn} must be 10 digits (a company) or 12 digits (a person)").format(inn=inn)
    if len(inn) == 10:
        valid = _check_digit(inn[:9], _INN10_WEIGHTS) == int(inn[9])
    else:
        valid = _check_digit(inn[:10], _INN12_WEIGHTS_11) == int(inn[10]) and _check_digit(
            inn[:11], _INN12_WEIGHTS_12
        ) == int(inn[11])
    if not valid:
        return _("INN {inn} has a wrong check digit").format(inn=inn)
    return None


def kpp_problem(kpp: str) -> str | None:
    """Why `kpp` is not a valid KPP: 4 digits, 2 digits or capital letters, 3 digits."""
    if not _KPP.fullmatch(kpp):
        return _(
            "KPP {kpp} must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits"
        ).format(kpp=kpp)
    return None


def bik_problem(bik: str) -> str | None:
    """Why `bik` is not a valid bank identification code (9 digits starting 04)."""
    if not (_digits(bik, 9) and bik.startswith("04")):
        return _("BIK {bik} must be 9 digits starting with 04").format(bik=bik)
    return None


def account_problem(account: str, bik: str) -> str | None:
    """Why `account` is not a settlement account at the bank `bik`.

    The control key of an account is checked together with the bank: the last
    three digits of the BIK followed by the 20 account digits, weighted 7, 1, 3
    repeating, must sum to a multiple of 10. An account copied from another
    bank's card therefore fails too.
    """
    if not _digits(account, 20):
        return _("account {account} must be 20 digits").format(account=account)
    if bik_problem(bik):
        return _("account {account} cannot be checked without a valid BIK").format(account=account)
    digits = bik[-3:] + account
    total = sum(int(d) * _ACCOUNT_WEIGHTS[i % 3] for i, d in enumerate(digits))
    if total % 10:
        return _("account {account} does not match BIK {bik} (wrong control key)").format(
            account=account, bik=bik
        )
    return None


def email_problem(email: str) -> str | None:
    """Why `email` cannot be an e-mail address (a light check: name@domain.tld)."""
    if not _EMAIL.fullmatch(email):
        return _("e-mail {email} is not an address like name@example.ru").format(email=email)
    return None


def party_problems(
    inn: str = "", kpp: str = "", bik: str = "", account: str = "", email: str = ""
) -> list[str]:
    """Every problem of a counterparty card's requisites; empty fields are not checked.

    Besides each field on its own: a KPP belongs to a company (10-digit INN) only,
    and an account means nothing without the BIK of the bank that holds it.
    """
    problems: list[str] = []
    inn_reason = inn_problem(inn) if inn else None
    if inn_reason:
        problems.append(inn_reason)
    if kpp:
        kpp_reason = kpp_problem(kpp)
        if kpp_reason:
            problems.append(kpp_reason)
        elif inn and not inn_reason and len(inn) == 12:
            problems.append(
                _("a KPP is given but INN {inn} is a person's, who has no KPP").format(inn=inn)
            )
    bik_reason = bik_problem(bik) if bik else None
    if bik_reason:
        problems.append(bik_reason)
    if account:
        if not bik:
            problems.append(
                _("account {account} is given without the bank's BIK").format(account=account)
            )
        elif not bik_reason:
            account_reason = account_problem(account, bik)
            if account_reason:
                problems.append(account_reason)
    if email:
        email_reason = email_problem(email)
        if email_reason:
            problems.append(email_reason)
    return problems
