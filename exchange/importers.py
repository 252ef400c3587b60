"""A checked ShopV2 file into the books, one kind at a time, in one transaction.

The codec has already proved the file whole and every record right; here each record
becomes what the books keep. Receipts are facts: they post on import as sales and
returns, and a receipt id the books already hold for the till is skipped and reported,
never posted twice, whichever file brings it again. Drafts and baskets wait for the
operator. A Z-report is compared with the receipts of its shift each time more of them
arrive, and any difference is written down in words, not hidden.

Everything is read and written in bulk: one query per kind of fact a file names (goods,
known receipt ids, suppliers...), and one statement per table written, so the cost of a
file grows with its size only through `create_documents` and `executemany`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from peewee import fn

from exchange.matching import GoodsMatcher
from exchange.records import (
    Basket,
    CancelledReceipt,
    CashOperation,
    CustomerPayment,
    Draft,
    Receipt,
    ShiftReport,
    Status,
)
from exchange.shopv2 import ParsedFile
from models.bulk import chunked, insert_rows, select_in
from models.catalog import Price
from models.db import write_transaction
from models.documents import ORDER, RETURN, SALE, Document
from models.i18n import _
from models.money import format_money, kopecks, milli
from models.org import Store, Till, now, to_utc
from models.parties import Customer, Supplier
from models.posting import DocumentInput, LineInput, create_documents
from models.till_records import CancelledReceipt as CancelledRow
from models.till_records import CashOperation as CashRow
from models.till_records import CustomerPayment as CustomerPaymentRow
from models.till_records import ReceiptPayment as PaymentRow
from models.till_records import ShiftReport as ShiftRow
from models.till_records import TillStatus

__all__ = ["ImportResult", "import_parsed", "reconcile_shifts", "touch_contact"]


@dataclass
class ImportResult:
    """What one file did to the books: counts by name and notes for the operator."""

    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def summary(self) -> str:
        """The counts as one line for the log, e.g. `receipts 5, payments 5, unmatched 1`."""
        labels = _count_labels()
        return ", ".join(f"{labels.get(key, key)} {value}" for key, value in self.counts.items())


def _count_labels() -> dict[str, str]:
    """What each count is called in the operator's language (looked up when written)."""
    return {
        "receipts": _("receipts"),
        "sales": _("sales"),
        "returns": _("returns"),
        "payments": _("payments"),
        "cash": _("cash operations"),
        "customer_payments": _("customer payments"),
        "cancelled": _("cancelled receipts"),
        "shifts": _("shift reports"),
        "drafts": _("drafts"),
        "orders": _("orders"),
        "status": _("status reports"),
        "unmatched": _("unmatched lines"),
        "unknown_suppliers": _("unknown suppliers"),
    }


def import_parsed(parsed: ParsedFile, till: Till) -> ImportResult:
    """Write a checked file of `till` into the books, all of it or (on error) nothing."""
    importer = _IMPORTERS[parsed.header.kind]
    result = ImportResult()
    for warning in parsed.warnings:
        result.notes.append(str(warning))
    with write_transaction():
        importer(parsed, till, result)
    return result


def _of(parsed: ParsedFile, kind: type) -> list[Any]:
    return [r for r in parsed.records if isinstance(r, kind)]


def _known_ids(model: Any, till: str, ids: Iterable[str], column: Any = None) -> set[str]:
    """Which of `ids` the books already hold for the till (a query per 500 ids).

    Written as plain SQL: building a query node per id costs more than the query.
    """
    column = column if column is not None else model.external_id
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    sql = (
        f'SELECT "{column.column_name}" FROM "{model._meta.table_name}" '
        f'WHERE "{model.till.column_name}" = {{p}} AND "{column.column_name}" IN ({{marks}})'
    )
    return {value for (value,) in select_in(sql, wanted, before=(till,))}


def _new_only(records: Sequence[Any], known: set[str], result: ImportResult, key: str) -> list:
    """Records whose id is new (neither in the books nor earlier in the file)."""
    seen = set(known)
    fresh = []
    for record in records:
        if record.id in seen:
            result.add(key)
            continue
        seen.add(record.id)
        fresh.append(record)
    return fresh


def _codes(model: Any, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted({c for c in codes if c})
    found: dict[str, int] = {}
    for chunk in chunked(wanted):
        found.update(model.select(model.code, model.id).where(model.code.in_(list(chunk))).tuples())
    return found


# --------------------------------------------------------------------------- sales


def _import_sales(parsed: ParsedFile, till: Till, result: ImportResult) -> None:
    code = till.code
    receipts: list[Receipt] = _of(parsed, Receipt)
    known = _known_ids(Document, code, (r.id for r in receipts))
    fresh = _new_only(receipts, known, result, "receipts_skipped")
    skipped = [r.id for r in receipts if r.id in known]
    if skipped:
        result.notes.append(
            _("receipts already in the books, not posted again: {ids}").format(
                ids=_short_list(skipped)
            )
        )
    if fresh:
        _post_receipts(fresh, till, result)
    _record_cash(_of(parsed, CashOperation), code, result)
    _record_customer_payments(_of(parsed, CustomerPayment), code, result)
    _record_cancelled(_of(parsed, CancelledReceipt), code, result)
    reports: list[ShiftReport] = _of(parsed, ShiftReport)
    _record_shifts(reports, code, result)
    shifts = {r.shift for r in receipts} | {r.shift for r in reports}
    shifts |= {r.shift for r in _of(parsed, CashOperation) if r.shift is not None}
    for text in reconcile_shifts(code, shifts):
        result.notes.append(text)


def _post_receipts(receipts: list[Receipt], till: Till, result: ImportResult) -> None:
    matcher = GoodsMatcher().preload(
        (line.product, line.barcode) for r in receipts for line in r.lines
    )
    customers = _codes(Customer, (p.customer for r in receipts for p in r.payments if p.customer))
    inputs: list[DocumentInput] = []
    unmatched: list[str] = []
    for receipt in receipts:
        lines = []
        for line in receipt.lines:
            found = matcher.match(line.product, line.barcode)
            if not found.matched:
                unmatched.append(
                    _("receipt {id} line {n}: {problem}").format(
                        id=receipt.id, n=line.n, problem=found.problem
                    )
                )
            lines.append(
                LineInput(
                    product_id=found.product_id,
                    qty=line.qty_milli,
                    price=line.price_kop,
                    discount=line.discount_kop,
                    sum=line.sum_kop,
                    product_code=line.product or "",
                    barcode=line.barcode or "",
                    mark=line.mark or "",
                    department=line.department,
                    n=line.n,
                )
            )
        credit = next((p.customer for p in receipt.payments if p.customer in customers), None)
        inputs.append(
            DocumentInput(
                kind=RETURN if receipt.op == "return" else SALE,
                store_id=till.store_id,
                lines=lines,
                date=to_utc(receipt.closed),
                customer_id=customers.get(credit) if credit else None,
                author=receipt.cashier,
                till=till.code,
                external_id=receipt.id,
                shift=receipt.shift,
                return_of=receipt.return_of or "",
                card=receipt.card or "",
                cashier=receipt.cashier,
                total=receipt.total_kop,
            )
        )
    doc_ids = create_documents(inputs, post_by=till.code)
    payments = [
        (
            doc_id,
            p.method,
            p.amount_kop,
            p.change_kop,
            p.certificate or "",
            p.customer or "",
        )
        for doc_id, receipt in zip(doc_ids, receipts, strict=True)
        for p in receipt.payments
    ]
    insert_rows(
        PaymentRow,
        ("document_id", "method", "amount", "change", "certificate", "customer"),
        payments,
    )
    result.add("receipts", len(receipts))
    result.add("sales", sum(1 for r in receipts if r.op != "return"))
    result.add("returns", sum(1 for r in receipts if r.op == "return"))
    result.add("payments", len(payments))
    result.add("unmatched", len(unmatched))
    result.notes.extend(unmatched)


def _record_cash(records: list[CashOperation], till: str, result: ImportResult) -> None:
    fresh = _new_only(
        records, _known_ids(CashRow, till, (r.id for r in records)), result, "cash_skipped"
    )
    insert_rows(
        CashRow,
        ("till", "external_id", "shift", "time", "op", "amount", "cashier", "reason"),
        [
            (
                till,
                r.id,
                r.shift,
                to_utc(r.time),
                r.op,
                kopecks(r.amount),
                r.cashier or "",
                r.reason,
            )
            for r in fresh
        ],
    )
    result.add("cash", len(fresh))


def _record_customer_payments(
    records: list[CustomerPayment], till: str, result: ImportResult
) -> None:
    known = _known_ids(CustomerPaymentRow, till, (r.id for r in records))
    fresh = _new_only(records, known, result, "customer_payments_skipped")
    customers = _codes(Customer, (r.customer for r in fresh))
    missing = sorted({r.customer for r in fresh if r.customer not in customers})
    if missing:
        result.notes.append(
            _("payments name customers the books do not know: {codes}").format(
                codes=", ".join(missing)
            )
        )
    insert_rows(
        CustomerPaymentRow,
        (
            "till",
            "external_id",
            "shift",
            "time",
            "customer_code",
            "customer_id",
            "method",
            "amount",
            "basket",
        ),
        [
            (
                till,
                r.id,
                r.shift,
                to_utc(r.time),
                r.customer,
                customers.get(r.customer),
                r.method,
                kopecks(r.amount),
                r.basket or "",
            )
            for r in fresh
        ],
    )
    result.add("customer_payments", len(fresh))


def _record_cancelled(records: list[CancelledReceipt], till: str, result: ImportResult) -> None:
    known = _known_ids(CancelledRow, till, (r.id for r in records))
    fresh = _new_only(records, known, result, "cancelled_skipped")
    insert_rows(
        CancelledRow,
        ("till", "external_id", "shift", "number", "cashier", "time", "total"),
        [
            (till, r.id, r.shift, r.number, r.cashier or "", to_utc(r.time), kopecks(r.total))
            for r in fresh
        ],
    )
    result.add("cancelled", len(fresh))


def _record_shifts(reports: list[ShiftReport], till: str, result: ImportResult) -> None:
    """Keep each Z-report; a report sent again replaces the earlier one of its shift."""
    for report in reports:
        values = {
            "opened": to_utc(report.opened) if report.opened else None,
            "closed": to_utc(report.closed),
            "cashier": report.cashier or "",
            "receipts": report.receipts,
            "returns": report.returns,
            "sales_total": kopecks(report.sales_total),
            "returns_total": kopecks(report.returns_total),
            "by_method": json.dumps(
                {m: format_money(kopecks(v)) for m, v in sorted(report.by_method.items())}
            ),
            "cash_in": kopecks(report.cash_in),
            "cash_out": kopecks(report.cash_out),
        }
        row = ShiftRow.get_or_none((ShiftRow.till == till) & (ShiftRow.shift == report.shift))
        if row is None:
            ShiftRow.create(till=till, shift=report.shift, **values)
        else:
            ShiftRow.update(**values).where(ShiftRow.id == row.id).execute()
    result.add("shifts", len(reports))


# --------------------------------------------------------------------------- reconciling


@dataclass
class _Books:
    """What the books hold for one shift of one till."""

    sales: int = 0
    returns: int = 0
    sales_total: int = 0
    returns_total: int = 0
    by_method: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cash_in: int = 0
    cash_out: int = 0


def _shift_books(till: str, shifts: list[int]) -> dict[int, _Books]:
    books: dict[int, _Books] = defaultdict(_Books)
    receipt_kinds = [SALE, RETURN]
    for shift, kind, count, total in (
        Document.select(
            Document.shift, Document.kind, fn.COUNT(Document.id), fn.SUM(Document.total)
        )
        .where(
            (Document.till == till) & Document.shift.in_(shifts) & Document.kind.in_(receipt_kinds)
        )
        .group_by(Document.shift, Document.kind)
        .tuples()
    ):
        entry = books[shift]
        if kind == SALE:
            entry.sales, entry.sales_total = count, total or 0
        else:
            entry.returns, entry.returns_total = count, total or 0
    for shift, kind, method, amount in (
        PaymentRow.select(
            Document.shift,
            Document.kind,
            PaymentRow.method,
            fn.SUM(PaymentRow.amount - PaymentRow.change),
        )
        .join(Document)
        .where(
            (Document.till == till) & Document.shift.in_(shifts) & Document.kind.in_(receipt_kinds)
        )
        .group_by(Document.shift, Document.kind, PaymentRow.method)
        .tuples()
    ):
        sign = 1 if kind == SALE else -1
        books[shift].by_method[method] += sign * (amount or 0)
    for shift, op, amount in (
        CashRow.select(CashRow.shift, CashRow.op, fn.SUM(CashRow.amount))
        .where((CashRow.till == till) & CashRow.shift.in_(shifts))
        .group_by(CashRow.shift, CashRow.op)
        .tuples()
    ):
        if op == "in":
            books[shift].cash_in = amount or 0
        else:
            books[shift].cash_out = amount or 0
    return books


def _compare(label: str, till_value: int, books_value: int) -> str | None:
    if till_value == books_value:
        return None
    return _("{what}: till {till}, books {books} (difference {difference})").format(
        what=label,
        till=format_money(till_value),
        books=format_money(books_value),
        difference=format_money(till_value - books_value),
    )


def reconcile_shifts(till: str, shifts: Iterable[int]) -> list[str]:
    """Compare the Z-reports of these shifts with the receipts the books hold.

    Each report is marked `pending` while the books hold fewer receipts than it
    counts (more files to come), else `ok` or `difference` with the difference in
    words. Returns a line for each report that is not `ok`.
    """
    wanted = sorted({s for s in shifts if s is not None})
    if not wanted:
        return []
    reports = list(ShiftRow.select().where((ShiftRow.till == till) & ShiftRow.shift.in_(wanted)))
    if not reports:
        return []
    books = _shift_books(till, [r.shift for r in reports])
    notes = []
    for report in reports:
        held = books.get(report.shift, _Books())
        if held.sales < report.receipts or held.returns < report.returns:
            state = "pending"
            text = _(
                "shift {shift}: waiting for receipts: the till counts {sales} sales and "
                "{returns} returns, the books hold {held_sales} and {held_returns}"
            ).format(
                shift=report.shift,
                sales=report.receipts,
                returns=report.returns,
                held_sales=held.sales,
                held_returns=held.returns,
            )
        else:
            problems = []
            if held.sales != report.receipts or held.returns != report.returns:
                problems.append(
                    _(
                        "receipts: the till counts {sales} sales and {returns} returns, "
                        "the books hold {held_sales} and {held_returns}"
                    ).format(
                        sales=report.receipts,
                        returns=report.returns,
                        held_sales=held.sales,
                        held_returns=held.returns,
                    )
                )
            till_methods = {
                m: kopecks(Decimal(v)) for m, v in json.loads(report.by_method or "{}").items()
            }
            checks = [
                (_("sales total"), report.sales_total, held.sales_total),
                (_("returns total"), report.returns_total, held.returns_total),
                (_("cash in"), report.cash_in, held.cash_in),
                (_("cash out"), report.cash_out, held.cash_out),
            ]
            for method in sorted(set(till_methods) | set(held.by_method)):
                checks.append(
                    (
                        _("takings by {method}").format(method=method),
                        till_methods.get(method, 0),
                        held.by_method.get(method, 0),
                    )
                )
            problems.extend(p for p in (_compare(*c) for c in checks) if p)
            state = "difference" if problems else "ok"
            text = (
                _("shift {shift} does not agree with its receipts: {problems}").format(
                    shift=report.shift, problems="; ".join(problems)
                )
                if problems
                else ""
            )
        ShiftRow.update(reconciled=state, difference=text).where(ShiftRow.id == report.id).execute()
        if text:
            notes.append(text)
    return notes


# --------------------------------------------------------------------------- drafts


def _import_drafts(parsed: ParsedFile, till: Till, result: ImportResult) -> None:
    drafts: list[Draft] = _of(parsed, Draft)
    known = _known_ids(Document, till.code, (d.id for d in drafts))
    fresh = _new_only(drafts, known, result, "drafts_skipped")
    if not fresh:
        return
    matcher = GoodsMatcher().preload((ln.product, ln.barcode) for d in fresh for ln in d.lines)
    suppliers = _codes(Supplier, (d.supplier for d in fresh if d.supplier))
    stores = _codes(Store, (d.to_store for d in fresh if d.to_store))
    inputs = []
    for draft in fresh:
        lines = []
        for n, line in enumerate(draft.lines, start=1):
            found = matcher.match(line.product, line.barcode)
            if not found.matched:
                result.add("unmatched")
                result.notes.append(
                    _("draft {id} line {n}: {problem}").format(
                        id=draft.id, n=n, problem=found.problem
                    )
                )
            lines.append(
                LineInput(
                    product_id=found.product_id,
                    qty=milli(line.qty),
                    price=kopecks(line.price) if line.price is not None else 0,
                    product_code=line.product or "",
                    barcode=line.barcode or "",
                    expiry=line.expiry,
                    certificate=line.certificate or "",
                    n=n,
                )
            )
        comment = draft.comment
        supplier_id = suppliers.get(draft.supplier) if draft.supplier else None
        if draft.supplier and supplier_id is None:
            result.add("unknown_suppliers")
            result.notes.append(
                _("draft {id} names supplier {code}, unknown to the books").format(
                    id=draft.id, code=draft.supplier
                )
            )
        to_store_id = stores.get(draft.to_store) if draft.to_store else None
        if draft.to_store and to_store_id is None:
            flag = _("receiving store {code} is not in the books").format(code=draft.to_store)
            comment = f"{comment}\n{flag}".strip()
            result.notes.append(_("draft {id}: {flag}").format(id=draft.id, flag=flag))
        inputs.append(
            DocumentInput(
                kind=draft.doc,
                store_id=till.store_id,
                lines=lines,
                date=to_utc(draft.created),
                to_store_id=to_store_id,
                supplier_id=supplier_id,
                supplier_code=draft.supplier if draft.supplier and supplier_id is None else "",
                author=draft.author,
                till=till.code,
                external_id=draft.id,
                reason=draft.reason or "",
                comment=comment,
                invoice=draft.invoice or "",
                invoice_date=draft.invoice_date,
            )
        )
    create_documents(inputs)
    result.add("drafts", len(inputs))


# --------------------------------------------------------------------------- baskets


def _import_baskets(parsed: ParsedFile, till: Till, result: ImportResult) -> None:
    baskets: list[Basket] = _of(parsed, Basket)
    known = _known_ids(Document, till.code, (b.id for b in baskets))
    fresh = _new_only(baskets, known, result, "orders_skipped")
    if not fresh:
        return
    matcher = GoodsMatcher().preload((ln.product, ln.barcode) for b in fresh for ln in b.lines)
    customers = _codes(Customer, (b.customer for b in fresh if b.customer))
    product_ids = {
        matcher.match(ln.product, ln.barcode).product_id for b in fresh for ln in b.lines
    } - {None}
    prices = dict(
        Price.select(Price.product_id, Price.price)
        .where((Price.store == till.store_id) & Price.product_id.in_(sorted(product_ids)))
        .tuples()
    )
    inputs = []
    for basket in fresh:
        lines = []
        for n, line in enumerate(basket.lines, start=1):
            found = matcher.match(line.product, line.barcode)
            if not found.matched:
                result.add("unmatched")
                result.notes.append(
                    _("basket {id} line {n}: {problem}").format(
                        id=basket.id, n=n, problem=found.problem
                    )
                )
            lines.append(
                LineInput(
                    product_id=found.product_id,
                    qty=milli(line.qty),
                    price=prices.get(found.product_id, 0),
                    product_code=line.product or "",
                    barcode=line.barcode or "",
                    n=n,
                )
            )
        comment = basket.comment
        customer_id = customers.get(basket.customer) if basket.customer else None
        if basket.customer and customer_id is None:
            flag = _("customer {code} is not in the books").format(code=basket.customer)
            comment = f"{comment}\n{flag}".strip()
            result.notes.append(_("basket {id}: {flag}").format(id=basket.id, flag=flag))
        inputs.append(
            DocumentInput(
                kind=ORDER,
                store_id=till.store_id,
                lines=lines,
                date=to_utc(basket.created),
                customer_id=customer_id,
                author=basket.cashier or "",
                till=till.code,
                external_id=basket.id,
                comment=comment,
                card=basket.card or "",
                cashier=basket.cashier or "",
            )
        )
    create_documents(inputs)
    result.add("orders", len(inputs))


# --------------------------------------------------------------------------- status


def _import_status(parsed: ParsedFile, till: Till, result: ImportResult) -> None:
    statuses: list[Status] = _of(parsed, Status)
    if not statuses:
        return
    latest = max(statuses, key=lambda s: s.time)
    moment = to_utc(latest.time)
    row = TillStatus.get_or_none(TillStatus.till == till.id)
    errors = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in latest.errors]
    values = {
        "version": latest.version,
        "shift": latest.shift,
        "shift_open": latest.shift_open,
        "applied": json.dumps(latest.applied, sort_keys=True),
        "errors": json.dumps(list(latest.errors), ensure_ascii=False),
        "last_error": errors[-1] if errors else "",
    }
    if row is None:
        TillStatus.create(till=till.id, last_contact=moment, **values)
    else:
        known = _as_time(row.last_contact)
        values["last_contact"] = moment if known is None else max(moment, known)
        TillStatus.update(**values).where(TillStatus.id == row.id).execute()
    result.add("status", len(statuses))


def _as_time(value: Any) -> Any:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def touch_contact(till: Till) -> None:
    """Note that the till was heard from now (any file it delivered)."""
    stamp = now()
    updated = (
        TillStatus.update(last_contact=stamp)
        .where(
            (TillStatus.till == till.id)
            & ((TillStatus.last_contact.is_null()) | (TillStatus.last_contact < stamp))
        )
        .execute()
    )
    if not updated and not TillStatus.select().where(TillStatus.till == till.id).exists():
        TillStatus.create(till=till.id, last_contact=stamp)


def _short_list(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += _(" and {count} more").format(count=len(items) - limit)
    return shown


_IMPORTERS = {
    "sales": _import_sales,
    "drafts": _import_drafts,
    "baskets": _import_baskets,
    "status": _import_status,
}
