"""`iis supplier ...` and `iis customer ...`: counterparties from and to spreadsheets."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any

from console.cli import CommandError, add_format_option
from console.commands.catalog import find_group_id, report_import
from console.output import render
from models.i18n import _
from models.imports import (
    GroupTree,
    ImportFileError,
    ImportResult,
    Source,
    import_customers,
    import_suppliers,
)
from models.parties import Bank, Customer, Party, PartyGroup, Supplier

PARTY_KEYS = (
    "code",
    "name",
    "group",
    "inn",
    "kpp",
    "bank_bik",
    "account",
    "phone",
    "email",
    "address",
)

_KINDS: dict[str, tuple[type[Party], Callable[[Source], ImportResult]]] = {
    "supplier": (Supplier, import_suppliers),
    "customer": (Customer, import_customers),
}


def import_help() -> str:
    """The long help of `supplier import` and `customer import`."""
    return _(
        "Load counterparties from a CSV saved by Excel or LibreOffice (`,` or `;`). "
        "Columns: code, name, group (a path such as Wholesale/Moscow), inn, kpp, bank_bik, "
        "account, phone, email, address. INN, KPP, BIK and the account (against the BIK) "
        "are checked; a row that fails is refused and listed on stderr as "
        '"line L: reason" while the good rows still load. The exit code is 0 whenever the '
        "file was read, even with refused rows, and 2 when it could not be read at all."
    )


def register(sub: argparse._SubParsersAction) -> None:
    helps = {
        "supplier": (_("suppliers: import from a spreadsheet, list"), _("list the suppliers")),
        "customer": (_("customers: import from a spreadsheet, list"), _("list the customers")),
    }
    for kind, (area_help, list_help) in helps.items():
        p = sub.add_parser(kind, help=area_help)
        s = p.add_subparsers(dest=f"{kind}_command", required=True)
        q = s.add_parser("import", help=_("load from a CSV file"), description=import_help())
        q.add_argument("file", help=_("the CSV file"))
        q.set_defaults(handler=cmd_party_import, kind=kind)
        q = s.add_parser("list", help=list_help)
        q.add_argument("--group", help=_("a group path such as Wholesale/Moscow (or a group code)"))
        q.add_argument("--search", default="", help=_("code, part of the name, or the INN"))
        add_format_option(q)
        q.set_defaults(handler=cmd_party_list, kind=kind)


def cmd_party_import(args: argparse.Namespace) -> int:
    _model, load = _KINDS[args.kind]
    try:
        result = load(args.file)
    except ImportFileError as error:
        raise CommandError(str(error)) from None
    return report_import(result)


def party_rows(kind: str, group: str | None = None, search: str = "") -> Iterator[dict]:
    """Suppliers or customers as listing rows, in code order: three queries in all."""
    model, _load = _KINDS[kind]
    tree = GroupTree(PartyGroup, kind)
    paths = tree.full_paths()
    biks = dict(Bank.select(Bank.id, Bank.bik).tuples())
    query = model.select().order_by(model.code)
    if group:
        node = tree.nodes[find_group_id(tree, group)]
        query = query.where(model.group.in_(PartyGroup.subtree_ids(node)))
    needle = search.strip().casefold()
    for party in query:
        if needle and not (
            needle in party.name.casefold()
            or needle == party.code.casefold()
            or needle == party.inn
        ):
            continue
        row: dict[str, Any] = {
            "code": party.code,
            "name": party.name,
            "group": paths.get(party.group_id, ""),
            "inn": party.inn,
            "kpp": party.kpp,
            "bank_bik": biks.get(party.bank_id, ""),
            "account": party.account,
            "phone": party.phone,
            "email": party.email,
            "address": party.address,
        }
        yield row


def cmd_party_list(args: argparse.Namespace) -> int:
    print(render(party_rows(args.kind, args.group, args.search), PARTY_KEYS, args.format))
    return 0
