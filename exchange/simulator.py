"""A PrimePOS-ShopV2 till, written from the exchange contract alone.

It exists so that the back office can be seen and tested working against a till that
knows nothing of IIS's insides: it speaks FTP (the standard library's `ftplib`, passive
mode) and the ShopV2 files (the codec), and keeps its own small state in its work
folder, as a real till keeps its own database. It never imports the books.

Each `step()` is one round of a till's life: download what waits in `/to_pos/` in
sequence order, apply it (a full load replaces, a delta merges), delete it (the
acknowledgement), then upload one file of its own: mostly `sales`, now and then
`drafts` or `baskets`, and a `status` heartbeat when one is due. Uploads go under a
`.part` name and are renamed when whole; a `legacy` till uploads the final name
directly, as the older tills that cannot rename do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ftplib
import io
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from exchange.shopv2 import file_name, parse_file, parse_name, write_file

__all__ = ["StepResult", "TillSimulator", "weight_barcode"]

logger = logging.getLogger("iis.exchange.simulator")

#: Kinds a till receives, with the record type that holds each kind's items.
_RECEIVED = {
    "catalog": ("product", "group"),
    "staff": ("employee",),
    "customers": ("customer",),
    "messages": ("message",),
    "stats": ("stat",),
}
VERSION = "ShopV2 4.8.1 (simulator)"
STATUS_EVERY = 60.0
_CENT = Decimal("0.01")


def _ean_check(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def weight_barcode(plu: int, grams: int) -> str:
    """The in-store EAN-13 of a weighed good: `22` + PLU (5) + grams (5) + check digit."""
    first12 = f"22{plu:05d}{grams:05d}"
    return first12 + _ean_check(first12)


def _money(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):.2f}"


def _line_sum(qty: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    """qty x price - discount, rounded half up to kopecks: the receipt rule."""
    return (qty * price - discount).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass
class StepResult:
    """What one round did: files applied (and deleted), and the file uploaded."""

    applied: list[str] = field(default_factory=list)
    uploaded: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class _State:
    """The till's own memory, kept in `state.json` in its work folder."""

    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    staff: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    shift: int = 1
    number: int = 0
    drafts: int = 0
    baskets: int = 0
    recent: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> _State:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        state = cls()
        for key, value in data.items():
            if hasattr(state, key):
                setattr(state, key, value)
        return state

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)


class TillSimulator:
    """One simulated till: its FTP login, its store, its work folder and its dice.

    `seed` makes its receipts reproducible. `legacy=True` uploads under the final name
    with no rename. `kinds` weighs what `step()` uploads besides the heartbeat.
    """

    def __init__(
        self,
        host: str,
        port: int,
        till: str,
        password: str,
        store: str,
        work_dir: Path | str,
        seed: int | None = None,
        *,
        legacy: bool = False,
        timeout: float = 10.0,
        weights: dict[str, int] | None = None,
        status_every: float = STATUS_EVERY,
        supplier: str = "SUP1",
    ) -> None:
        self.host = host
        self.port = port
        self.till = till
        self.password = password
        self.store = store
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(seed)
        self.legacy = legacy
        self.timeout = timeout
        self.weights = weights or {"sales": 85, "drafts": 8, "baskets": 7}
        self.status_every = status_every
        self.supplier = supplier
        self._state_path = self.work_dir / "state.json"
        self.state = _State.load(self._state_path)
        self._last_status = 0.0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.errors: list[str] = []

    # -- what the till knows ------------------------------------------------------------

    @property
    def catalog(self) -> dict[str, dict[str, Any]]:
        return self.state.catalog

    @property
    def staff(self) -> dict[str, dict[str, Any]]:
        return self.state.staff

    @property
    def customers(self) -> dict[str, dict[str, Any]]:
        return self.state.customers

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        return self.state.messages

    @property
    def applied(self) -> dict[str, int]:
        return self.state.applied

    # -- the FTP session --------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self):
        """A logged-in passive FTP session, closed (QUIT) afterwards."""
        ftp = ftplib.FTP(timeout=self.timeout)
        ftp.connect(self.host, self.port)
        try:
            ftp.login(self.till, self.password)
            ftp.set_pasv(True)
            yield ftp
        finally:
            try:
                ftp.quit()
            except (OSError, EOFError, ftplib.Error):
                ftp.close()

    # -- one round ------------------------------------------------------------------------------

    def step(self, kind: str | None = None) -> StepResult:
        """Pull and apply what waits, then push one file (`kind`, or one chosen by the dice).

        `kind="none"` only pulls.
        """
        result = StepResult()
        with self.session() as ftp:
            result.applied = self.pull(ftp, result.errors)
            if kind != "none":
                chosen = kind or self._choose_kind()
                result.uploaded = self.push(ftp, chosen)
        self.state.save(self._state_path)
        return result

    def pull(self, ftp: ftplib.FTP, errors: list[str] | None = None) -> list[str]:
        """Download `/to_pos/` files in sequence order, apply each, delete it."""
        try:
            names = ftp.nlst("to_pos")
        except ftplib.error_perm:
            names = []
        files = []
        for name in names:
            base = name.rsplit("/", 1)[-1]
            parsed = parse_name(base)
            if parsed is None or parsed.incoming or parsed.kind not in _RECEIVED:
                continue
            files.append((parsed.kind, parsed.seq, base))
        applied: list[str] = []
        for kind, seq, base in sorted(files):
            buffer = io.BytesIO()
            ftp.retrbinary(f"RETR to_pos/{base}", buffer.write)
            try:
                parsed_file = parse_file(buffer.getvalue())
            except ValueError as error:
                message = f"{base}: {error}"
                logger.warning("till %s cannot apply %s", self.till, message)
                (errors if errors is not None else self.errors).append(message)
                continue
            if seq > self.state.applied.get(kind, 0):
                self._apply(kind, parsed_file.header.mode, parsed_file.records)
                self.state.applied[kind] = seq
            ftp.delete(f"to_pos/{base}")
            applied.append(base)
        return applied

    def _apply(self, kind: str, mode: str | None, records) -> None:
        """A full load replaces the kind's set; a delta merges, `deleted` removing."""
        state = self.state
        if kind == "catalog":
            if mode == "full":
                state.catalog, state.groups, state.rules = {}, {}, []
            for record in records:
                data = record.data
                if record.type == "product":
                    if data.get("deleted"):
                        state.catalog.pop(data["code"], None)
                    else:
                        state.catalog[data["code"]] = data
                elif record.type == "group":
                    state.groups[data["code"]] = data
                elif record.type == "barcode_rule":
                    state.rules.append(data)
            return
        target = {
            "staff": state.staff,
            "customers": state.customers,
            "messages": state.messages,
        }.get(kind)
        if kind == "stats":
            if mode == "full":
                state.stats = {}
            for record in records:
                data = record.data
                key = f"{data['period']}|{data.get('product', '*')}"
                state.stats[key] = data
            return
        if target is None:
            return
        if mode == "full":
            target.clear()
        for record in records:
            data = record.data
            key = data.get("code") or data.get("id")
            if data.get("deleted"):
                target.pop(key, None)
            else:
                target[key] = data

    # -- uploads ----------------------------------------------------------------------------------

    def _choose_kind(self) -> str:
        if time.monotonic() - self._last_status >= self.status_every:
            return "status"
        kinds = list(self.weights)
        return self.rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]

    def push(self, ftp: ftplib.FTP, kind: str) -> str | None:
        """Build one file of `kind` and upload it; None when there is nothing to send."""
        records = self.records(kind)
        if not records:
            return None
        seq = self.state.sent.get(kind, 0) + 1
        data = write_file(kind, self.till, self.store, seq, records)
        name = file_name(kind, seq, self.till)
        self.upload(ftp, name, data)
        self.state.sent[kind] = seq
        if kind == "status":
            self._last_status = time.monotonic()
        return name

    def upload(self, ftp: ftplib.FTP, name: str, data: bytes) -> None:
        """Upload as `name.part` then rename, or straight to `name` for a legacy till."""
        if self.legacy:
            ftp.storbinary(f"STOR from_pos/{name}", io.BytesIO(data))
            return
        ftp.storbinary(f"STOR from_pos/{name}.part", io.BytesIO(data))
        ftp.rename(f"from_pos/{name}.part", f"from_pos/{name}")

    def records(self, kind: str) -> list[dict[str, Any]]:
        """The records of one file of `kind` the till would send now."""
        if kind == "sales":
            count = self.rng.randint(1, 5)
            return [r for r in (self.receipt() for _ in range(count)) if r is not None]
        if kind == "drafts":
            draft = self.draft()
            return [draft] if draft else []
        if kind == "baskets":
            basket = self.basket()
            return [basket] if basket else []
        if kind == "status":
            return [self.status()]
        raise ValueError(f"a till does not send {kind!r}")

    # -- what a till writes -------------------------------------------------------------------

    @staticmethod
    def _now() -> dt.datetime:
        return dt.datetime.now().astimezone().replace(microsecond=0)

    def _cashier(self) -> str:
        active = sorted(
            code
            for code, e in self.state.staff.items()
            if e.get("active", True) and e.get("role") in ("cashier", "manager", "admin")
        )
        return active[0] if active else "C01"

    def _sellable(self) -> list[dict[str, Any]]:
        return [
            p
            for code, p in sorted(self.state.catalog.items())
            if p.get("price") and not p.get("deleted")
        ]

    def _line(self, n: int, product: dict[str, Any]) -> dict[str, Any]:
        price = Decimal(product["price"])
        code: str | None = product["code"]
        barcode: str | None = None
        if product.get("weighed") and product.get("plu") is not None:
            grams = self.rng.randint(100, 2500)
            qty = Decimal(grams) / 1000
            barcode = weight_barcode(int(product["plu"]), grams)
            if self.rng.random() < 0.5:
                code = None
            qty_text = f"{qty:.3f}"
        else:
            qty = Decimal(self.rng.choice((1, 1, 1, 2, 3)))
            barcodes = product.get("barcodes") or []
            if barcodes and self.rng.random() < 0.6:
                barcode = self.rng.choice(barcodes)
                if self.rng.random() < 0.5:
                    code = None
            qty_text = str(qty)
        discount = Decimal("0.00")
        if self.rng.random() < 0.15:
            discount = (qty * price * Decimal("0.05")).quantize(_CENT, rounding=ROUND_HALF_UP)
        total = _line_sum(qty, price, discount)
        return {
            "n": n,
            "product": code,
            "barcode": barcode,
            "qty": qty_text,
            "price": _money(price),
            "discount": _money(discount),
            "sum": _money(total),
            "department": 1,
            "mark": f"MARK{self.rng.randrange(10**12):012d}" if product.get("excise") else None,
        }

    def receipt(self) -> dict[str, Any] | None:
        """A closed receipt: a sale of 1-5 lines, or now and then a return of a recent sale."""
        goods = self._sellable()
        if not goods:
            return None
        self.state.number += 1
        number = self.state.number
        closed = self._now()
        opened = closed - dt.timedelta(seconds=self.rng.randint(10, 120))
        base: dict[str, Any] = {
            "type": "receipt",
            "id": f"{self.till}-{self.state.shift}-{number}",
            "shift": self.state.shift,
            "number": number,
            "opened": opened,
            "closed": closed,
            "cashier": self._cashier(),
            "seller": None,
            "card": None,
        }
        if self.state.recent and self.rng.random() < 0.08:
            sold = self.state.recent.pop(self.rng.randrange(len(self.state.recent)))
            lines = sold["lines"]
            total = sum((Decimal(line["sum"]) for line in lines), Decimal("0.00"))
            return {
                **base,
                "op": "return",
                "return_of": sold["id"],
                "lines": lines,
                "payments": [{"method": "cash", "amount": _money(total), "change": "0.00"}],
                "bonus": {"earned": "0.00", "redeemed": "0.00"},
                "total": _money(total),
            }
        lines = [
            self._line(n, self.rng.choice(goods)) for n in range(1, self.rng.randint(1, 5) + 1)
        ]
        total = sum((Decimal(line["sum"]) for line in lines), Decimal("0.00"))
        if self.rng.random() < 0.5:
            tendered = total
            for step in (Decimal(10), Decimal(50), Decimal(100), Decimal(500), Decimal(1000)):
                if self.rng.random() < 0.5:
                    tendered = (total / step).to_integral_value(rounding=ROUND_CEILING) * step
                    break
            payments = [
                {"method": "cash", "amount": _money(tendered), "change": _money(tendered - total)}
            ]
        else:
            payments = [{"method": "card", "amount": _money(total), "change": "0.00"}]
        receipt = {
            **base,
            "op": "sale",
            "lines": lines,
            "payments": payments,
            "bonus": {"earned": "0.00", "redeemed": "0.00"},
            "total": _money(total),
        }
        self.state.recent = [*self.state.recent[-19:], {"id": receipt["id"], "lines": lines}]
        return receipt

    def draft(self) -> dict[str, Any] | None:
        """An incoming invoice, a write-off or a count, drafted for the back office."""
        goods = self._sellable()
        if not goods:
            return None
        self.state.drafts += 1
        picked = self.rng.sample(goods, min(len(goods), self.rng.randint(1, 4)))
        doc = self.rng.choice(("incoming", "incoming", "writeoff", "inventory"))
        base: dict[str, Any] = {
            "type": "draft",
            "id": f"{self.till}-D-{self.state.drafts}",
            "doc": doc,
            "created": self._now(),
            "author": self._cashier(),
            "comment": "",
        }

        def qty(product: dict[str, Any], low: int, high: int) -> str:
            if product.get("weighed"):
                return f"{Decimal(self.rng.randint(low * 1000, high * 1000)) / 1000:.3f}"
            return str(self.rng.randint(low, high))

        if doc == "incoming":
            today = dt.date.today()
            lines = []
            for p in picked:
                cost = (Decimal(p["price"]) * Decimal("0.7")).quantize(_CENT, ROUND_HALF_UP)
                expiry = today + dt.timedelta(days=self.rng.randint(10, 200))
                lines.append(
                    {
                        "product": p["code"],
                        "barcode": None,
                        "qty": qty(p, 5, 50),
                        "price": _money(cost),
                        "expiry": expiry.isoformat() if p.get("expiry_control") else None,
                        "certificate": None,
                    }
                )
            return {
                **base,
                "supplier": self.supplier,
                "invoice": f"INV-{self.till}-{self.state.drafts}",
                "invoice_date": today.isoformat(),
                "lines": lines,
            }
        if doc == "writeoff":
            reason = self.rng.choice(("expired", "damaged", "lost", "internal"))
            lines = [{"product": p["code"], "qty": qty(p, 1, 3)} for p in picked]
            return {**base, "reason": reason, "lines": lines}
        lines = [{"product": p["code"], "qty": qty(p, 0, 40)} for p in picked]
        return {**base, "lines": lines}

    def basket(self) -> dict[str, Any] | None:
        """Goods a customer asked the shop to put aside."""
        goods = self._sellable()
        if not goods:
            return None
        self.state.baskets += 1
        customer = self.rng.choice(sorted(self.state.customers)) if self.state.customers else None
        picked = self.rng.sample(goods, min(len(goods), self.rng.randint(1, 3)))
        return {
            "type": "basket",
            "id": f"{self.till}-B-{self.state.baskets}",
            "created": self._now(),
            "cashier": self._cashier(),
            "card": None,
            "customer": customer,
            "lines": [
                {"product": p["code"], "qty": "1.000" if p.get("weighed") else "1"} for p in picked
            ],
            "comment": "pick up tomorrow",
        }

    def status(self) -> dict[str, Any]:
        """The heartbeat: version, shift, and the last file applied per kind."""
        return {
            "type": "status",
            "time": self._now(),
            "version": VERSION,
            "shift": self.state.shift,
            "shift_open": True,
            "applied": dict(self.state.applied),
            "errors": list(self.errors[-5:]),
        }

    # -- running in the background ----------------------------------------------------------

    def run(self, stop_event: threading.Event, interval: float = 2.0) -> None:
        """Step every `interval` seconds until `stop_event` is set; errors are logged, not fatal."""
        while not stop_event.is_set():
            try:
                self.step()
            except (OSError, EOFError, ftplib.Error) as error:
                logger.warning("till %s: exchange failed: %s", self.till, error)
            stop_event.wait(interval)

    def start(self, interval: float = 2.0) -> None:
        """Run on a daemon thread of its own."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop, interval), name=f"till-{self.till}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None
