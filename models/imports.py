"""Loading goods, suppliers and customers from spreadsheets saved as CSV.

Shops keep their catalogue and counterparties in Excel or LibreOffice; a CSV
saved from either is what the operator hands us. So the reader accepts what
those programs write: `,` or `;` (or tab) as the delimiter, guessed from the
header line (a Russian Excel writes `;` because `,` is its decimal sign), a
UTF-8 byte-order mark, Windows-1251 when the file is not UTF-8, and prices
written with a decimal comma ("49,90").

The import follows the rule of a ledger people trust: every bad row is named
by its line with a reason, and every good row still loads. The first line is
the header; a column the file does not have is left as it is on products and
parties that already exist (and takes its default on new ones), while an
empty cell in a column the file has means "empty" (no group, no barcodes...),
except an empty price, which leaves the price alone.

Work is in bulk: what exists is read once into dicts, rows are checked
against them in memory, and the writes are prepared statements run with
`executemany` (models.bulk), so 100,000 rows cost a handful of statements and
a few seconds, not a query each.
The whole file is one transaction: it loads entirely (minus the refused
rows) or not at all.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import Field, Model

from models.bulk import allocate_ids, chunked, insert_rows, update_rows, upsert_rows
from models.catalog import UNITS, VAT_RATES, Barcode, Manufacturer, Price, Product, ProductGroup
from models.db import write_transaction
from models.ean import barcode_problem
from models.errors import BooksError
from models.i18n import _
from models.money import AmountError, kopecks
from models.org import Store, default_store, now
from models.parties import Bank, Customer, Party, PartyGroup, Supplier
from models.trees import TreeNode
from models.validation import party_problems

Source = str | os.PathLike[str] | Iterable[str]

CATALOG_COLUMNS = (
    "code",
    "name",
    "group",
    "unit",
    "price",
    "vat",
    "barcodes",
    "weighed",
    "excise",
    "age_limit",
    "plu",
    "expiry_control",
    "manufacturer",
)
PARTY_COLUMNS = (
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
REQUIRED_COLUMNS = ("code", "name")

#: Unit names as Russian spreadsheets (and 1C exports) write them.
UNIT_ALIASES = {"шт": "pcs", "кг": "kg", "л": "l", "м": "m", "уп": "pack", "упак": "pack"}
_TRUE = frozenset({"1", "y", "yes", "true", "+", "x", "да", "д"})
_FALSE = frozenset({"", "0", "n", "no", "false", "-", "нет", "н"})
_VAT_ALIASES = {"без ндс": "none", "без": "none"}
MAX_PLU = 99999  # in-store weight and price barcodes carry a 5-digit PLU
MAX_AGE_LIMIT = 99


class ImportFileError(BooksError):
    """The file as a whole cannot be read (missing, empty, unknown header)."""


@dataclass
class ImportResult:
    """What one import did: counts, and each refused row as (line, reason)."""

    created: int = 0
    updated: int = 0
    #: Known rows that said nothing new: left untouched, so the tills' next
    #: incremental load does not resend them.
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.problems)

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged


# --- reading the file -------------------------------------------------------------


def _read_text(source: Source) -> str:
    """The whole text of a path, or of lines already in memory, without a BOM."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImportFileError(
                _("cannot read {path}: {reason}").format(path=path, reason=error.strerror)
            ) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1251", errors="replace")
    else:
        text = "\n".join(line.rstrip("\r\n") for line in source)
    return text.removeprefix("\ufeff")


def _sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most: `;`, tab or `,`."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    source: Source, known: Sequence[str]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str], list[str]]]]:
    """The header's columns and the data rows as (line, cells by column, problems).

    Unknown or repeated column names refuse the whole file: a misspelt
    "prise" would otherwise drop every price without a word.
    """
    text = _read_text(source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    header: list[str] | None = None
    header_line = 0
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower().removeprefix("\ufeff") for cell in row]
            header_line = reader.line_num
            break
    if header is None:
        raise ImportFileError(_("the file is empty: the first line must name the columns"))
    unknown = [name for name in header if name and name not in known]
    if unknown:
        raise ImportFileError(
            _("unknown columns {unknown} on line {line}; known columns: {known}").format(
                unknown=", ".join(unknown), line=header_line, known=", ".join(known)
            )
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ImportFileError(_("columns named twice: {names}").format(names=", ".join(repeated)))
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(
            _("the header has no column {names}").format(names=", ".join(missing))
        )

    def rows() -> Iterator[tuple[int, dict[str, str], list[str]]]:
        previous = reader.line_num
        for row in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            problems = []
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
                problems.append(
                    _("{cells} cells where the header has {columns} columns").format(
                        cells=len(row), columns=len(header)
                    )
                )
            cells = {
                name: (row[i].strip() if i < len(row) else "")
                for i, name in enumerate(header)
                if name
            }
            yield line, cells, problems

    return header, rows()


# --- cells -----------------------------------------------------------------------


def parse_money(text: str) -> int:
    """Kopecks from a spreadsheet amount: "49.90", "49,90", "1 234,50".

    Raises AmountError for anything that is not a non-negative amount exact
    to the kopeck.
    """
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    value = kopecks(cleaned)
    if value < 0:
        raise AmountError(text)
    return value


def _parse_bool(text: str, column: str) -> tuple[bool, str | None]:
    value = text.lower()
    if value in _TRUE:
        return True, None
    if value in _FALSE:
        return False, None
    return False, _("{column} must be yes or no, not {value}").format(column=column, value=text)


def _parse_int(text: str, column: str, low: int, high: int) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        return None, _("{column} must be a whole number from {low} to {high}, not {value}").format(
            column=column, low=low, high=high, value=text
        )
    return int(text), None


def split_path(text: str) -> tuple[str, ...]:
    """A group path "Food/Dairy/Milk" as its names, blanks dropped."""
    return tuple(part.strip() for part in text.split("/") if part.strip())


def split_barcodes(text: str) -> list[str]:
    """Barcodes separated by spaces (or commas), in order, without repeats."""
    codes = text.replace(",", " ").replace(";", " ").split()
    return list(dict.fromkeys(codes))


# --- trees and look-up tables -----------------------------------------------------


class GroupTree:
    """A group tree held in memory for an import: names from the root to node ids.

    Names match case-insensitively, so "Dairy" and "dairy" under the same parent
    are one group. A missing group is created (with the code "G<id>") the first
    time a path needs it, and only then: a refused row creates nothing.
    """

    def __init__(self, model: type[TreeNode], kind: str | None = None):
        self.model = model
        self.kind = kind
        self.codes: set[str] = set()
        self.nodes: dict[int, TreeNode] = {}
        self.children: dict[tuple[int | None, str], int] = {}
        self.created = 0
        for node in model.select().order_by(model.id):
            self.codes.add(node.code)
            if kind is not None and getattr(node, "kind", kind) != kind:
                continue
            self.nodes[node.id] = node
            key = (node.parent_id, node.name.casefold())
            self.children.setdefault(key, node.id)

    def find(self, parts: Sequence[str]) -> int | None:
        """The id of the group at `parts`, or None when it does not exist."""
        parent: int | None = None
        for name in parts:
            found = self.children.get((parent, name.casefold()))
            if found is None:
                return None
            parent = found
        return parent

    def resolve(self, parts: Sequence[str]) -> int | None:
        """The id of the group at `parts`, creating what is missing; None for no group."""
        parent: int | None = None
        for name in parts:
            key = (parent, name.casefold())
            if key not in self.children:
                self.children[key] = self._create(name, parent)
            parent = self.children[key]
        return parent

    def _create(self, name: str, parent_id: int | None) -> int:
        parent = self.nodes[parent_id] if parent_id is not None else None
        node = self.model.create_node(f"new-{uuid.uuid4().hex}", name, parent)
        code = f"G{node.id}"
        suffix = 1
        while code in self.codes:
            suffix += 1
            code = f"G{node.id}-{suffix}"
        changes: dict[str, Any] = {"code": code}
        if self.kind is not None:
            changes["kind"] = self.kind
        self.model.update(**changes).where(self.model.id == node.id).execute()
        node.code = code
        self.codes.add(code)
        self.nodes[node.id] = node
        self.created += 1
        return node.id

    def full_paths(self) -> dict[int, str]:
        """Every node's full path, "Food/Dairy/Milk", by id."""
        out = {}
        for node_id, node in self.nodes.items():
            ids = [int(part) for part in node.path.strip("/").split("/") if part]
            out[node_id] = "/".join(self.nodes[i].name for i in ids if i in self.nodes)
        return out


def _default(model_field: Field) -> Any:
    default = model_field.default
    return default() if callable(default) else default


def write_cards(
    model: type[Model], rows: list[dict[str, Any]], existing: dict[str, int]
) -> dict[str, int]:
    """Insert the rows whose code is new, update the others; return every id by code.

    One prepared statement each (`executemany`): peewee's `insert_many` spends
    most of a big import building SQL text. New rows take the model's defaults
    for the columns the file lacks; existing rows change only the columns given.
    All rows carry the same keys, field names of `model`.
    """
    ids = dict(existing)
    if not rows:
        return ids
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    new = [row for row in rows if row["code"] not in existing]
    old = [row for row in rows if row["code"] in existing]
    if new:
        defaults = {f.name: _default(f) for f in fields if f.name not in new[0]}
        data = []
        for row_id, row in zip(allocate_ids(model, len(new)), new, strict=True):
            data.append((row_id, *(row.get(f.name, defaults.get(f.name)) for f in fields)))
            ids[row["code"]] = row_id
        insert_rows(model, ["id", *(f.column_name for f in fields)], data)
    if old:
        names = [name for name in old[0] if name != "code"]
        update_rows(
            model,
            [model._meta.fields[name].column_name for name in names],
            [(existing[row["code"]], *(row[name] for name in names)) for row in old],
        )
    return ids


# --- the catalog ------------------------------------------------------------------


@dataclass
class _ProductRow:
    line: int
    code: str
    values: dict[str, Any]
    group: tuple[str, ...] | None = None
    manufacturer: str | None = None
    barcodes: list[str] | None = None
    price: int | None = None


class _CatalogImport:
    """One catalog file against the books: the state a row is checked against."""

    def __init__(self, columns: list[str], store: Store):
        self.columns = set(columns)
        self.store = store
        self.existing: dict[str, dict[str, Any]] = {
            row["code"]: row
            for row in Product.select(
                Product.id, Product.code, Product.name, Product.group, Product.unit,
                Product.weighed, Product.vat, Product.excise, Product.age_limit,
                Product.expiry_control, Product.plu, Product.manufacturer, Product.deleted,
            ).dicts()
        }  # fmt: skip
        self.prices: dict[int, int] = dict(
            Price.select(Price.product_id, Price.price).where(Price.store == store).tuples()
        )
        self.plu_owner = {row["plu"]: code for code, row in self.existing.items() if row["plu"]}
        self.barcode_owner: dict[str, str] = {}
        self.barcodes_of: dict[str, set[str]] = {}
        query = Barcode.select(Barcode.code, Product.code).join(Product).tuples()
        for barcode, product in query:
            self.barcode_owner[barcode] = product
            self.barcodes_of.setdefault(product, set()).add(barcode)
        self.seen: dict[str, int] = {}
        self.original_barcodes = {code: set(codes) for code, codes in self.barcodes_of.items()}

    def changed(self, row: _ProductRow) -> bool:
        """Whether writing `row` would change anything the books hold."""
        old = self.existing.get(row.code)
        if old is None or old["deleted"]:
            return True
        if any(old.get(key) != value for key, value in row.values.items() if key != "code"):
            return True
        if row.barcodes is not None and set(row.barcodes) != self.original_barcodes.get(
            row.code, set()
        ):
            return True
        return row.price is not None and row.price != self.prices.get(old["id"])

    def check(self, line: int, cells: dict[str, str], problems: list[str]) -> _ProductRow | None:
        """The row ready to write, or None after adding its problems to `problems`."""
        code, name = cells["code"], cells["name"]
        if not code:
            problems.append(_("no product code"))
        elif code in self.seen:
            problems.append(
                _("product {code} is already on line {line}").format(
                    code=code, line=self.seen[code]
                )
            )
        else:
            self.seen[code] = line
        if not name:
            problems.append(_("no product name"))
        row = _ProductRow(line, code, {"code": code, "name": name})
        old = self.existing.get(code, {})
        unit = old.get("unit", "pcs")
        weighed = old.get("weighed", False)
        if "unit" in self.columns:
            text = cells["unit"].lower() or "pcs"
            unit = UNIT_ALIASES.get(text, text)
            if unit not in UNITS:
                problems.append(
                    _("unknown unit {unit}; known units: {known}").format(
                        unit=cells["unit"], known=", ".join(UNITS)
                    )
                )
            row.values["unit"] = unit
        if "vat" in self.columns:
            text = cells["vat"].lower().removesuffix("%").strip() or "20"
            vat = _VAT_ALIASES.get(text, text)
            if vat not in VAT_RATES:
                problems.append(
                    _("unknown VAT rate {vat}; known rates: {known}").format(
                        vat=cells["vat"], known=", ".join(VAT_RATES)
                    )
                )
            row.values["vat"] = vat
        if "price" in self.columns and cells["price"]:
            try:
                row.price = parse_money(cells["price"])
            except AmountError:
                problems.append(
                    _("bad price {price}: need an amount such as 49.90").format(
                        price=cells["price"]
                    )
                )
        for column in ("weighed", "excise", "expiry_control"):
            if column in self.columns:
                value, problem = _parse_bool(cells[column], column)
                row.values[column] = value
                if problem:
                    problems.append(problem)
        weighed = row.values.get("weighed", weighed)
        if weighed and unit != "kg":
            problems.append(_("a weighed good must be sold in kg, not {unit}").format(unit=unit))
        if "age_limit" in self.columns:
            age, problem = _parse_int(cells["age_limit"], "age_limit", 0, MAX_AGE_LIMIT)
            row.values["age_limit"] = age or 0
            if problem:
                problems.append(problem)
        if "plu" in self.columns:
            plu, problem = _parse_int(cells["plu"], "plu", 1, MAX_PLU)
            owner = self.plu_owner.get(plu) if plu else None
            if problem:
                problems.append(problem)
            elif owner is not None and owner != code:
                problems.append(
                    _("PLU {plu} already belongs to product {other}").format(plu=plu, other=owner)
                )
            row.values["plu"] = plu
        if "group" in self.columns:
            row.group = split_path(cells["group"])
        if "manufacturer" in self.columns:
            row.manufacturer = cells["manufacturer"]
        if "barcodes" in self.columns:
            row.barcodes = split_barcodes(cells["barcodes"])
            for barcode in row.barcodes:
                problem = barcode_problem(barcode)
                owner = self.barcode_owner.get(barcode)
                if problem:
                    problems.append(problem)
                elif owner is not None and owner != code:
                    problems.append(
                        _("barcode {barcode} already belongs to product {other}").format(
                            barcode=barcode, other=owner
                        )
                    )
        if problems:
            return None
        self._claim(row)
        return row

    def _claim(self, row: _ProductRow) -> None:
        """Hand the row's PLU and barcodes to its product, releasing its old ones."""
        code = row.code
        if "plu" in row.values:
            old_plu = self.existing.get(code, {}).get("plu")
            if old_plu and self.plu_owner.get(old_plu) == code:
                del self.plu_owner[old_plu]
            if row.values["plu"]:
                self.plu_owner[row.values["plu"]] = code
        if row.barcodes is not None:
            for barcode in self.barcodes_of.get(code, set()):
                if self.barcode_owner.get(barcode) == code:
                    del self.barcode_owner[barcode]
            self.barcodes_of[code] = set(row.barcodes)
            for barcode in row.barcodes:
                self.barcode_owner[barcode] = code

    def write(self, rows: list[_ProductRow]) -> None:
        """Write the accepted rows: groups, manufacturers, products, barcodes, prices."""
        stamp = now()
        if "group" in self.columns:
            tree = GroupTree(ProductGroup)
            for row in rows:
                row.values["group"] = tree.resolve(row.group) if row.group else None
        if "manufacturer" in self.columns:
            makers = _manufacturer_ids([row.manufacturer for row in rows if row.manufacturer])
            for row in rows:
                name = row.manufacturer
                row.values["manufacturer"] = makers[name.casefold()] if name else None
        self.unchanged = [row for row in rows if not self.changed(row)]
        rows = [row for row in rows if self.changed(row)]
        if "plu" in self.columns:
            self._free_changed_plus(rows)
        for row in rows:
            row.values["deleted"] = False
            row.values["updated"] = stamp
        existing = {code: old["id"] for code, old in self.existing.items()}
        ids = write_cards(Product, [row.values for row in rows], existing)
        if "barcodes" in self.columns:
            old_ids = [ids[row.code] for row in rows if row.code in self.existing]
            for chunk in chunked(old_ids):
                Barcode.delete().where(Barcode.product.in_(chunk)).execute()
            insert_rows(
                Barcode,
                ["code", "product_id"],
                [(barcode, ids[row.code]) for row in rows for barcode in row.barcodes or ()],
            )
        upsert_rows(
            Price,
            ["store_id", "product_id", "price", "updated"],
            ["store_id", "product_id"],
            ["price", "updated"],
            [
                (self.store.id, ids[row.code], row.price, stamp)
                for row in rows
                if row.price is not None
            ],
        )

    def _free_changed_plus(self, rows: list[_ProductRow]) -> None:
        """Clear the old PLUs that change hands, so the bulk write never meets them twice."""
        changing = [
            self.existing[row.code]["id"]
            for row in rows
            if row.code in self.existing
            and self.existing[row.code]["plu"] is not None
            and self.existing[row.code]["plu"] != row.values["plu"]
        ]
        for chunk in chunked(changing):
            Product.update(plu=None).where(Product.id.in_(chunk)).execute()


def _manufacturer_ids(names: Iterable[str]) -> dict[str, int]:
    """Manufacturer ids by case-folded name, creating the ones not met before."""
    ids = {
        name.casefold(): mid
        for mid, name in Manufacturer.select(Manufacturer.id, Manufacturer.name).tuples()
    }
    missing: dict[str, str] = {}
    for name in names:
        if name.casefold() not in ids:
            missing.setdefault(name.casefold(), name)
    for chunk in chunked(list(missing.values())):
        Manufacturer.insert_many([{"name": name} for name in chunk]).execute()
    if missing:
        for mid, name in Manufacturer.select(Manufacturer.id, Manufacturer.name).tuples():
            ids.setdefault(name.casefold(), mid)
    return ids


def import_catalog(source: Source, store: Store | None = None) -> ImportResult:
    """Load goods from a CSV into the books, prices into `store` (default: the default store).

    `source` is a path (str or Path) or the file's lines already in memory.

    Columns: code, name, group (a path such as "Food/Dairy/Milk"), unit, price,
    vat, barcodes (space-separated), and optionally weighed, excise, age_limit,
    plu, expiry_control, manufacturer. A product is found by its code: a new
    code creates one, a known code updates it, replaces its set of barcodes and
    its price in the store. Raises ImportFileError when the file cannot be read
    at all.
    """
    result = ImportResult()
    with write_transaction():
        store = store or default_store()
        columns, rows = read_csv(source, CATALOG_COLUMNS)
        work = _CatalogImport(columns, store)
        accepted: list[_ProductRow] = []
        for line, cells, problems in rows:
            row = work.check(line, cells, problems)
            if row is None:
                result.problems.append((line, "; ".join(problems)))
            else:
                accepted.append(row)
        work.write(accepted)
    result.created = sum(1 for row in accepted if row.code not in work.existing)
    result.unchanged = len(work.unchanged)
    result.updated = len(accepted) - result.created - result.unchanged
    return result


# --- suppliers and customers ------------------------------------------------------


def _import_parties(source: Source, model: type[Party], kind: str) -> ImportResult:
    result = ImportResult()
    with write_transaction():
        columns, rows = read_csv(source, PARTY_COLUMNS)
        present = set(columns)
        bik_of = dict(Bank.select(Bank.id, Bank.bik).tuples())
        existing = {
            row["code"]: row
            for row in model.select(
                model.id, model.code, model.inn, model.kpp, model.bank, model.account, model.email
            ).dicts()
        }
        seen: dict[str, int] = {}
        accepted: list[tuple[dict[str, Any], tuple[str, ...] | None, str | None]] = []
        for line, cells, problems in rows:
            code, name = cells["code"], cells["name"]
            if not code:
                problems.append(_("no code"))
            elif code in seen:
                problems.append(
                    _("code {code} is already on line {line}").format(code=code, line=seen[code])
                )
            else:
                seen[code] = line
            if not name:
                problems.append(_("no name"))
            old = existing.get(code, {})
            card = {
                "inn": old.get("inn", ""),
                "kpp": old.get("kpp", ""),
                "bank_bik": bik_of.get(old.get("bank"), ""),
                "account": old.get("account", ""),
                "email": old.get("email", ""),
            }
            card.update({key: cells[key] for key in card if key in present})
            problems.extend(
                party_problems(
                    card["inn"], card["kpp"], card["bank_bik"], card["account"], card["email"]
                )
            )
            if problems:
                result.problems.append((line, "; ".join(problems)))
                continue
            values: dict[str, Any] = {"code": code, "name": name}
            for key in ("inn", "kpp", "account", "phone", "email", "address"):
                if key in present:
                    values[key] = cells[key]
            group = split_path(cells["group"]) if "group" in present else None
            bik = cells["bank_bik"] if "bank_bik" in present else None
            accepted.append((values, group, bik))

        stamp = now()
        tree = GroupTree(PartyGroup, kind) if "group" in present else None
        bank_ids = _bank_ids([bik for _values, _group, bik in accepted if bik])
        for values, group, bik in accepted:
            if tree is not None:
                values["group"] = tree.resolve(group) if group else None
            if bik is not None:
                values["bank"] = bank_ids[bik] if bik else None
            values["updated"] = stamp
        records = [values for values, _group, _bik in accepted]
        write_cards(model, records, {code: old["id"] for code, old in existing.items()})
    result.created = sum(1 for values in records if values["code"] not in existing)
    result.updated = len(records) - result.created
    return result


def _bank_ids(biks: Iterable[str]) -> dict[str, int]:
    """Bank ids by BIK, creating a bank row for a BIK not met before."""
    ids = {bik: bid for bid, bik in Bank.select(Bank.id, Bank.bik).tuples()}
    missing = sorted(set(biks) - set(ids))
    for chunk in chunked(missing):
        Bank.insert_many([{"bik": bik} for bik in chunk]).execute()
    if missing:
        ids = {bik: bid for bid, bik in Bank.select(Bank.id, Bank.bik).tuples()}
    return ids


def import_suppliers(source: Source) -> ImportResult:
    """Load suppliers from a CSV (path or lines); columns as `PARTY_COLUMNS`.

    Requisites are checked (INN, KPP, BIK, account against the BIK, e-mail);
    the group path lands in the suppliers' tree, a new BIK creates its bank.
    """
    return _import_parties(source, Supplier, "supplier")


def import_customers(source: Source) -> ImportResult:
    """Load customers from a CSV (path or lines), as `import_suppliers` does suppliers."""
    return _import_parties(source, Customer, "customer")
