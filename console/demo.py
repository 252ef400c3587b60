"""The demo: a fresh store in a temporary folder, its exchange daemon, and two tills at work.

`iis demo` (or `iis console --demo`) lets a newcomer see the whole loop move in
the first minute: a few hundred goods in a group tree (piece, weighed with a
PLU, excise), suppliers, customers and staff; opening stock from posted
invoices; the FTP server on a free loopback port; and two simulated
PrimePOS-ShopV2 tills that sell and send drafts over real FTP every few
seconds. The daemon's parts and the tills run on threads of their own, never
on the console's; `stop()` stops them all and removes the folder, so quitting
leaves nothing behind.

The OS login user is made an admin, so whoever runs the demo can approve.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import random
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from models.catalog import Barcode, Manufacturer, Price, Product, ProductGroup
from models.db import database, open_database
from models.ean import make_ean13
from models.org import DEFAULT_STORE_KEY, Employee, Setting, Store
from models.parties import Customer, PartyGroup, Supplier
from models.posting import DocumentInput, LineInput, create_documents
from models.tills import add_till

__all__ = ["DEMO_TILLS", "Demo", "build_demo_books"]

log = logging.getLogger("iis.demo")

HOST = "127.0.0.1"
STORE = "S01"
ADMIN = "A01"
#: The demo's tills and their FTP passwords (printed by `iis demo`, handy for an FTP client).
DEMO_TILLS = {"T01": "demo-till-T01", "T02": "demo-till-T02"}
#: Seconds between a demo till's rounds ("every few seconds").
TILL_INTERVAL = 3.0


@dataclass(frozen=True)
class _Line:
    """One family of goods: a group, names, brands, sizes and how it is sold."""

    group: tuple[str, ...]
    names: tuple[str, ...]
    brands: tuple[str, ...]
    price: tuple[int, int]  # roubles, per piece or per kg
    weighed: bool = False
    excise: bool = False
    expiry_days: int | None = None
    vat: str = "20"


_GOODS: tuple[_Line, ...] = (
    _Line(
        ("Food", "Dairy"),
        (
            "Milk 3.2% 1 l",
            "Milk 2.5% 0.9 l",
            "Kefir 1% 1 l",
            "Sour cream 20% 300 g",
            "Cottage cheese 5% 200 g",
            "Yoghurt strawberry 125 g",
            "Butter 82.5% 180 g",
            "Ryazhenka 4% 0.5 l",
        ),
        ("Prostokvashino", "Domik v derevne", "Savushkin", "Vkusnoteevo"),
        (60, 220),
        expiry_days=12,
        vat="10",
    ),
    _Line(
        ("Food", "Bakery"),
        (
            "Borodinsky bread 400 g",
            "White loaf 350 g",
            "Baguette 250 g",
            "Rye bread 500 g",
            "Croissant 60 g",
            "Bun with poppy seeds 100 g",
        ),
        ("Khlebny dom", "Karavai"),
        (35, 120),
        expiry_days=4,
        vat="10",
    ),
    _Line(
        ("Food", "Grocery"),
        (
            "Buckwheat 900 g",
            "Rice long grain 900 g",
            "Pasta spaghetti 450 g",
            "Sugar 1 kg",
            "Salt 1 kg",
            "Sunflower oil 1 l",
            "Wheat flour 2 kg",
            "Oat flakes 500 g",
            "Black tea 100 g",
            "Ground coffee 250 g",
        ),
        ("Mistral", "Makfa", "Uvelka"),
        (45, 650),
        vat="10",
    ),
    _Line(
        ("Food", "Canned"),
        (
            "Green peas 400 g",
            "Sweet corn 340 g",
            "Sprats in oil 160 g",
            "Stewed beef 325 g",
            "Tomato paste 270 g",
        ),
        ("Bonduelle", "Globus", "Glavprodukt", "Kaliningradsky"),
        (70, 320),
    ),
    _Line(
        ("Food", "Sweets"),
        (
            "Milk chocolate 90 g",
            "Dark chocolate 100 g",
            "Waffles 200 g",
            "Gingerbread 300 g",
            "Marshmallow 250 g",
            "Biscuits 300 g",
        ),
        ("Krasny Oktyabr", "Babaevsky", "Alpen Gold", "Korkunov"),
        (60, 260),
    ),
    _Line(
        ("Food", "Snacks"),
        (
            "Potato chips 150 g",
            "Salted crackers 100 g",
            "Sunflower seeds 200 g",
            "Peanuts salted 150 g",
            "Dried fish 70 g",
            "Rye croutons 100 g",
        ),
        ("Lay's", "Kirieshki", "Semechki Ot Martina"),
        (45, 240),
    ),
    _Line(
        ("Pets",),
        (
            "Cat food chicken 85 g",
            "Cat food fish 400 g",
            "Dog food beef 1 kg",
            "Cat litter 5 l",
            "Dog treats 100 g",
        ),
        ("Whiskas", "Pedigree", "Felix"),
        (30, 600),
    ),
    _Line(
        ("Food", "Frozen"),
        (
            "Pelmeni 800 g",
            "Vareniki with potato 900 g",
            "Ice cream plombir 80 g",
            "Frozen vegetables 400 g",
        ),
        ("Sibirskaya kollektsiya", "Talosto"),
        (60, 520),
        expiry_days=90,
    ),
    _Line(
        ("Food", "Fruit & vegetables"),
        (
            "Potatoes",
            "Onions",
            "Carrots",
            "Cabbage",
            "Tomatoes",
            "Cucumbers",
            "Apples Golden",
            "Bananas",
            "Oranges",
            "Lemons",
            "Pears",
            "Grapes",
        ),
        ("",),
        (30, 350),
        weighed=True,
        expiry_days=14,
        vat="10",
    ),
    _Line(
        ("Food", "Meat & fish"),
        (
            "Chicken fillet",
            "Pork neck",
            "Beef tenderloin",
            "Minced meat",
            "Salmon steak",
            "Herring salted",
            "Doctor's sausage",
            "Smoked sausage",
        ),
        ("",),
        (250, 1800),
        weighed=True,
        expiry_days=6,
        vat="10",
    ),
    _Line(
        ("Food", "Cheese by weight"),
        ("Cheese Rossiysky", "Cheese Gouda", "Cheese Maasdam", "Cheese Suluguni"),
        ("",),
        (600, 1400),
        weighed=True,
        expiry_days=30,
        vat="10",
    ),
    _Line(
        ("Drinks", "Soft drinks"),
        (
            "Mineral water 1.5 l",
            "Sparkling water 0.5 l",
            "Apple juice 1 l",
            "Orange juice 1 l",
            "Kvass 1.5 l",
            "Lemonade 0.5 l",
            "Cola 1 l",
        ),
        ("Borjomi", "Essentuki", "Dobry", "Ochakovo"),
        (45, 180),
    ),
    _Line(
        ("Drinks", "Alcohol", "Beer"),
        ("Lager 0.5 l", "Dark beer 0.5 l", "Wheat beer 0.5 l"),
        ("Baltika", "Zhigulevskoe", "Khamovniki"),
        (70, 190),
        excise=True,
    ),
    _Line(
        ("Drinks", "Alcohol", "Spirits"),
        ("Vodka 0.5 l", "Vodka 0.7 l", "Brandy 0.5 l", "Red wine 0.75 l", "White wine 0.75 l"),
        ("Beluga", "Tsarskaya", "Kizlyar", "Fanagoria"),
        (450, 2400),
        excise=True,
    ),
    _Line(
        ("Tobacco",),
        ("Cigarettes classic", "Cigarettes slim", "Cigarettes compact"),
        ("Java", "Yava Zolotaya", "Petr I"),
        (170, 260),
        excise=True,
    ),
    _Line(
        ("Household", "Cleaning"),
        (
            "Washing powder 2.4 kg",
            "Dish soap 500 ml",
            "Glass cleaner 500 ml",
            "Bleach 1 l",
            "Sponges 5 pcs",
        ),
        ("Fairy", "Persil", "Mr. Proper", "Domestos"),
        (60, 900),
    ),
    _Line(
        ("Household", "Personal care"),
        ("Toothpaste 100 ml", "Shampoo 400 ml", "Soap 90 g", "Toilet paper 4 rolls"),
        ("Splat", "Chistaya liniya", "Zewa", "Nivea"),
        (50, 450),
    ),
)

_GROUP_CODES = {
    "Food": "FOOD",
    "Dairy": "DAIRY",
    "Bakery": "BAKE",
    "Grocery": "GROC",
    "Canned": "CANN",
    "Sweets": "SWEET",
    "Snacks": "SNACK",
    "Pets": "PETS",
    "Frozen": "FROZ",
    "Fruit & vegetables": "FRUIT",
    "Meat & fish": "MEAT",
    "Cheese by weight": "CHEESE",
    "Drinks": "DRINK",
    "Soft drinks": "SOFT",
    "Alcohol": "ALC",
    "Beer": "BEER",
    "Spirits": "SPIRIT",
    "Tobacco": "TOBAC",
    "Household": "HOUSE",
    "Cleaning": "CLEAN",
    "Personal care": "CARE",
}

_SUPPLIERS = (
    ("SUP1", "Dairy Valley LLC", "7701234567"),
    ("SUP2", "Bread & Co JSC", "7702345678"),
    ("SUP3", "Grocery Wholesale LLC", "7703456789"),
    ("SUP4", "Drinks Distribution LLC", "7704567890"),
    ("SUP5", "Household Goods Trade LLC", "7705678901"),
)

_FIRST = ("Ivan", "Anna", "Sergey", "Olga", "Dmitry", "Elena", "Pavel", "Maria", "Alexey", "Irina")
_LAST = ("Petrov", "Ivanova", "Smirnov", "Kuznetsova", "Popov", "Volkova", "Sokolov", "Morozova")

_STAFF = (
    ("M01", "Marina Sokolova", "manager"),
    ("C01", "Oleg Ivanov", "cashier"),
    ("C02", "Natalia Petrova", "cashier"),
    ("C03", "Kirill Smirnov", "seller"),
)


def _groups() -> dict[tuple[str, ...], ProductGroup]:
    """The group tree the goods hang in, every prefix of every path made once."""
    made: dict[tuple[str, ...], ProductGroup] = {}
    for line in _GOODS:
        for depth in range(1, len(line.group) + 1):
            path = line.group[:depth]
            if path not in made:
                parent = made.get(path[:-1]) if depth > 1 else None
                made[path] = ProductGroup.create_node(_GROUP_CODES[path[-1]], path[-1], parent)
    return made


def _supplier_for(line: _Line) -> str:
    top = line.group[0]
    second = line.group[1] if len(line.group) > 1 else ""
    if second in ("Dairy", "Cheese by weight", "Meat & fish"):
        return "SUP1"
    if second == "Bakery":
        return "SUP2"
    if top == "Drinks" or top == "Tobacco":
        return "SUP4"
    if top in ("Household", "Pets"):
        return "SUP5"
    return "SUP3"


def build_demo_books(seed: int = 7, today: dt.date | None = None) -> dict[str, int]:
    """Fill empty, open books with the demo store; returns counts of what was made."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    with database.atomic():
        store = Store.create(code=STORE, name="Demo store", address="1 Market Street")
        Setting.set_value(DEFAULT_STORE_KEY, STORE)
        suppliers = {
            code: Supplier.create(code=code, name=name, inn=inn, phone="+7 495 000-00-00")
            for code, name, inn in _SUPPLIERS
        }
        retail = PartyGroup.create_node("RETAIL", "Retail customers")
        wholesale = PartyGroup.create_node("WHOLESALE", "Wholesale customers")
        for n in range(1, 25):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            group = wholesale if n % 6 == 0 else retail
            Customer.create(
                code=f"K{n:04d}",
                name=f"{first} {last}",
                group=group,
                phone=f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-00",
                credit_limit=500_000 if group is wholesale else 0,
            )
        login = getpass.getuser()
        Employee.create(code=ADMIN, name="Alexander Orlov", role="admin", login=login)
        for code, name, role in _STAFF:
            Employee.create(code=code, name=name, role=role, store=store)
        groups = _groups()
        makers: dict[str, Manufacturer] = {}
        goods = 0
        plu = 1
        stock_lines: dict[str, list[LineInput]] = {}
        for line in _GOODS:
            group = groups[line.group]
            for name in line.names:
                for brand in line.brands:
                    goods += 1
                    code = f"A{goods:04d}"
                    title = f"{name} {brand}".strip() if brand else name
                    maker = None
                    if brand:
                        maker = makers.get(brand) or Manufacturer.create(name=brand, country="RU")
                        makers[brand] = maker
                    product = Product.create(
                        code=code,
                        name=title,
                        group=group,
                        unit="kg" if line.weighed else "pcs",
                        weighed=line.weighed,
                        vat=line.vat,
                        excise=line.excise,
                        age_limit=18 if line.excise else 0,
                        expiry_control=line.expiry_days is not None,
                        plu=plu if line.weighed else None,
                        manufacturer=maker,
                    )
                    if line.weighed:
                        plu += 1
                    else:
                        Barcode.create(code=make_ean13(f"460{goods:09d}"), product=product)
                    low, high = line.price
                    price = rng.randint(low, high) * 100 + rng.choice((0, 50, 90, 99))
                    Price.create(store=store, product=product, price=price)
                    qty = (
                        rng.randint(20, 120) * 1000
                        if not line.weighed
                        else rng.randint(15_000, 80_000)
                    )
                    expiry = None
                    if line.expiry_days is not None:
                        # Mostly fresh; a few past date or close to it, so the
                        # stock screen has something to flag without crying wolf.
                        roll = rng.random()
                        days = (
                            rng.randint(-2, -1)
                            if roll < 0.05
                            else rng.randint(1, 3)
                            if roll < 0.15
                            else rng.randint(min(4, line.expiry_days), line.expiry_days)
                        )
                        expiry = today + dt.timedelta(days=days)
                    stock_lines.setdefault(_supplier_for(line), []).append(
                        LineInput(
                            product_id=product.id,
                            qty=qty,
                            price=price * 7 // 10,
                            expiry=expiry,
                            certificate=f"RU D-RU.{rng.randint(1000, 9999)}.B.{goods:05d}",
                        )
                    )
    opening = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(8, 0))
    inputs = [
        DocumentInput(
            kind="incoming",
            store_id=store.id,
            lines=lines,
            date=opening,
            supplier_id=suppliers[code].id,
            author=ADMIN,
            invoice=f"OPEN-{code}",
            invoice_date=opening.date(),
            comment="Opening stock",
        )
        for code, lines in sorted(stock_lines.items())
    ]
    create_documents(inputs, post_by=ADMIN)
    for till, password in DEMO_TILLS.items():
        add_till(till, store, password)
    return {"goods": goods, "suppliers": len(_SUPPLIERS), "documents": len(inputs)}


class Demo:
    """The demo's store, daemon and tills; `start()` builds and starts, `stop()` undoes all."""

    def __init__(self, seed: int = 7, till_interval: float = TILL_INTERVAL) -> None:
        self.seed = seed
        self.till_interval = till_interval
        #: The demo's temporary folder: the store's data, the tills' own folders, the log.
        self.folder = Path(tempfile.mkdtemp(prefix="iis-demo-"))
        self.service = None
        self.tills: list = []
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def port(self) -> int:
        return self.service.port if self.service is not None else 0

    def start(self) -> None:
        """Build the store, start the exchange on a free loopback port, then the two tills."""
        from exchange.service import ExchangeService
        from exchange.simulator import TillSimulator

        try:
            open_database(self.data_dir)
            build_demo_books(self.seed)
            self.service = ExchangeService(
                self.data_dir, HOST, port=0, export_interval=15.0, scan_interval=30.0
            )
            self.service.start()
            self.service.export(full=True)
            for n, (till, password) in enumerate(DEMO_TILLS.items(), start=1):
                simulator = TillSimulator(
                    HOST,
                    self.service.port,
                    till,
                    password,
                    STORE,
                    self.folder / "tills" / till,
                    seed=self.seed * 100 + n,
                    supplier="SUP1",
                )
                simulator.start(interval=self.till_interval)
                self.tills.append(simulator)
        except BaseException:
            self.stop()
            raise
        log.info("demo running in %s, FTP on %s:%s", self.folder, HOST, self.port)

    def stop(self) -> None:
        """Stop the tills, then the daemon, then remove the folder. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        for simulator in self.tills:
            try:
                simulator.stop()
            except Exception:
                log.exception("a demo till did not stop cleanly")
        self.tills = []
        if self.service is not None:
            try:
                self.service.stop()
            except Exception:
                log.exception("the demo exchange did not stop cleanly")
            self.service = None
        if not database.is_closed():
            database.close()
        shutil.rmtree(self.folder, ignore_errors=True)
