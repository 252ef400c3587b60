"""Small builders for the books in tests: a store, goods, documents in a line each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from models.catalog import Barcode, Price, Product, ProductGroup
from models.documents import Document
from models.money import kopecks, milli
from models.org import DEFAULT_STORE_KEY, Employee, Setting, Store
from models.parties import Supplier
from models.posting import DocumentInput, LineInput, create_documents


def store(code: str = "S01", allow_negative: bool = False) -> Store:
    row = Store.create(code=code, name=f"Store {code}", allow_negative=allow_negative)
    if Setting.get_value(DEFAULT_STORE_KEY) is None:
        Setting.set_value(DEFAULT_STORE_KEY, code)
    return row


def group(code: str = "G1", name: str = "Food", parent: ProductGroup | None = None):
    return ProductGroup.create_node(code, name, parent)


def product(
    code: str,
    name: str | None = None,
    *,
    weighed: bool = False,
    price: str = "10.00",
    at: Store | None = None,
    barcode: str | None = None,
    grp=None,
    plu=None,
) -> Product:
    row = Product.create(
        code=code,
        name=name or f"Goods {code}",
        weighed=weighed,
        unit="kg" if weighed else "pcs",
        group=grp,
        plu=plu,
    )
    if at is not None:
        Price.create(store=at, product=row, price=kopecks(price))
    if barcode:
        Barcode.create(code=barcode, product=row)
    return row


def manager(code: str = "M01", role: str = "manager", login: str | None = None) -> Employee:
    return Employee.create(code=code, name=f"Employee {code}", role=role, login=login)


def supplier(code: str = "SUP7") -> Supplier:
    return Supplier.create(code=code, name=f"Supplier {code}")


def doc(
    kind: str,
    at: Store,
    lines: list[tuple],
    *,
    post: bool = False,
    by: str = "M01",
    date: dt.datetime | None = None,
    **fields,
) -> Document:
    """A document of `kind` with lines (product, qty[, price[, expiry]])."""
    inputs = []
    for item in lines:
        prod, qty = item[0], item[1]
        price = item[2] if len(item) > 2 else "0"
        expiry = item[3] if len(item) > 3 else None
        inputs.append(
            LineInput(
                product_id=prod.id if prod else None,
                qty=milli(Decimal(qty)),
                price=kopecks(price),
                expiry=expiry,
                product_code="" if prod else "UNKNOWN",
            )
        )
    (doc_id,) = create_documents(
        [DocumentInput(kind=kind, store_id=at.id, lines=inputs, date=date, **fields)],
        post_by=by if post else None,
    )
    return Document.get_by_id(doc_id)
