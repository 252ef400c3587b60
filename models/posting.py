"""Posting and cancelling documents: the one door through which stock moves.

Posting turns a document's lines into stock-move rows and updates the
balances in the same transaction. The work is done in bulk: the balances of
every (store, goods) a batch of documents touches are read in one query, the
batches are allocated in memory, and moves, lines and balances are written
with one prepared statement each. A file of a thousand receipts costs a
handful of statements, not thousands.

Rules (see docs in README "How the books count"):
- Outgoing goods take batches earliest expiry first (FEFO), then oldest
  received, then oldest batch.
- Cost of goods sold is the cost of the batches actually taken (specific
  identification by batch); taking part of a batch takes its value in
  proportion, so an emptied batch leaves exactly zero value.
- A document an operator posts may not take goods below zero unless the store
  allows it; receipts from the tills always post (a sale is a fact) and the
  shortfall shows as negative stock on the last batch taken.
- An inventory count posts the difference between counted and book
  quantities, for the goods counted only.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from models.bulk import (
    IdPool,
    allocate_ids,
    insert_rows,
    select_in,
    sql_value,
    update_rows,
    upsert_rows,
)
from models.catalog import Product
from models.db import write_transaction
from models.documents import (
    CANCELLED,
    DRAFT,
    INCOMING,
    INVENTORY,
    NUMBER_PREFIX,
    OPERATOR_KINDS,
    ORDER,
    POSTED,
    RECEIPT_KINDS,
    REJECTED,
    RETURN,
    SALE,
    STOCK_KINDS,
    SUPPLIER_RETURN,
    TRANSFER,
    WRITEOFF,
    Document,
    DocumentLine,
)
from models.errors import BooksError, DocumentStateError, NegativeStockError, NotFoundError
from models.i18n import _
from models.ledger import Balance, Batch, StockMove
from models.money import format_quantity, line_value, round_half_up
from models.org import Store, now
from models.parties import Supplier

OUTGOING_KINDS = frozenset({SALE, WRITEOFF, SUPPLIER_RETURN, TRANSFER})


# --------------------------------------------------------------------------- inputs


@dataclass
class LineInput:
    """One line of a document to be created; quantities in thousandths, money in kopecks."""

    product_id: int | None
    qty: int
    price: int = 0
    discount: int = 0
    sum: int | None = None
    product_code: str = ""
    barcode: str = ""
    expiry: dt.date | None = None
    certificate: str = ""
    mark: str = ""
    department: int | None = None
    n: int = 0


@dataclass
class DocumentInput:
    """A document to be created (as a draft, or created and posted at once)."""

    kind: str
    store_id: int
    lines: list[LineInput]
    date: dt.datetime | None = None
    to_store_id: int | None = None
    supplier_id: int | None = None
    supplier_code: str = ""
    customer_id: int | None = None
    author: str = ""
    till: str | None = None
    external_id: str | None = None
    reason: str = ""
    comment: str = ""
    invoice: str = ""
    invoice_date: dt.date | None = None
    shift: int | None = None
    return_of: str = ""
    card: str = ""
    cashier: str = ""
    number: str = ""
    total: int | None = None


_DOC_COLUMNS = (
    "id",
    "kind",
    "state",
    "number",
    "date",
    "store_id",
    "to_store_id",
    "supplier_id",
    "supplier_code",
    "customer_id",
    "author",
    "till",
    "external_id",
    "reason",
    "comment",
    "invoice",
    "invoice_date",
    "shift",
    "return_of",
    "card",
    "cashier",
    "total",
    "created",
    "posted_at",
    "posted_by",
    "cancelled_by",
    "cancel_reason",
    "rejected_by",
    "reject_reason",
    "edited_by",
    "unmatched",
    "updated",
)
_LINE_COLUMNS = (
    "id",
    "document_id",
    "n",
    "product_id",
    "product_code",
    "barcode",
    "qty",
    "price",
    "discount",
    "sum",
    "cost",
    "book_qty",
    "expiry",
    "certificate",
    "mark",
    "department",
    "unmatched",
)
_MOVE_COLUMNS = (
    "document_id",
    "line_id",
    "store_id",
    "product_id",
    "batch_id",
    "qty",
    "cost",
    "time",
)
_BATCH_COLUMNS = (
    "id",
    "product_id",
    "supplier_id",
    "document_id",
    "received",
    "cost",
    "expiry",
    "certificate",
    "origin",
)


def line_sum(kind: str, line: LineInput) -> int:
    """A line's money: the till's own sum for receipts, else qty x price - discount."""
    if line.sum is not None:
        return line.sum
    return line_value(line.qty, line.price) - line.discount


# --------------------------------------------------------------------------- in-memory stock


@dataclass
class _Slot:
    """The balance of one batch in one store, as posting sees it mid-flight."""

    batch_id: int
    qty: int
    cost: int
    unit_cost: int
    expiry: str
    received: str

    @property
    def fefo_key(self) -> tuple:
        return (self.expiry == "", self.expiry, self.received, self.batch_id)


def _fefo(slot: _Slot) -> tuple:
    """The order batches are taken in (a plain function: sorting calls it per slot)."""
    return (slot.expiry == "", slot.expiry, slot.received, slot.batch_id)


@dataclass
class _Taken:
    batch_id: int
    qty: int
    cost: int
    slot: _Slot

    @property
    def batch(self) -> tuple:
        return (self.batch_id, self.slot.unit_cost, self.slot.expiry, self.slot.received)


@dataclass
class _Shortage:
    store_id: int
    product_id: int
    needed: int
    available: int


class _Stock:
    """Balances of the (store, goods) pairs a posting touches, with FEFO allocation."""

    def __init__(self) -> None:
        self.slots: dict[tuple[int, int], list[_Slot]] = {}
        self.dirty: dict[tuple[int, int], tuple[int, _Slot]] = {}
        self.new_batches: list[tuple] = []

    def load(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Read every balance of the given (store, product) pairs in a few queries."""
        wanted = {p for p in pairs if p not in self.slots}
        if not wanted:
            return
        for pair in wanted:
            self.slots[pair] = []
        products = sorted({p for _, p in wanted})
        stores = sorted({s for s, _ in wanted})
        store_marks = ", ".join("{p}" for _ in stores)
        rows = select_in(
            'SELECT b."store_id", b."product_id", b."batch_id", b."qty", b."cost", t."cost", '
            't."expiry", t."received" FROM "balance" AS b JOIN "batch" AS t '
            'ON t."id" = b."batch_id" '
            f'WHERE b."store_id" IN ({store_marks}) AND b."product_id" IN ({{marks}})',
            products,
            before=stores,
        )
        slots = self.slots
        for store_id, product_id, batch_id, qty, cost, unit, expiry, received in rows:
            key = (store_id, product_id)
            if key in wanted:
                slots[key].append(_Slot(batch_id, qty, cost, unit, _text(expiry), _text(received)))
        for key in wanted:
            found = slots[key]
            if len(found) > 1:
                found.sort(key=_fefo)

    def available(self, store_id: int, product_id: int) -> int:
        """What may be taken without going below zero: a negative batch owes its shortfall."""
        return max(self.book(store_id, product_id), 0)

    def book(self, store_id: int, product_id: int) -> int:
        return sum(s.qty for s in self.slots[(store_id, product_id)])

    def _touch(self, store_id: int, product_id: int, slot: _Slot) -> None:
        self.dirty[(store_id, slot.batch_id)] = (product_id, slot)

    def take(self, store_id: int, product_id: int, qty: int, fallback_batch) -> list[_Taken]:
        """Take `qty` FEFO; what stock cannot cover goes negative on the last batch."""
        slots = self.slots[(store_id, product_id)]
        dirty = self.dirty
        taken: list[_Taken] = []
        remaining = qty
        for slot in slots:
            if remaining == 0:
                break
            if slot.qty <= 0:
                continue
            part = min(remaining, slot.qty)
            cost = slot.cost if part == slot.qty else round_half_up(slot.cost * part, slot.qty)
            slot.qty -= part
            slot.cost -= cost
            remaining -= part
            taken.append(_Taken(slot.batch_id, part, cost, slot))
            dirty[(store_id, slot.batch_id)] = (product_id, slot)
        if remaining:
            slot = slots[-1] if slots else self.add_slot(store_id, product_id, fallback_batch())
            cost = line_value(remaining, slot.unit_cost)
            slot.qty -= remaining
            slot.cost -= cost
            taken.append(_Taken(slot.batch_id, remaining, cost, slot))
            self._touch(store_id, product_id, slot)
        return taken

    def put(self, store_id: int, product_id: int, batch: tuple, qty: int, cost: int) -> None:
        """Add `qty` of a batch (id, unit cost, expiry, received) at `cost` to a store."""
        slots = self.slots.setdefault((store_id, product_id), [])
        slot = next((s for s in slots if s.batch_id == batch[0]), None)
        if slot is None:
            slot = self.add_slot(store_id, product_id, batch)
        slot.qty += qty
        slot.cost += cost
        self._touch(store_id, product_id, slot)

    def add_slot(self, store_id: int, product_id: int, batch: tuple) -> _Slot:
        batch_id, unit_cost, expiry, received = batch
        slot = _Slot(batch_id, 0, 0, unit_cost, _text(expiry), _text(received))
        slots = self.slots.setdefault((store_id, product_id), [])
        keys = [s.fefo_key for s in slots]
        slots.insert(bisect.bisect_right(keys, slot.fefo_key), slot)
        return slot

    def newest_slot(self, store_id: int, product_id: int) -> _Slot | None:
        slots = self.slots.get((store_id, product_id)) or []
        return max(slots, key=lambda s: (s.received, s.batch_id), default=None)

    def write(self) -> None:
        upsert_rows(
            Balance,
            ("store_id", "product_id", "batch_id", "qty", "cost"),
            ("store_id", "batch_id"),
            ("qty", "cost"),
            [
                (store_id, product_id, batch_id, slot.qty, slot.cost)
                for (store_id, batch_id), (product_id, slot) in self.dirty.items()
            ],
            plain=True,
        )


def _text(value) -> str:
    """A date or time as the slot keeps it: text, which is how SQLite already returns it."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- the poster


@dataclass
class _Doc:
    """A document on its way to being posted (read from the books or freshly made)."""

    id: int
    kind: str
    store_id: int
    to_store_id: int | None
    supplier_id: int | None
    date: dt.datetime
    lines: list[_Line]
    external_id: str | None = None
    till: str | None = None
    return_of: str = ""
    #: `date` as the database column holds it, written into every move and batch.
    when: str = ""

    def __post_init__(self) -> None:
        self.when = sql_value(self.date)


@dataclass
class _Line:
    id: int
    n: int
    product_id: int | None
    qty: int
    price: int
    expiry: dt.date | None
    certificate: str
    cost: int = 0
    book_qty: int | None = None


@dataclass
class _Posting:
    """Everything one bulk posting will write."""

    moves: list[tuple] = field(default_factory=list)
    line_updates: list[tuple] = field(default_factory=list)
    shortages: list[_Shortage] = field(default_factory=list)


class _Poster:
    def __init__(self, allow_negative: dict[int, bool]) -> None:
        self.stock = _Stock()
        self.allow_negative = allow_negative
        self.out = _Posting()
        self.batch_ids = IdPool(Batch, 0)
        self.sold: dict[tuple, list[list]] = {}
        self.named_receipts: set[tuple] = set()

    # Pairs first, so that one query reads every balance the documents touch.
    def prepare(self, docs: Sequence[_Doc]) -> None:
        pairs = set()
        for doc in docs:
            for line in doc.lines:
                if line.product_id is None:
                    continue
                pairs.add((doc.store_id, line.product_id))
                if doc.kind == TRANSFER and doc.to_store_id:
                    pairs.add((doc.to_store_id, line.product_id))
        self.stock.load(pairs)
        returns = [d for d in docs if d.kind == RETURN and d.return_of and d.till]
        self.sold = _load_sold(returns)
        self.named_receipts = {(d.till, d.return_of) for d in returns}
        new_batches = sum(
            1 for d in docs if d.kind == INCOMING for ln in d.lines if ln.product_id is not None
        )
        self.batch_ids = IdPool(Batch, new_batches)

    def _new_batch(
        self,
        product_id: int,
        unit_cost: int,
        doc: _Doc,
        *,
        origin: str,
        expiry: dt.date | None = None,
        certificate: str = "",
        supplier_id: int | None = None,
    ) -> tuple:
        batch_id = self.batch_ids.take()
        self.stock.new_batches.append(
            (
                batch_id,
                product_id,
                supplier_id,
                doc.id,
                doc.date,
                unit_cost,
                expiry,
                certificate,
                origin,
            )
        )
        return (batch_id, unit_cost, expiry, doc.when)

    def _fallback(self, product_id: int, doc: _Doc):
        """A batch to carry stock that has no receipt behind it (a sale ahead of stock)."""

        def make() -> tuple:
            latest = (
                Batch.select(Batch.id, Batch.cost, Batch.expiry, Batch.received)
                .where(Batch.product_id == product_id)
                .order_by(Batch.received.desc(), Batch.id.desc())
                .tuples()
                .first()
            )
            if latest:
                return latest
            return self._new_batch(product_id, 0, doc, origin="negative")

        return make

    def post(self, doc: _Doc) -> None:
        allow = self.allow_negative.get(doc.store_id, False) or doc.kind in RECEIPT_KINDS
        handler = getattr(self, f"_post_{doc.kind}")
        updates = self.out.line_updates
        counting = doc.kind == INVENTORY
        for line in doc.lines:
            if line.product_id is None or (line.qty == 0 and not counting):
                continue
            handler(doc, line, allow)
            updates.append((line.id, line.cost, line.book_qty))

    def _move(
        self, doc: _Doc, line: _Line, store_id: int, batch_id: int, qty: int, cost: int
    ) -> None:
        self.out.moves.append(
            (doc.id, line.id, store_id, line.product_id, batch_id, qty, cost, doc.when)
        )

    def _take(self, doc: _Doc, line: _Line, store_id: int, qty: int, allow: bool) -> list[_Taken]:
        if not allow:
            available = self.stock.available(store_id, line.product_id)
            if available < qty:
                self.out.shortages.append(_Shortage(store_id, line.product_id, qty, available))
                return []
        product_id = line.product_id
        taken = self.stock.take(store_id, product_id, qty, self._fallback(product_id, doc))
        append, line_id, when = self.out.moves.append, line.id, doc.when
        for part in taken:
            append(
                (doc.id, line_id, store_id, product_id, part.batch_id, -part.qty, -part.cost, when)
            )
        return taken

    def _post_incoming(self, doc: _Doc, line: _Line, allow: bool) -> None:
        batch = self._new_batch(
            line.product_id,
            line.price,
            doc,
            origin="",
            expiry=line.expiry,
            certificate=line.certificate,
            supplier_id=doc.supplier_id,
        )
        cost = line_value(line.qty, line.price)
        self.stock.put(doc.store_id, line.product_id, batch, line.qty, cost)
        self._move(doc, line, doc.store_id, batch[0], line.qty, cost)
        line.cost = cost
        self._settle_negatives(doc, line, doc.store_id, batch[0])

    def _settle_negatives(self, doc: _Doc, line: _Line, store_id: int, batch_id: int) -> None:
        """Goods sold ahead of their receipt were these: move the shortfall off the new batch.

        A sale that found no stock left a batch below zero. When the goods arrive,
        the shortfall is moved from the new batch onto that batch, which returns to
        zero quantity and zero value, so the store's stock is valued at what is
        really on the shelf. The difference between the two costs is the correction
        to the earlier sales' cost; these moves belong to the receiving document, so
        cancelling it puts the shortfall back. Goods arriving by transfer or coming
        back from a customer settle a shortfall the same way.
        """
        key = (store_id, line.product_id)
        slots = self.stock.slots[key]
        new = next(slot for slot in slots if slot.batch_id == batch_id)
        for slot in slots:
            if new.qty <= 0:
                break
            if slot.qty >= 0 or slot is new:
                continue
            part = min(-slot.qty, new.qty)
            out_cost = new.cost if part == new.qty else round_half_up(new.cost * part, new.qty)
            in_cost = (
                -slot.cost if part == -slot.qty else round_half_up(-slot.cost * part, -slot.qty)
            )
            new.qty, new.cost = new.qty - part, new.cost - out_cost
            slot.qty, slot.cost = slot.qty + part, slot.cost + in_cost
            self.stock._touch(store_id, line.product_id, new)
            self.stock._touch(store_id, line.product_id, slot)
            self._move(doc, line, store_id, new.batch_id, -part, -out_cost)
            self._move(doc, line, store_id, slot.batch_id, part, in_cost)

    def _post_outgoing(self, doc: _Doc, line: _Line, allow: bool) -> None:
        taken = self._take(doc, line, doc.store_id, line.qty, allow)
        line.cost = sum(t.cost for t in taken)

    def _post_sale(self, doc: _Doc, line: _Line, allow: bool) -> None:
        taken = self._take(doc, line, doc.store_id, line.qty, allow)
        line.cost = sum(t.cost for t in taken)
        if (doc.till, doc.external_id) in self.named_receipts:
            # A return later in the same batch names this receipt.
            sold = self.sold.setdefault((doc.till, doc.external_id, line.product_id), [])
            sold.extend([t.qty, t.cost, t.batch] for t in taken)

    _post_writeoff = _post_outgoing
    _post_supplier_return = _post_outgoing

    def _post_transfer(self, doc: _Doc, line: _Line, allow: bool) -> None:
        taken = self._take(doc, line, doc.store_id, line.qty, allow)
        for part in taken:
            batch = part.batch
            self.stock.put(doc.to_store_id, line.product_id, batch, part.qty, part.cost)
            self._move(doc, line, doc.to_store_id, part.batch_id, part.qty, part.cost)
            self._settle_negatives(doc, line, doc.to_store_id, part.batch_id)
        line.cost = sum(t.cost for t in taken)

    def _post_return(self, doc: _Doc, line: _Line, allow: bool) -> None:
        """A customer return puts goods back where they left from, at the cost they left at.

        When the till names the sold receipt, the goods go back onto the batches
        that sale took, at that sale's cost (less what earlier returns of the
        same receipt already brought back). What is not covered so (no receipt
        named, or more returned than sold) goes onto the newest batch at its cost.
        """
        remaining = line.qty
        line.cost = 0
        for source in self.sold.get((doc.till, doc.return_of, line.product_id), ()):
            left_qty, left_cost, batch = source
            if remaining == 0:
                break
            if left_qty <= 0:
                continue
            part = min(remaining, left_qty)
            cost = left_cost if part == left_qty else round_half_up(left_cost * part, left_qty)
            source[0] -= part
            source[1] -= cost
            self._put_back(doc, line, batch, part, cost)
            remaining -= part
        if remaining:
            slot = self.stock.newest_slot(doc.store_id, line.product_id)
            if slot is not None:
                batch = (slot.batch_id, slot.unit_cost, slot.expiry, slot.received)
            else:
                batch = self._fallback(line.product_id, doc)()
            self._put_back(doc, line, batch, remaining, line_value(remaining, batch[1]))

    def _put_back(self, doc: _Doc, line: _Line, batch: tuple, qty: int, cost: int) -> None:
        self.stock.put(doc.store_id, line.product_id, batch, qty, cost)
        self._move(doc, line, doc.store_id, batch[0], qty, cost)
        line.cost += cost
        self._settle_negatives(doc, line, doc.store_id, batch[0])

    def _post_inventory(self, doc: _Doc, line: _Line, allow: bool) -> None:
        book = self.stock.book(doc.store_id, line.product_id)
        line.book_qty = book
        difference = line.qty - book
        if difference < 0:
            taken = self.stock.take(
                doc.store_id, line.product_id, -difference, self._fallback(line.product_id, doc)
            )
            for part in taken:
                self._move(doc, line, doc.store_id, part.batch_id, -part.qty, -part.cost)
            line.cost = -sum(t.cost for t in taken)
        elif difference > 0:
            slot = self.stock.newest_slot(doc.store_id, line.product_id)
            if slot is not None:
                batch = (slot.batch_id, slot.unit_cost, slot.expiry, slot.received)
            else:
                batch = self._fallback(line.product_id, doc)()
            cost = line_value(difference, batch[1])
            self.stock.put(doc.store_id, line.product_id, batch, difference, cost)
            self._move(doc, line, doc.store_id, batch[0], difference, cost)
            line.cost = cost

    def write(self) -> None:
        insert_rows(Batch, _BATCH_COLUMNS, self.stock.new_batches)
        insert_rows(StockMove, _MOVE_COLUMNS, self.out.moves, plain=True)
        self.stock.write()


def _load_sold(returns: Sequence[_Doc]) -> dict[tuple, list[list]]:
    """What the receipts named by `returns` took, per batch, less what was returned since.

    Keyed (till, receipt id, goods); each entry is [qty, cost, batch tuple],
    consumed as returns put goods back. One query for the sales, one for the
    returns already posted against them.
    """
    sold: dict[tuple, list[list]] = {}
    by_till: dict[str, set[str]] = defaultdict(set)
    for doc in returns:
        by_till[doc.till].add(doc.return_of)
    for till, receipt_ids in by_till.items():
        taken = select_in(
            'SELECT d."external_id", m."product_id", m."batch_id", -m."qty", -m."cost", '
            't."cost", t."expiry", t."received" FROM "stock_move" AS m '
            'JOIN "document" AS d ON d."id" = m."document_id" '
            'JOIN "batch" AS t ON t."id" = m."batch_id" '
            'WHERE d."till" = {p} AND d."kind" = \'sale\' AND d."state" = \'posted\' '
            'AND m."qty" < 0 AND d."external_id" IN ({marks}) ORDER BY m."id"',
            sorted(receipt_ids),
            before=(till,),
        )
        for receipt, product, batch, qty, cost, unit, expiry, received in taken:
            entry = [qty, cost, (batch, unit, _text(expiry), _text(received))]
            sold.setdefault((till, receipt, product), []).append(entry)
        back = select_in(
            'SELECT d."return_of", m."product_id", m."batch_id", SUM(m."qty"), SUM(m."cost") '
            'FROM "stock_move" AS m JOIN "document" AS d ON d."id" = m."document_id" '
            'WHERE d."till" = {p} AND d."kind" = \'return\' AND d."state" = \'posted\' '
            'AND d."return_of" IN ({marks}) '
            'GROUP BY d."return_of", m."product_id", m."batch_id"',
            sorted(receipt_ids),
            before=(till,),
        )
        for receipt, product, batch, qty, cost in back:
            for entry in sold.get((till, receipt, product), ()):
                if entry[2][0] == batch and qty > 0:
                    part = min(qty, entry[0])
                    share = cost if part == qty else round_half_up(cost * part, qty)
                    entry[0] -= part
                    entry[1] -= share
                    qty -= part
                    cost -= share
    return sold


def _raise_shortages(shortages: list[_Shortage]) -> None:
    products = {
        p.id: p
        for p in Product.select(Product.id, Product.code, Product.name).where(
            Product.id.in_([s.product_id for s in shortages])
        )
    }
    stores = {s.id: s.code for s in Store.select(Store.id, Store.code)}
    parts = [
        _("{code} {name} in {store}: needs {needed}, has {available}").format(
            code=products[s.product_id].code,
            name=products[s.product_id].name,
            store=stores.get(s.store_id, "?"),
            needed=format_quantity(s.needed),
            available=format_quantity(s.available),
        )
        for s in shortages
    ]
    raise NegativeStockError(
        _("not enough stock (the store does not allow negative stock): {items}").format(
            items="; ".join(parts)
        )
    )


def _allow_negative() -> dict[int, bool]:
    return dict(Store.select(Store.id, Store.allow_negative).tuples())


# --------------------------------------------------------------------------- public operations


def create_documents(inputs: Sequence[DocumentInput], *, post_by: str | None = None) -> list[int]:
    """Create documents with their lines; with `post_by`, post them in the same pass.

    Creating and posting at once is how receipts from the tills arrive: one
    transaction, each row written once. Returns the new documents' ids.
    """
    with write_transaction():
        doc_ids = allocate_ids(Document, len(inputs))
        line_ids = iter(allocate_ids(DocumentLine, sum(len(d.lines) for d in inputs)))
        stamp = now()
        docs: list[_Doc] = []
        for doc_id, item in zip(doc_ids, inputs, strict=True):
            lines = [
                _Line(
                    next(line_ids),
                    li.n or n,
                    li.product_id,
                    li.qty,
                    li.price,
                    li.expiry,
                    li.certificate,
                )
                for n, li in enumerate(item.lines, start=1)
            ]
            docs.append(
                _Doc(
                    doc_id,
                    item.kind,
                    item.store_id,
                    item.to_store_id,
                    item.supplier_id,
                    item.date or stamp,
                    lines,
                    item.external_id,
                    item.till,
                    item.return_of,
                )
            )
        posted = False
        if post_by is not None:
            poster = _Poster(_allow_negative())
            stock_docs = [d for d in docs if d.kind in STOCK_KINDS]
            poster.prepare(stock_docs)
            for doc in stock_docs:
                poster.post(doc)
            if poster.out.shortages:
                _raise_shortages(poster.out.shortages)
            posted = True
        # Rows in the columns' own types (times as text), so that no value needs converting
        # on the way in; posting has set each line's cost and book quantity.
        line_rows = [
            (
                line.id,
                doc.id,
                line.n,
                li.product_id,
                li.product_code,
                li.barcode,
                li.qty,
                li.price,
                li.discount,
                line_sum(item.kind, li),
                line.cost,
                line.book_qty,
                None if li.expiry is None else sql_value(li.expiry),
                li.certificate,
                li.mark,
                li.department,
                li.product_id is None,
            )
            for doc, item in zip(docs, inputs, strict=True)
            for line, li in zip(doc.lines, item.lines, strict=True)
        ]
        created = sql_value(stamp)
        doc_rows = []
        for doc, item in zip(docs, inputs, strict=True):
            total = item.total
            if total is None:
                total = sum(line_sum(item.kind, li) for li in item.lines)
            state = POSTED if posted and item.kind in STOCK_KINDS else DRAFT
            doc_rows.append(
                (
                    doc.id,
                    item.kind,
                    state,
                    item.number or _number(item.kind, doc.id),
                    doc.when,
                    item.store_id,
                    item.to_store_id,
                    item.supplier_id,
                    item.supplier_code,
                    item.customer_id,
                    item.author,
                    item.till,
                    item.external_id,
                    item.reason,
                    item.comment,
                    item.invoice,
                    None if item.invoice_date is None else sql_value(item.invoice_date),
                    item.shift,
                    item.return_of,
                    item.card,
                    item.cashier,
                    total,
                    created,
                    created if state == POSTED else None,
                    post_by if state == POSTED else "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    sum(1 for li in item.lines if li.product_id is None),
                    created,
                )
            )
        insert_rows(Document, _DOC_COLUMNS, doc_rows, plain=True)
        insert_rows(DocumentLine, _LINE_COLUMNS, line_rows, plain=True)
        if posted:
            poster.write()
    return doc_ids


def _number(kind: str, doc_id: int) -> str:
    return f"{NUMBER_PREFIX.get(kind, 'D')}-{doc_id:06d}"


def _load_docs(doc_ids: Sequence[int]) -> dict[int, Document]:
    found = {d.id: d for d in Document.select().where(Document.id.in_(list(doc_ids)))}
    missing = [i for i in doc_ids if i not in found]
    if missing:
        raise NotFoundError(_("no document {ids}").format(ids=", ".join(str(i) for i in missing)))
    return found


def post_documents(doc_ids: Sequence[int], by: str) -> None:
    """Post draft documents (approve them): write their moves and balances.

    Refuses, naming the document, when one is not a draft, is not a stock
    document, or still has lines not matched to goods (an operator document
    must be whole before it moves stock). All or nothing.
    """
    doc_ids = list(dict.fromkeys(doc_ids))
    with write_transaction():
        found = _load_docs(doc_ids)
        docs: list[_Doc] = []
        lines_by_doc: dict[int, list[_Line]] = defaultdict(list)
        for row in (
            DocumentLine.select(
                DocumentLine.id,
                DocumentLine.document_id,
                DocumentLine.n,
                DocumentLine.product_id,
                DocumentLine.qty,
                DocumentLine.price,
                DocumentLine.expiry,
                DocumentLine.certificate,
            )
            .where(DocumentLine.document_id.in_(list(doc_ids)))
            .order_by(DocumentLine.document_id, DocumentLine.n, DocumentLine.id)
            .tuples()
        ):
            line_id, document_id, n, product_id, qty, price, expiry, certificate = row
            lines_by_doc[document_id].append(
                _Line(line_id, n, product_id, qty, price, _date(expiry), certificate)
            )
        for doc_id in doc_ids:
            d = found[doc_id]
            if d.state != DRAFT:
                raise DocumentStateError(
                    _("document {number} is {state}, only a draft can be posted").format(
                        number=d.display_number, state=_(d.state)
                    )
                )
            if d.kind not in STOCK_KINDS and d.kind != ORDER:
                raise DocumentStateError(
                    _("document {number} ({kind}) does not move stock").format(
                        number=d.display_number, kind=_(d.kind)
                    )
                )
            lines = lines_by_doc[doc_id]
            if d.kind == ORDER:
                continue  # accepting a customer order commits the shop; stock moves on sale
            if d.kind in (INCOMING, SUPPLIER_RETURN) and d.supplier_id is None and d.supplier_code:
                d.supplier_id = _link_supplier(d)
            if d.kind in OPERATOR_KINDS:
                unmatched = [ln.n for ln in lines if ln.product_id is None]
                if unmatched:
                    raise DocumentStateError(
                        _(
                            "document {number}: lines {lines} are not matched to goods; "
                            "map them first"
                        ).format(number=d.display_number, lines=", ".join(map(str, unmatched)))
                    )
                if d.kind == TRANSFER and not d.to_store_id:
                    raise DocumentStateError(
                        _("transfer {number} names no receiving store").format(
                            number=d.display_number
                        )
                    )
            docs.append(
                _Doc(
                    d.id,
                    d.kind,
                    d.store_id,
                    d.to_store_id,
                    d.supplier_id,
                    d.date,
                    lines,
                    d.external_id,
                    d.till,
                    d.return_of,
                )
            )
        poster = _Poster(_allow_negative())
        poster.prepare(docs)
        for doc in docs:
            poster.post(doc)
        if poster.out.shortages:
            _raise_shortages(poster.out.shortages)
        poster.write()
        update_rows(DocumentLine, ("cost", "book_qty"), poster.out.line_updates)
        stamp = now()
        (
            Document.update(state=POSTED, posted_at=stamp, posted_by=by, updated=stamp)
            .where(Document.id.in_(list(doc_ids)))
            .execute()
        )


def _link_supplier(doc: Document) -> int:
    """The supplier a till named by code, once the books know it; refuse until then."""
    supplier = Supplier.get_or_none(Supplier.code == doc.supplier_code)
    if supplier is None:
        raise DocumentStateError(
            _(
                "document {number} names supplier {code}, which the books do not know: "
                "create it (iis supplier import) or choose another supplier first"
            ).format(number=doc.display_number, code=doc.supplier_code)
        )
    Document.update(supplier=supplier.id).where(Document.id == doc.id).execute()
    return supplier.id


def set_supplier(doc_id: int, supplier_id: int) -> None:
    """Choose the supplier of a draft (when the till named one the books do not know)."""
    with write_transaction():
        doc = _load_docs([doc_id])[doc_id]
        if doc.state != DRAFT:
            raise DocumentStateError(
                _("document {number} is {state}; only a draft can be edited").format(
                    number=doc.display_number, state=_(doc.state)
                )
            )
        Document.update(supplier=supplier_id, updated=now()).where(Document.id == doc_id).execute()


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def post_document(doc_id: int, by: str) -> None:
    post_documents([doc_id], by)


def cancel_document(doc_id: int, by: str, reason: str) -> None:
    """Cancel a posted document: write the reverse of each of its moves.

    A reversal that would take a batch below zero (goods received, then sold)
    is refused for operator documents unless the store allows negative stock.
    """
    if not reason.strip():
        raise BooksError(_("a cancellation needs a reason"))
    with write_transaction():
        doc = _load_docs([doc_id])[doc_id]
        if doc.state != POSTED:
            raise DocumentStateError(
                _("document {number} is {state}, only a posted one can be cancelled").format(
                    number=doc.display_number, state=_(doc.state)
                )
            )
        moves = list(
            StockMove.select(
                StockMove.line_id,
                StockMove.store_id,
                StockMove.product_id,
                StockMove.batch_id,
                StockMove.qty,
                StockMove.cost,
            )
            .where(StockMove.document_id == doc_id)
            .tuples()
        )
        stamp = now()
        _reverse_moves(doc, moves, stamp)
        (
            Document.update(
                state=CANCELLED,
                cancelled_at=stamp,
                cancelled_by=by,
                cancel_reason=reason,
                updated=stamp,
            )
            .where(Document.id == doc_id)
            .execute()
        )


def _reverse_moves(doc: Document, moves: list[tuple], stamp: dt.datetime) -> None:
    deltas: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _line_id, store_id, product_id, batch_id, qty, cost in moves:
        delta = deltas[(store_id, batch_id)]
        delta[0] = product_id
        delta[1] -= qty
        delta[2] -= cost
    balances = {
        (s, b): (q, c)
        for s, b, q, c in Balance.select(
            Balance.store_id, Balance.batch_id, Balance.qty, Balance.cost
        )
        .where(Balance.batch_id.in_(list({b for _, b in deltas})))
        .tuples()
    }
    allow = _allow_negative()
    if doc.kind in OPERATOR_KINDS:
        short = [
            _Shortage(store_id, d[0], -d[1], max(balances.get((store_id, batch_id), (0, 0))[0], 0))
            for (store_id, batch_id), d in deltas.items()
            if d[1] < 0
            and balances.get((store_id, batch_id), (0, 0))[0] + d[1] < 0
            and not allow.get(store_id, False)
        ]
        if short:
            _raise_shortages(short)
    insert_rows(
        StockMove,
        _MOVE_COLUMNS,
        [(doc.id, line_id, s, p, b, -q, -c, stamp) for line_id, s, p, b, q, c in moves],
    )
    upsert_rows(
        Balance,
        ("store_id", "product_id", "batch_id", "qty", "cost"),
        ("store_id", "batch_id"),
        ("qty", "cost"),
        [
            (
                s,
                d[0],
                b,
                balances.get((s, b), (0, 0))[0] + d[1],
                balances.get((s, b), (0, 0))[1] + d[2],
            )
            for (s, b), d in deltas.items()
        ],
    )


def reject_draft(doc_id: int, by: str, reason: str) -> None:
    """Turn down a till's draft, with the reason kept on the document."""
    if not reason.strip():
        raise BooksError(_("a rejection needs a reason"))
    with write_transaction():
        doc = _load_docs([doc_id])[doc_id]
        if doc.state != DRAFT:
            raise DocumentStateError(
                _("document {number} is {state}, only a draft can be rejected").format(
                    number=doc.display_number, state=_(doc.state)
                )
            )
        stamp = now()
        (
            Document.update(
                state=REJECTED,
                rejected_at=stamp,
                rejected_by=by,
                reject_reason=reason,
                updated=stamp,
            )
            .where(Document.id == doc_id)
            .execute()
        )


def map_line(line_id: int, product_id: int, by: str) -> None:
    """Match a line the books could not match to goods.

    On a draft it just fills the goods in. On a posted receipt the line waited
    outside the ledger; mapping it posts that line now.
    """
    with write_transaction():
        line = DocumentLine.get_or_none(DocumentLine.id == line_id)
        if line is None:
            raise NotFoundError(_("no document line {id}").format(id=line_id))
        if Product.get_or_none(Product.id == product_id) is None:
            raise NotFoundError(_("no goods with id {id}").format(id=product_id))
        doc = line.document
        if doc.state not in (DRAFT, POSTED):
            raise DocumentStateError(
                _("document {number} is {state}; its lines cannot change").format(
                    number=doc.display_number, state=_(doc.state)
                )
            )
        was_unmatched = line.product_id is None
        if not was_unmatched and doc.state == POSTED:
            raise DocumentStateError(_("that line is already posted to goods"))
        line.product = product_id
        line.unmatched = False
        line.save()
        if was_unmatched:
            Document.update(unmatched=Document.unmatched - 1, updated=now()).where(
                Document.id == doc.id
            ).execute()
        if doc.state == POSTED and doc.kind in STOCK_KINDS:
            poster = _Poster(_allow_negative())
            pending = _Line(
                line.id,
                line.n,
                product_id,
                line.qty,
                line.price,
                _date(line.expiry),
                line.certificate,
            )
            one = _Doc(
                doc.id,
                doc.kind,
                doc.store_id,
                doc.to_store_id,
                doc.supplier_id,
                doc.date,
                [pending],
                doc.external_id,
                doc.till,
                doc.return_of,
            )
            poster.prepare([one])
            poster.post(one)
            if poster.out.shortages:
                _raise_shortages(poster.out.shortages)
            poster.write()
            update_rows(DocumentLine, ("cost", "book_qty"), poster.out.line_updates)


def update_draft_line(
    line_id: int, *, qty: int | None = None, price: int | None = None, by: str = ""
) -> None:
    """Edit a draft's quantity or price before approval; the document total follows.

    The editor and the time are stamped on the document, beside who later posts it.
    """
    with write_transaction():
        line = DocumentLine.get_or_none(DocumentLine.id == line_id)
        if line is None:
            raise NotFoundError(_("no document line {id}").format(id=line_id))
        doc = line.document
        if doc.state != DRAFT:
            raise DocumentStateError(
                _("document {number} is {state}; only a draft can be edited").format(
                    number=doc.display_number, state=_(doc.state)
                )
            )
        if qty is not None:
            if qty < 0:
                raise BooksError(_("a quantity cannot be negative"))
            line.qty = qty
        if price is not None:
            if price < 0:
                raise BooksError(_("a price cannot be negative"))
            line.price = price
        line.sum = line_value(line.qty, line.price) - line.discount
        line.save()
        total = sum(
            ln.sum
            for ln in DocumentLine.select(DocumentLine.sum).where(DocumentLine.document == doc.id)
        )
        Document.update(total=total, edited_by=by, edited_at=now(), updated=now()).where(
            Document.id == doc.id
        ).execute()


__all__ = [
    "DocumentInput",
    "LineInput",
    "cancel_document",
    "create_documents",
    "map_line",
    "post_document",
    "post_documents",
    "reject_draft",
    "set_supplier",
    "update_draft_line",
]
