"""The checking pass: prove the ledger's invariants and name what is wrong.

Like Beancount's checks, this reads only what is stored and derives everything
again: balances from moves, posted documents from their moves, cancellations
from their reversals. `iis check` prints the problems and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN, fn

from models.documents import CANCELLED, POSTED, STOCK_KINDS, Document, DocumentLine
from models.i18n import _
from models.ledger import Balance, Batch, StockMove


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


def check_books() -> list[Problem]:
    """Every broken invariant, each named; an empty list means the books are sound."""
    return [
        *_balances_match_moves(),
        *_posted_have_moves(),
        *_cancelled_are_reversed(),
        *_moves_only_from_posted_documents(),
        *_moves_match_their_batches(),
    ]


def _moves_only_from_posted_documents() -> list[Problem]:
    """A draft, rejected document or customer order never moves stock."""
    query = (
        StockMove.select(Document.id, Document.number, Document.state, fn.COUNT(StockMove.id))
        .join(Document)
        .where(Document.state.not_in([POSTED, CANCELLED]) | ~Document.kind.in_(sorted(STOCK_KINDS)))
        .group_by(Document.id, Document.number, Document.state)
        .tuples()
    )
    return [
        Problem(
            "stray",
            _("document {number} (id {id}) is {state} but has {count} stock moves").format(
                number=number, id=doc_id, state=_(state), count=count
            ),
        )
        for doc_id, number, state, count in query
    ]


def _moves_match_their_batches() -> list[Problem]:
    """Every move and balance row names the same goods as its batch."""
    problems = []
    for model, code in ((StockMove, "move"), (Balance, "balance")):
        query = (
            model.select(model.id, model.product_id, Batch.id, Batch.product_id)
            .join(Batch, on=(model.batch == Batch.id))
            .where(model.product != Batch.product)
            .tuples()
        )
        problems.extend(
            Problem(
                code,
                _(
                    "{table} row {id} names goods {product} but its batch {batch} holds goods "
                    "{batch_product}"
                ).format(
                    table=model._meta.table_name,
                    id=row_id,
                    product=product,
                    batch=batch_id,
                    batch_product=batch_product,
                ),
            )
            for row_id, product, batch_id, batch_product in query
        )
    return problems


def _balances_match_moves() -> list[Problem]:
    sums = (
        StockMove.select(
            StockMove.store_id.alias("store_id"),
            StockMove.batch_id.alias("batch_id"),
            fn.MIN(StockMove.product_id).alias("product_id"),
            fn.SUM(StockMove.qty).alias("qty"),
            fn.SUM(StockMove.cost).alias("cost"),
        )
        .group_by(StockMove.store_id, StockMove.batch_id)
        .tuples()
    )
    from_moves = {(s, b): (p, q or 0, c or 0) for s, b, p, q, c in sums}
    problems = []
    balances = Balance.select(
        Balance.store_id, Balance.batch_id, Balance.product_id, Balance.qty, Balance.cost
    ).tuples()
    seen = set()
    for store_id, batch_id, product_id, qty, cost in balances:
        seen.add((store_id, batch_id))
        moved = from_moves.get((store_id, batch_id), (product_id, 0, 0))
        if (product_id, qty, cost) != moved:
            problems.append(
                Problem(
                    "balance",
                    _(
                        "store {store} batch {batch}: balance qty {qty} cost {cost}, moves say "
                        "qty {mqty} cost {mcost} (goods {product})"
                    ).format(
                        store=store_id,
                        batch=batch_id,
                        qty=qty,
                        cost=cost,
                        mqty=moved[1],
                        mcost=moved[2],
                        product=product_id,
                    ),
                )
            )
    for (store_id, batch_id), (_product_id, qty, cost) in from_moves.items():
        if (store_id, batch_id) not in seen and (qty or cost):
            problems.append(
                Problem(
                    "balance",
                    _(
                        "store {store} batch {batch}: moves sum to qty {qty} cost {cost} but there "
                        "is no balance row"
                    ).format(store=store_id, batch=batch_id, qty=qty, cost=cost),
                )
            )
    return problems


def _posted_have_moves() -> list[Problem]:
    """A posted stock document with matched, non-zero lines must have moves."""
    has_lines = DocumentLine.select(DocumentLine.document_id).where(
        DocumentLine.product_id.is_null(False) & (DocumentLine.qty != 0)
    )
    query = (
        Document.select(Document.id, Document.number, Document.kind)
        .join(StockMove, JOIN.LEFT_OUTER, on=(StockMove.document == Document.id))
        .where(
            Document.state.in_([POSTED, CANCELLED])
            & Document.kind.in_(sorted(STOCK_KINDS))
            & Document.id.in_(has_lines)
            & StockMove.id.is_null()
        )
        .tuples()
    )
    problems = []
    for doc_id, number, kind in query:
        if kind == "inventory":
            continue  # a count that matched the book moves nothing
        problems.append(
            Problem(
                "unposted",
                _("document {number} (id {id}) is posted but has no stock moves").format(
                    number=number, id=doc_id
                ),
            )
        )
    return problems


def _cancelled_are_reversed() -> list[Problem]:
    """A cancelled document's moves sum to zero per batch; a posted one's are not all zero."""
    query = (
        StockMove.select(
            StockMove.document_id,
            Document.number,
            StockMove.store_id,
            StockMove.batch_id,
            fn.SUM(StockMove.qty),
            fn.SUM(StockMove.cost),
        )
        .join(Document)
        .where(Document.state == CANCELLED)
        .group_by(StockMove.document_id, Document.number, StockMove.store_id, StockMove.batch_id)
        .having((fn.SUM(StockMove.qty) != 0) | (fn.SUM(StockMove.cost) != 0))
        .tuples()
    )
    return [
        Problem(
            "cancel",
            _(
                "document {number} (id {id}) is cancelled but batch {batch} in store {store} "
                "keeps qty {qty} cost {cost}"
            ).format(number=number, id=doc_id, batch=batch_id, store=store_id, qty=qty, cost=cost),
        )
        for doc_id, number, store_id, batch_id, qty, cost in query
    ]
