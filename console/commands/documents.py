"""`iis documents`, `iis document ...`, `iis draft ...`: the journal and its actions."""

from __future__ import annotations

import argparse

from console.cli import CommandError, add_format_option
from console.output import render
from models.catalog import Product
from models.documents import KINDS, STATES, Document, DocumentLine
from models.i18n import _
from models.journal import JournalFilter, document_lines, document_rows, find_document
from models.operators import require_approver, resolve_operator
from models.org import Employee, find_store
from models.parties import Supplier
from models.posting import cancel_document, map_line, post_document, reject_draft, set_supplier

DOCUMENT_KEYS = ("id", "kind", "state", "number", "date", "store", "author", "external_id", "total")
LINE_KEYS = (
    "n",
    "product",
    "name",
    "quantity",
    "price",
    "sum",
    "cost",
    "book",
    "expiry",
    "certificate",
    "unmatched",
)


def _operator_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--operator", help=_("employee code acting (default: the login user)"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("documents", help=_("the documents journal"))
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--state", choices=STATES)
    p.add_argument("--store")
    p.add_argument("--till")
    p.add_argument("--limit", type=int, default=1000)
    add_format_option(p)
    p.set_defaults(handler=cmd_documents)

    p = sub.add_parser("document", help=_("one document: show, post, cancel"))
    s = p.add_subparsers(dest="document_command", required=True)
    q = s.add_parser("show", help=_("a document with its lines"))
    q.add_argument("id", help=_("id, number or the till's id"))
    add_format_option(q)
    q.set_defaults(handler=cmd_show)
    q = s.add_parser("post", help=_("post a draft (manager or admin)"))
    q.add_argument("id")
    _operator_option(q)
    q.set_defaults(handler=cmd_post)
    q = s.add_parser("cancel", help=_("cancel a posted document (manager or admin)"))
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    _operator_option(q)
    q.set_defaults(handler=cmd_cancel)

    p = sub.add_parser("draft", help=_("drafts from the tills: approve, reject, map goods"))
    s = p.add_subparsers(dest="draft_command", required=True)
    q = s.add_parser("approve", help=_("approve (post) a draft"))
    q.add_argument("id")
    _operator_option(q)
    q.set_defaults(handler=cmd_post)
    q = s.add_parser("reject", help=_("reject a draft with a reason"))
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    _operator_option(q)
    q.set_defaults(handler=cmd_reject)
    q = s.add_parser("map", help=_("match a document line to goods"))
    q.add_argument("id", help=_("the document"))
    q.add_argument("line", type=int, help=_("the line number (n)"))
    q.add_argument("--product", required=True, help=_("the goods' code"))
    _operator_option(q)
    q.set_defaults(handler=cmd_map)
    q = s.add_parser("supplier", help=_("choose the supplier of a draft"))
    q.add_argument("id", help=_("the document"))
    q.add_argument("supplier", help=_("the supplier's code"))
    _operator_option(q)
    q.set_defaults(handler=cmd_supplier)


def cmd_documents(args: argparse.Namespace) -> int:
    store = find_store(args.store) if args.store else None
    flt = JournalFilter(kind=args.kind, state=args.state, store=store, till=args.till)
    rows = document_rows(flt, 0, args.limit)
    print(render(rows, DOCUMENT_KEYS, args.format))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    doc = find_document(args.id)
    lines = document_lines(doc)
    if args.format == "json":
        import json

        from console.output import _plain

        header = {key: _plain(value) for key, value in _header(doc).items()}
        header["lines"] = [{k: _plain(line[k]) for k in LINE_KEYS} for line in lines]
        print(json.dumps(header, ensure_ascii=False, indent=1))
        return 0
    for key, value in _header(doc).items():
        if value not in (None, ""):
            print(f"{key:>14}: {_plain_text(value)}")
    print()
    print(render(lines, LINE_KEYS, args.format))
    return 0


def _plain_text(value) -> str:
    from console.output import _plain

    return str(_plain(value))


def _header(doc: Document) -> dict:
    from models.money import money

    return {
        "id": doc.id,
        "kind": doc.kind,
        "state": doc.state,
        "number": doc.display_number,
        "date": doc.date,
        "store": doc.store.code,
        "to_store": doc.to_store.code if doc.to_store_id else None,
        "supplier": doc.supplier.code if doc.supplier_id else doc.supplier_code,
        "invoice": doc.invoice,
        "invoice_date": doc.invoice_date,
        "author": doc.author,
        "till": doc.till,
        "external_id": doc.external_id,
        "reason": doc.reason,
        "comment": doc.comment,
        "total": money(doc.total),
        "posted_by": doc.posted_by,
        "posted_at": doc.posted_at,
        "cancelled_by": doc.cancelled_by,
        "cancel_reason": doc.cancel_reason,
        "rejected_by": doc.rejected_by,
        "reject_reason": doc.reject_reason,
    }


def _approved(args: argparse.Namespace, action: str) -> tuple[Employee, Document]:
    """The acting operator, allowed to do `action`, and the document `args.id` names."""
    operator = resolve_operator(args.operator)
    require_approver(operator, action)
    return operator, find_document(args.id)


def cmd_post(args: argparse.Namespace) -> int:
    operator, doc = _approved(args, "approve documents")
    post_document(doc.id, operator.code)
    print(_("posted {number}").format(number=doc.display_number))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    operator, doc = _approved(args, "cancel documents")
    cancel_document(doc.id, operator.code, args.reason)
    print(_("cancelled {number}").format(number=doc.display_number))
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    operator, doc = _approved(args, "reject drafts")
    reject_draft(doc.id, operator.code, args.reason)
    print(_("rejected {number}").format(number=doc.display_number))
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    operator, doc = _approved(args, "map goods")
    line = DocumentLine.get_or_none((DocumentLine.document == doc) & (DocumentLine.n == args.line))
    if line is None:
        raise CommandError(
            _("document {number} has no line {n}").format(number=doc.display_number, n=args.line)
        )
    product = Product.get_or_none(Product.code == args.product)
    if product is None:
        raise CommandError(_("no goods with code {code}").format(code=args.product))
    map_line(line.id, product.id, operator.code)
    print(
        _("line {n} of {number} is {code}").format(
            n=args.line, number=doc.display_number, code=product.code
        )
    )
    return 0


def cmd_supplier(args: argparse.Namespace) -> int:
    _operator, doc = _approved(args, "edit drafts")
    supplier = Supplier.get_or_none(Supplier.code == args.supplier)
    if supplier is None:
        raise CommandError(_("no supplier with code {code}").format(code=args.supplier))
    set_supplier(doc.id, supplier.id)
    print(_("{number}: supplier {code}").format(number=doc.display_number, code=supplier.code))
    return 0
