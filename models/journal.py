"""The documents journal and a document's full picture, as the CLI and console read them."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN

from models.catalog import Product
from models.documents import Document, DocumentLine
from models.errors import NotFoundError
from models.i18n import _
from models.ledger import Balance
from models.money import money, quantity
from models.org import Store
from models.parties import Supplier


@dataclass(frozen=True)
class JournalFilter:
    kind: str | None = None
    state: str | None = None
    store: Store | None = None
    till: str | None = None
    search: str = ""


def _journal_query(flt: JournalFilter):
    query = (
        Document.select(
            Document.id,
            Document.kind,
            Document.state,
            Document.number,
            Document.date,
            Store.code,
            Document.author,
            Document.external_id,
            Document.total,
            Document.till,
            Document.unmatched,
            Document.supplier_code,
            Supplier.code,
        )
        .join(Store, on=(Document.store == Store.id))
        .switch(Document)
        .join(Supplier, JOIN.LEFT_OUTER, on=(Document.supplier == Supplier.id))
    )
    if flt.kind:
        query = query.where(Document.kind == flt.kind)
    if flt.state:
        query = query.where(Document.state == flt.state)
    if flt.store is not None:
        query = query.where(Document.store == flt.store)
    if flt.till:
        query = query.where(Document.till == flt.till)
    if flt.search:
        text = flt.search.strip()
        query = query.where(
            (Document.number.contains(text))
            | (Document.external_id.contains(text))
            | (Document.invoice.contains(text))
        )
    return query


def count_documents(flt: JournalFilter) -> int:
    return _journal_query(flt).count()


def document_rows(flt: JournalFilter, offset: int = 0, limit: int = 100, oldest_first=False):
    """Journal rows: id, kind, state, number, date, store, author, external_id, total, ..."""
    order = (
        (Document.date.asc(), Document.id.asc())
        if oldest_first
        else (Document.date.desc(), Document.id.desc())
    )
    query = _journal_query(flt).order_by(*order).offset(offset).limit(limit).tuples()
    return [
        {
            "id": doc_id,
            "kind": kind,
            "state": state,
            "number": number,
            "date": date,
            "store": store,
            "author": author,
            "external_id": external_id,
            "total": money(total),
            "till": till,
            "unmatched": unmatched,
            "supplier": supplier or supplier_code,
        }
        for (
            doc_id,
            kind,
            state,
            number,
            date,
            store,
            author,
            external_id,
            total,
            till,
            unmatched,
            supplier_code,
            supplier,
        ) in query
    ]


def find_document(ref: str | int) -> Document:
    """A document by id ("42"), number ("IN-000042") or a till's own id ("T01-D-17")."""
    text = str(ref).strip()
    doc = None
    if text.isdigit():
        doc = Document.get_or_none(Document.id == int(text))
    doc = doc or Document.get_or_none(Document.number == text)
    doc = doc or Document.get_or_none(Document.external_id == text)
    if doc is None:
        raise NotFoundError(_("no document {ref}").format(ref=text))
    return doc


def document_lines(doc: Document) -> list[dict]:
    """Lines with their goods; for a draft count also the book quantity now."""
    rows = list(
        DocumentLine.select(DocumentLine, Product.code, Product.name, Product.unit)
        .join(Product, JOIN.LEFT_OUTER)
        .where(DocumentLine.document == doc)
        .order_by(DocumentLine.n, DocumentLine.id)
        .objects()
    )
    book_now: dict[int, int] = {}
    if doc.kind == "inventory" and doc.state == "draft":
        ids = [r.product_id for r in rows if r.product_id]
        for pid, qty in (
            Balance.select(Balance.product_id, Balance.qty)
            .where((Balance.store == doc.store_id) & Balance.product_id.in_(ids))
            .tuples()
        ):
            book_now[pid] = book_now.get(pid, 0) + qty
    out = []
    for r in rows:
        book = r.book_qty if r.book_qty is not None else book_now.get(r.product_id)
        if doc.kind == "inventory" and r.product_id and book is None:
            book = 0
        out.append(
            {
                "line_id": r.id,
                "n": r.n,
                "product_id": r.product_id,
                "product": r.code if r.product_id else (r.product_code or r.barcode),
                "name": r.name if r.product_id else "",
                "unit": r.unit if r.product_id else "",
                "barcode": r.barcode,
                "quantity": quantity(r.qty),
                "price": money(r.price),
                "discount": money(r.discount),
                "sum": money(r.sum),
                "cost": money(r.cost),
                "book": quantity(book),
                "difference": quantity(r.qty - book) if book is not None else None,
                "expiry": r.expiry,
                "certificate": r.certificate,
                "mark": r.mark,
                "unmatched": r.product_id is None,
            }
        )
    return out
