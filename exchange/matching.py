"""Which goods a till's line names: by product code, by barcode, or by an in-store label.

A till names goods by the IIS product code, by what was scanned, or both. A scanned code
is looked up as it is in the barcode table first (makers' codes and the in-store item
codes IIS issued, prefix 21); failing that, an in-store weight or price label (prefixes
22 and 23 by default) is read by the store's barcode rules and its PLU names the goods.
A line that names nothing known is not dropped: it is kept, flagged unmatched, with the
reason, for the operator to map.

Matching is done for a whole file at once: `preload` reads every code, barcode and PLU the
file names in a few queries, so a file of a thousand receipts costs no query per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exchange.barcode_rules import DEFAULT_RULES, BarcodeError, BarcodeRule, decode
from models.bulk import select_in
from models.i18n import _

__all__ = ["GoodsMatcher", "Match"]


@dataclass(frozen=True, slots=True)
class Match:
    """The goods a line names, or None with the reason it matched nothing."""

    product_id: int | None
    problem: str = ""

    @property
    def matched(self) -> bool:
        return self.product_id is not None


class GoodsMatcher:
    """Matches lines to goods from what `preload` read; never queries per line."""

    def __init__(self, rules: Sequence[BarcodeRule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        self.by_code: dict[str, int] = {}
        self.by_barcode: dict[str, int] = {}
        self.by_plu: dict[int, int] = {}
        self._decoded: dict[str, object] = {}

    def preload(self, names: Iterable[tuple[str | None, str | None]]) -> GoodsMatcher:
        """Read the goods of every (product code, barcode) pair a file names."""
        codes: set[str] = set()
        barcodes: set[str] = set()
        for code, barcode in names:
            if code:
                codes.add(code)
            if barcode:
                barcodes.add(barcode.strip())
        plus: set[int] = set()
        for barcode in barcodes:
            decoded = self._decode(barcode)
            if not isinstance(decoded, str) and decoded is not None and decoded.plu is not None:
                plus.add(decoded.plu)
        self.by_code.update(
            select_in(
                'SELECT "code", "id" FROM "product" WHERE "code" IN ({marks})',
                sorted(codes - set(self.by_code)),
            )
        )
        self.by_barcode.update(
            select_in(
                'SELECT "code", "product_id" FROM "barcode" WHERE "code" IN ({marks})',
                sorted(barcodes - set(self.by_barcode)),
            )
        )
        self.by_plu.update(
            select_in(
                'SELECT "plu", "id" FROM "product" WHERE "plu" IN ({marks})',
                sorted(plus - set(self.by_plu)),
            )
        )
        return self

    def _decode(self, barcode: str):
        """The decoded in-store label, None for other codes, or the text of why it is bad."""
        if barcode not in self._decoded:
            try:
                self._decoded[barcode] = decode(barcode, self.rules)
            except BarcodeError as error:
                self._decoded[barcode] = str(error)
        return self._decoded[barcode]

    def match(self, code: str | None, barcode: str | None) -> Match:
        """The goods of one line: by code, else by barcode, else by an in-store label's PLU."""
        if code and code in self.by_code:
            return Match(self.by_code[code])
        problems: list[str] = []
        if code:
            problems.append(_("no goods with code {code}").format(code=code))
        if barcode:
            scanned = barcode.strip()
            if scanned in self.by_barcode:
                return Match(self.by_barcode[scanned])
            decoded = self._decode(scanned)
            if isinstance(decoded, str):
                problems.append(decoded)
            elif decoded is not None and decoded.kind in ("weight", "price"):
                if decoded.plu in self.by_plu:
                    return Match(self.by_plu[decoded.plu])
                problems.append(
                    _("no goods with PLU {plu} (barcode {barcode})").format(
                        plu=decoded.plu, barcode=scanned
                    )
                )
            elif decoded is not None and decoded.kind == "identifier":
                problems.append(
                    _("barcode {barcode} is a card or key identifier, not goods").format(
                        barcode=scanned
                    )
                )
            else:
                problems.append(_("no goods with barcode {barcode}").format(barcode=scanned))
        return Match(None, "; ".join(problems))
