"""`iis catalog import` and `iis catalog list`: the goods from and to spreadsheets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from peewee import JOIN

from console.cli import CommandError, add_format_option
from console.output import render
from models.catalog import Barcode, Price, Product, ProductGroup
from models.i18n import _
from models.imports import GroupTree, ImportFileError, ImportResult, import_catalog, split_path
from models.money import money
from models.org import Store, find_store

CATALOG_KEYS = ("code", "name", "group", "unit", "price", "vat", "barcodes", "weighed", "excise")


def import_help() -> str:
    """The long help of `catalog import`, translated when the parser is built."""
    return _(
        "Load goods from a CSV saved by Excel or LibreOffice (`,` or `;`, UTF-8 or "
        "Windows-1251). Columns: code, name, group (a path such as Food/Dairy/Milk), unit, "
        "price, vat, barcodes (space-separated); optional: weighed, excise, age_limit, plu, "
        "expiry_control, manufacturer. A known code updates the product, its barcodes and its "
        "price in the store. Bad rows are refused one by one and listed on stderr as "
        '"line L: reason"; the good rows still load. The exit code is 0 whenever the file '
        "was read, even with refused rows (the summary line says how many), and 2 when the "
        "file could not be read at all."
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalog", help=_("goods: import from a spreadsheet, list"))
    s = p.add_subparsers(dest="catalog_command", required=True)
    q = s.add_parser(
        "import",
        help=_("load goods from a CSV file"),
        description=import_help(),
    )
    q.add_argument("file", help=_("the CSV file"))
    q.add_argument("--store", help=_("the store whose prices to set (default: the default store)"))
    q.set_defaults(handler=cmd_catalog_import)
    q = s.add_parser("list", help=_("list the goods"))
    q.add_argument("--group", help=_("a group path such as Food/Dairy (or a group code)"))
    q.add_argument("--search", default="", help=_("code, part of the name, or a barcode"))
    q.add_argument("--store", help=_("the store whose prices to show (default: the default store)"))
    add_format_option(q)
    q.set_defaults(handler=cmd_catalog_list)


def report_import(result: ImportResult) -> int:
    """Print the summary on stdout and each refused row on stderr; exit code 0."""
    print(
        _("created {created}, updated {updated}, unchanged {unchanged}, refused {refused}").format(
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            refused=result.refused,
        )
    )
    for line, reason in result.problems:
        print(_("line {line}: {reason}").format(line=line, reason=reason), file=sys.stderr)
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    store = find_store(args.store)
    try:
        result = import_catalog(args.file, store)
    except ImportFileError as error:
        raise CommandError(str(error)) from None
    return report_import(result)


def find_group_id(tree: GroupTree, text: str) -> int:
    """The id of the group named by a path ("Food/Dairy") or a code ("G12")."""
    found = tree.find(split_path(text))
    if found is None:
        found = next((n.id for n in tree.nodes.values() if n.code == text), None)
    if found is None:
        raise CommandError(_("no group {path}").format(path=text))
    return found


def catalog_rows(store: Store, group: str | None = None, search: str = "") -> Iterator[dict]:
    """The goods (not deleted) as listing rows, in code order, with the store's price.

    A fixed number of queries whatever the size of the catalogue: goods with
    their price, all barcodes, all groups. The name search is case-insensitive
    in Python, because SQLite's LIKE folds the case of Latin letters only.
    """
    tree = GroupTree(ProductGroup)
    paths = tree.full_paths()
    query = (
        Product.select(Product, Price.price)
        .join(
            Price,
            JOIN.LEFT_OUTER,
            on=(Price.product == Product.id) & (Price.store == store.id),
        )
        .where(~Product.deleted)
        .order_by(Product.code)
    )
    if group:
        node = tree.nodes[find_group_id(tree, group)]
        query = query.where(Product.group.in_(ProductGroup.subtree_ids(node)))
    barcodes: dict[int, list[str]] = {}
    for code, product_id in (
        Barcode.select(Barcode.code, Barcode.product).order_by(Barcode.id).tuples()
    ):
        barcodes.setdefault(product_id, []).append(code)
    needle = search.strip().casefold()
    for product in query.objects():
        codes = barcodes.get(product.id, [])
        if needle and not (
            needle in product.name.casefold()
            or needle == product.code.casefold()
            or search.strip() in codes
        ):
            continue
        row: dict[str, Any] = {
            "code": product.code,
            "name": product.name,
            "group": paths.get(product.group_id, ""),
            "unit": product.unit,
            "price": money(product.price),
            "vat": product.vat,
            "barcodes": " ".join(codes),
            "weighed": product.weighed,
            "excise": product.excise,
        }
        yield row


def cmd_catalog_list(args: argparse.Namespace) -> int:
    store = find_store(args.store)
    print(render(catalog_rows(store, args.group, args.search), CATALOG_KEYS, args.format))
    return 0
