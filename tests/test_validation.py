"""Counterparty requisites: the check-digit rules the bank and the tax office apply."""

from __future__ import annotations

import pytest

from models.validation import (
    account_problem,
    bik_problem,
    email_problem,
    inn_problem,
    kpp_problem,
    party_problems,
)

SBERBANK_INN = "7707083893"
PERSON_INN = "500100732259"
SBERBANK_BIK = "044525225"
ACCOUNT_AT_SBERBANK = "40702810938000000001"


@pytest.mark.parametrize("inn", [SBERBANK_INN, PERSON_INN, "7736207543", "7710140679"])
def test_real_inns_pass(inn):
    assert inn_problem(inn) is None


@pytest.mark.parametrize("inn", [SBERBANK_INN, PERSON_INN])
def test_any_other_last_digit_fails(inn):
    for digit in "0123456789":
        if digit != inn[-1]:
            assert "check digit" in inn_problem(inn[:-1] + digit)


def test_twelve_digit_inn_checks_both_control_digits():
    eleventh_wrong = PERSON_INN[:10] + str((int(PERSON_INN[10]) + 1) % 10) + PERSON_INN[11]
    assert "check digit" in inn_problem(eleventh_wrong)


@pytest.mark.parametrize(
    "inn", ["", "770708389", "77070838930", "770708389X", "7707 083893", "770708389²"]
)
def test_inn_of_wrong_shape(inn):
    assert "10 digits" in inn_problem(inn)


@pytest.mark.parametrize("kpp", ["773601001", "7736AB001", "77360Z001"])
def test_good_kpp(kpp):
    assert kpp_problem(kpp) is None


@pytest.mark.parametrize("kpp", ["7736ab001", "77360100", "7736010010", "77A601001", "773601A01"])
def test_bad_kpp(kpp):
    assert "9 characters" in kpp_problem(kpp)


def test_bik():
    assert bik_problem(SBERBANK_BIK) is None
    assert bik_problem("054525225") is not None
    assert bik_problem("04452522") is not None
    assert bik_problem("04452522X") is not None


def test_account_against_its_bank():
    assert account_problem(ACCOUNT_AT_SBERBANK, SBERBANK_BIK) is None
    assert "does not match BIK" in account_problem(ACCOUNT_AT_SBERBANK, "044525593")


def test_every_single_digit_typo_in_an_account_is_caught():
    """Weights 7, 1 and 3 are all prime to 10, so one wrong digit always shows."""
    for i, digit in enumerate(ACCOUNT_AT_SBERBANK):
        for other in "0123456789":
            if other != digit:
                typo = ACCOUNT_AT_SBERBANK[:i] + other + ACCOUNT_AT_SBERBANK[i + 1 :]
                assert account_problem(typo, SBERBANK_BIK) is not None, typo


def test_account_shape():
    assert "20 digits" in account_problem("4070281093800000000", SBERBANK_BIK)
    assert "without a valid BIK" in account_problem(ACCOUNT_AT_SBERBANK, "123")


def test_email():
    assert email_problem("buh@shop.ru") is None
    assert email_problem("buh@shop") is not None
    assert email_problem("buh shop.ru") is not None


def test_party_problems_combines_the_fields():
    assert party_problems() == []
    assert party_problems(SBERBANK_INN, "773601001", SBERBANK_BIK, ACCOUNT_AT_SBERBANK) == []
    (kpp_of_person,) = party_problems(PERSON_INN, "773601001")
    assert "person" in kpp_of_person
    (no_bik,) = party_problems(account=ACCOUNT_AT_SBERBANK)
    assert "without the bank's BIK" in no_bik
    assert len(party_problems("123", "x", "1", ACCOUNT_AT_SBERBANK, "e")) == 4


def test_texts_go_through_gettext(monkeypatch):
    """The reasons are operator texts: a translation replaces them whole."""
    import models.validation as validation

    monkeypatch.setattr(validation, "_", lambda text: "ru: " + text)
    assert inn_problem("1") == "ru: INN 1 must be 10 digits (a company) or 12 digits (a person)"
