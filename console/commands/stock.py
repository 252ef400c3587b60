"""`iis stock`: balances per goods or per batch, for people and scripts."""

from __future__ import annotations

import argparse

from console.cli import CommandError, add_format_option
from console.output import render
from models.catalog import ProductGroup
from models.i18n import _
from models.org import find_store
from models.stock import StockFilter, batch_rows, count_stock, stock_page

STOCK_KEYS = ("store", "product", "name", "unit", "quantity", "cost", "value", "price")
BATCH_KEYS = (*STOCK_KEYS, "batch", "expiry")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stock", help=_("stock balances"))
    p.add_argument("--store", help=_("store code (default: the default store)"))
    p.add_argument("--group", help=_("a group path such as Food/Dairy: that subtree only"))
    p.add_argument("--search", default="", help=_("code, part of the name, or a barcode"))
    p.add_argument("--batches", action="store_true", help=_("one row per batch, with expiry"))
    p.add_argument("--all", action="store_true", help=_("include goods with no stock"))
    add_format_option(p)
    p.set_defaults(handler=cmd_stock)


def find_group(path: str | None) -> ProductGroup | None:
    """A group by its path of names ("Food/Dairy") or by its code."""
    if not path:
        return None
    group = ProductGroup.get_or_none(ProductGroup.code == path)
    if group is not None:
        return group
    parent = None
    for name in [part.strip() for part in path.split("/") if part.strip()]:
        group = ProductGroup.get_or_none(
            (ProductGroup.name == name)
            & (ProductGroup.parent.is_null() if parent is None else ProductGroup.parent == parent)
        )
        if group is None:
            raise CommandError(_("no group {path}").format(path=path))
        parent = group
    return group


def cmd_stock(args: argparse.Namespace) -> int:
    store = find_store(args.store)
    flt = StockFilter(store, find_group(args.group), args.search, only_stocked=not args.all)
    if args.batches:
        ids = None
        if args.group or args.search:
            ids = [row["product_id"] for row in stock_page(flt, 0, count_stock(flt))]
        rows = list(batch_rows(store, ids))
        print(render(rows, BATCH_KEYS, args.format))
    else:
        rows = []
        offset = 0
        while True:
            page = stock_page(flt, offset, 1000)
            rows.extend(page)
            if len(page) < 1000:
                break
            offset += 1000
        print(render(rows, STOCK_KEYS, args.format))
    return 0
