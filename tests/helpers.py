"""Checks and steps that several test modules share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.catalog import Product
from models.check import check_books
from models.errors import BooksError
from models.ledger import Balance
from models.org import Store
from models.posting import cancel_document
from tests import factories as f


def stock(store: Store, product: Product) -> tuple[int, int]:
    """The goods' balance in the store: (thousandths, kopecks of cost)."""
    rows = Balance.select().where((Balance.store == store) & (Balance.product == product))
    return sum(r.qty for r in rows), sum(r.cost for r in rows)


def play_posts_and_cancels(
    steps: Iterable[tuple[str, Any, Any]], allow_negative: bool, reason: str
) -> None:
    """Post and cancel documents as `steps` say, checking the books after every step.

    Each step is ("post", kind, [(goods index, qty, price), ...]) or ("cancel", n, None).
    A step the books refuse (negative stock, already cancelled) changes nothing.
    """
    s1 = f.store("S01", allow_negative=allow_negative)
    s2 = f.store("S02")
    goods = [f.product(f"P{i}", weighed=i == 2, at=s1) for i in range(3)]
    posted: list[int] = []
    for action, what, lines in steps:
        try:
            if action == "post":
                rows = []
                for index, qty, price in lines:
                    qty = qty if goods[index].weighed else max(1, qty // 1000) * 1000
                    rows.append((goods[index], str(qty / 1000), f"{price / 100:.2f}"))
                extra = {"to_store_id": s2.id} if what == "transfer" else {}
                posted.append(f.doc(what, s1, rows, post=True, reason=reason, **extra).id)
            elif posted:
                cancel_document(posted[what % len(posted)], "M01", "property test")
        except BooksError:
            pass
        assert check_books() == []
