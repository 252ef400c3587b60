"""Spreadsheet imports of goods, suppliers and customers, and their listings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from console.cli import main
from models.catalog import Barcode, Manufacturer, Price, Product, ProductGroup
from models.db import open_database
from models.ean import make_ean13
from models.imports import (
    ImportFileError,
    import_catalog,
    import_customers,
    import_suppliers,
)
from models.org import DEFAULT_STORE_KEY, Setting, Store
from models.parties import Bank, Customer, PartyGroup, Supplier

HEADER = "code,name,group,unit,price,vat,barcodes"
SBERBANK = ("7707083893", "773601001", "044525225", "40702810938000000001")


@pytest.fixture
def store(books) -> Store:
    row = Store.create(code="S01", name="Main street")
    Setting.set_value(DEFAULT_STORE_KEY, "S01")
    return row


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def prices(store: Store) -> dict[str, int]:
    query = Price.select(Product.code, Price.price).join(Product).where(Price.store == store)
    return dict(query.tuples())


def barcodes_of(code: str) -> set[str]:
    query = Barcode.select(Barcode.code).join(Product).where(Product.code == code)
    return {b for (b,) in query.tuples()}


# --- the catalog ------------------------------------------------------------------


def generated_catalog(rows: int) -> tuple[list[str], dict[int, str]]:
    """A catalog of `rows` goods with a few bad rows; returns lines and {line: reason}."""
    lines = [HEADER + ",weighed,plu,manufacturer"]
    bad: dict[int, str] = {}
    for i in range(1, rows + 1):
        line = i + 1
        code, name, price = f"P{i:05d}", f"Goods {i}", f"{i % 500 + 1}.{i % 100:02d}"
        group = f"Food/Group {i % 10}/Sub {i % 3}"
        barcode = make_ean13(f"460{i:09d}")
        unit, weighed, plu, maker = "pcs", "", "", f"Maker {i % 7}"
        if i % 250 == 0:
            unit, weighed, plu = "kg", "yes", str(i)
        if i == 100:
            code, bad[line] = "", "no product code"
        elif i == 500:
            price, bad[line] = "12.345", "bad price 12.345"
        elif i == 777:
            barcode, bad[line] = barcode[:-1] + str((int(barcode[-1]) + 1) % 10), "check digit"
        elif i == 1200:
            unit, bad[line] = "box", "unknown unit box"
        elif i == 1500:
            name, bad[line] = "", "no product name"
        elif i == 1800:
            barcode, bad[line] = make_ean13("460000000001"), "already belongs to product P00001"
        elif i == 1999:
            weighed, bad[line] = "yes", "weighed good must be sold in kg"
        lines.append(",".join([code, name, group, unit, price, "20", barcode, weighed, plu, maker]))
    return lines, bad


def test_two_thousand_rows_load_fast_and_bad_rows_are_named(store, tmp_path):
    lines, bad = generated_catalog(2000)
    path = write(tmp_path, "\n".join(lines) + "\n")
    started = time.perf_counter()
    result = import_catalog(path, store)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"2,000 rows took {elapsed:.2f} s"
    assert [line for line, _reason in result.problems] == sorted(bad)
    for line, reason in result.problems:
        assert bad[line] in reason, (line, reason)
    assert (result.created, result.updated, result.refused) == (2000 - len(bad), 0, len(bad))
    assert Product.select().count() == 2000 - len(bad)
    assert len(prices(store)) == 2000 - len(bad)
    assert prices(store)["P00002"] == 302  # "3.02"
    assert Barcode.select().count() == 2000 - len(bad)
    assert Manufacturer.select().count() == 7
    weighed = Product.get(Product.code == "P00250")
    assert (weighed.weighed, weighed.unit, weighed.plu) == (True, "kg", 250)


def test_group_paths_build_the_tree_once(store, tmp_path):
    lines, _bad = generated_catalog(300)
    import_catalog(lines, store)
    # Food, 10 groups under it, 3 subgroups under each
    assert ProductGroup.select().count() == 1 + 10 + 30
    import_catalog(lines, store)
    import_catalog([HEADER, "X1,Extra,food/GROUP 1/sub 1,pcs,1,20,"], store)
    assert ProductGroup.select().count() == 41
    leaf = Product.get(Product.code == "X1").group
    assert leaf.full_name() == "Food/Group 1/Sub 1"
    assert leaf.depth == 2
    assert leaf.code == f"G{leaf.id}"
    assert ProductGroup.get(ProductGroup.name == "Food").parent is None
    assert Product.select().where(Product.group.in_(ProductGroup.subtree_ids(leaf))).count() > 1


def test_reimport_updates_product_barcodes_and_price(store, tmp_path):
    first = [
        HEADER + ",age_limit,excise",
        f"A1,Milk,Food/Dairy,pcs,49.90,10,{make_ean13('460123456789')} 12345670,0,no",
        "A2,Beer,Drinks,pcs,89.00,20,,18,yes",
    ]
    assert import_catalog(first, store).created == 2
    before = Product.get(Product.code == "A1").updated
    assert barcodes_of("A1") == {"4601234567893", "12345670"}
    time.sleep(0.01)
    second = [
        HEADER,
        f"A1,Milk 3.2%,Food/Dairy,pcs,51.50,10,{make_ean13('460123456780')}",
        "A2,Beer,Drinks,pcs,,20,",
    ]
    result = import_catalog(second, store)
    # A2 says nothing new (empty price leaves the price, no barcodes before or now).
    assert (result.created, result.updated, result.unchanged, result.refused) == (0, 1, 1, 0)
    milk = Product.get(Product.code == "A1")
    assert milk.name == "Milk 3.2%"
    assert milk.updated > before
    assert barcodes_of("A1") == {make_ean13("460123456780")}
    assert prices(store) == {"A1": 5150, "A2": 8900}  # an empty price leaves it alone
    beer = Product.get(Product.code == "A2")
    assert (beer.age_limit, beer.excise) == (18, True)  # columns the file lacks stay
    assert Price.select().count() == 2


def test_barcode_moves_when_its_old_owner_releases_it_first(store):
    ean = make_ean13("460555555555")
    import_catalog([HEADER, f"A1,One,,pcs,1,20,{ean}", "A2,Two,,pcs,1,20,"], store)
    result = import_catalog([HEADER, "A1,One,,pcs,1,20,", f"A2,Two,,pcs,1,20,{ean}"], store)
    assert result.refused == 0
    assert barcodes_of("A2") == {ean}
    assert barcodes_of("A1") == set()


def test_barcode_and_plu_conflicts(store):
    ean = make_ean13("460555555555")
    import_catalog([HEADER + ",plu", f"A1,One,,kg,1,20,{ean},7"], store)
    rows = [
        HEADER + ",plu",
        f"B1,Two,,kg,1,20,{ean},",
        "B2,Three,,kg,1,20,,7",
        "B3,Four,,kg,1,20,,8",
        "B4,Five,,kg,1,20,,8",
        "B5,Six,,kg,1,20,12345678 ABC-128,",
        "B6,Seven,,kg,1,20,12345670 12345670,",
        "B7,Eight,,kg,1,20,12345670,",
        "B3,Four again,,kg,1,20,,",
        "B8,Nine,,kg,1,20,,100000",
    ]
    result = import_catalog(rows, store)
    reasons = dict(result.problems)
    assert sorted(reasons) == [2, 3, 5, 6, 8, 9, 10]
    assert f"barcode {ean} already belongs to product A1" in reasons[2]
    assert "PLU 7 already belongs to product A1" in reasons[3]
    assert "PLU 8 already belongs to product B3" in reasons[5]
    assert "EAN-8 12345678 has a wrong check digit" in reasons[6]
    assert "barcode 12345670 already belongs to product B6" in reasons[8]
    assert "product B3 is already on line 4" in reasons[9]
    assert "plu must be a whole number from 1 to 99999" in reasons[10]
    assert barcodes_of("B6") == {"12345670"}
    assert barcodes_of("A1") == {ean}


def test_bad_cells_each_named(store):
    rows = [
        HEADER + ",weighed,age_limit",
        "C1,Milk,,pcs,-1,20,,,",
        "C2,Milk,,pcs,ten,20,,,",
        "C3,Milk,,pcs,1,18,,,",
        "C4,Milk,,pcs,1,20,,maybe,",
        "C5,Milk,,pcs,1,20,,,old",
        ",,,pcs,1,20,,,",
        "C7,Milk,,шт,1,20%,,,",
        "C8,Milk,,pcs,1,20,,,,surplus",
    ]
    reasons = dict(import_catalog(rows, store).problems)
    assert "bad price -1" in reasons[2]
    assert "bad price ten" in reasons[3]
    assert "unknown VAT rate 18" in reasons[4]
    assert "weighed must be yes or no, not maybe" in reasons[5]
    assert "age_limit must be a whole number" in reasons[6]
    assert reasons[7] == "no product code; no product name"
    assert 8 not in reasons  # Russian unit names and "20%" are understood
    assert "10 cells where the header has 9 columns" in reasons[9]
    assert Product.get(Product.code == "C7").unit == "pcs"


def test_spreadsheet_dialects(store, tmp_path):
    excel = (
        "\ufeffcode;name;group;unit;price;vat;barcodes\r\n"
        "D1;Сыр «Российский»;Еда;кг;1 234,50;10;\r\n"
    )
    assert import_catalog(write(tmp_path, excel, "excel.csv"), store).created == 1
    assert prices(store)["D1"] == 123450
    old_excel = "code;name;price\nD2;Хлеб;45\n"
    assert import_catalog(write(tmp_path, old_excel, "cp.csv", "cp1251"), store).created == 1
    assert Product.get(Product.code == "D2").name == "Хлеб"
    quoted = 'code,name,price\nD3,"Tea, green",99.00\n\nD4,"Two\nlines",1\nD5,,1\n'
    result = import_catalog(quoted.splitlines(), store)
    assert result.created == 2
    assert result.problems == [(6, "no product name")]  # a quoted field spans 4-5
    assert Product.get(Product.code == "D3").name == "Tea, green"


def test_file_level_errors(store, tmp_path):
    with pytest.raises(ImportFileError, match="unknown columns prise"):
        import_catalog(["code,name,prise", "A,B,1"], store)
    with pytest.raises(ImportFileError, match="no column code"):
        import_catalog(["name,price", "B,1"], store)
    with pytest.raises(ImportFileError, match="empty"):
        import_catalog(["", "  "], store)
    with pytest.raises(ImportFileError, match="cannot read"):
        import_catalog(tmp_path / "missing.csv", store)
    with pytest.raises(ImportFileError, match="named twice: name"):
        import_catalog(["code,name,name"], store)
    assert Product.select().count() == 0


# --- suppliers and customers -----------------------------------------------------

PARTY_HEADER = "code,name,group,inn,kpp,bank_bik,account,phone,email,address"


def test_suppliers_validated_and_named_by_line(store):
    inn, kpp, bik, account = SBERBANK
    rows = [
        PARTY_HEADER,
        f"S1,Sberbank,Banks/Big,{inn},{kpp},{bik},{account},+7 495 500-55-50,sb@sberbank.ru,Moscow",
        "S2,Ivanov IP,Farmers,500100732259,,,,,,",
        "S3,Bad INN,,7707083894,,,,,,",
        f"S4,Bad KPP,,{inn},77360100,,,,,",
        f"S5,Bad BIK,,{inn},,054525225,,,,",
        f"S6,Bad account,,{inn},,{bik},40702810938000000002,,,",
        "S7,Person with KPP,,500100732259,773601001,,,,,",
        f"S8,Account without bank,,,,,{account},,,",
        "S9,Bad mail,,,,,,,nobody,",
        f"S10,Same bank,Banks/Big,,,{bik},,,,",
    ]
    result = import_suppliers(rows)
    reasons = dict(result.problems)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert "INN 7707083894 has a wrong check digit" in reasons[4]
    assert "KPP 77360100" in reasons[5]
    assert "BIK 054525225" in reasons[6]
    assert "does not match BIK" in reasons[7]
    assert "person" in reasons[8]
    assert "without the bank's BIK" in reasons[9]
    assert "e-mail nobody" in reasons[10]
    assert (result.created, result.updated) == (3, 0)
    sber = Supplier.get(Supplier.code == "S1")
    assert (sber.inn, sber.kpp, sber.bank.bik, sber.account) == SBERBANK[:2] + SBERBANK[2:]
    assert Supplier.get(Supplier.code == "S10").bank_id == sber.bank_id
    assert Bank.select().count() == 1
    assert sber.group.full_name() == "Banks/Big"
    assert {g.kind for g in PartyGroup.select()} == {"supplier"}


def test_customer_tree_is_apart_from_suppliers(store):
    import_suppliers([PARTY_HEADER, "S1,Supplier,Wholesale,,,,,,,"])
    result = import_customers([PARTY_HEADER, "K1,Customer,Wholesale,,,,,,,"])
    assert result.created == 1
    kinds = sorted(PartyGroup.select(PartyGroup.kind).tuples())
    assert kinds == [("customer",), ("supplier",)]
    customer = Customer.get(Customer.code == "K1")
    assert customer.group.kind == "customer"
    customer.credit_limit = 500000
    customer.save()
    again = import_customers(["code,name,phone", "K1,Customer Ltd,+7 900 000-00-00"])
    assert (again.created, again.updated) == (0, 1)
    customer = Customer.get(Customer.code == "K1")
    assert (customer.name, customer.phone) == ("Customer Ltd", "+7 900 000-00-00")
    assert customer.credit_limit == 500000 and customer.group.name == "Wholesale"


def test_party_update_checks_the_card_as_it_would_become(store):
    inn, _kpp, bik, account = SBERBANK
    import_suppliers([PARTY_HEADER, f"S1,Sber,,{inn},,{bik},{account},,,"])
    result = import_suppliers(["code,name,bank_bik", "S1,Sber,044525593"])
    assert "does not match BIK 044525593" in result.problems[0][1]


# --- the command line -------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path) -> Path:
    db = open_database(tmp_path)
    Store.create(code="S01", name="Main street")
    Setting.set_value(DEFAULT_STORE_KEY, "S01")
    db.close()
    return tmp_path


def iis(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), *args])


def test_cli_catalog_import_and_list(data_dir, capsys):
    path = write(
        data_dir,
        "code;name;group;unit;price;vat;barcodes\n"
        "A1;Milk;Food/Dairy;pcs;49.90;10;4601234567893\n"
        "A2;Bread;Food/Bakery;pcs;45;10;4601234567890\n"
        "A3;Apples;Food/Fruit;kg;129,00;10;\n",
    )
    assert iis(data_dir, "catalog", "import", str(path)) == 0
    out, err = capsys.readouterr()
    assert "created 2, updated 0, unchanged 0, refused 1" in out
    assert "line 3: EAN-13 4601234567890 has a wrong check digit (expected 3)" in err

    assert iis(data_dir, "catalog", "list", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {
            "code": "A1",
            "name": "Milk",
            "group": "Food/Dairy",
            "unit": "pcs",
            "price": "49.90",
            "vat": "10",
            "barcodes": "4601234567893",
            "weighed": False,
            "excise": False,
        },
        {
            "code": "A3",
            "name": "Apples",
            "group": "Food/Fruit",
            "unit": "kg",
            "price": "129.00",
            "vat": "10",
            "barcodes": "",
            "weighed": False,
            "excise": False,
        },
    ]
    assert iis(data_dir, "catalog", "list", "--group", "food/fruit", "--format", "csv") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "code,name,group,unit,price,vat,barcodes,weighed,excise"
    assert out[1:] == ["A3,Apples,Food/Fruit,kg,129.00,10,,False,False"]
    assert iis(data_dir, "catalog", "list", "--search", "4601234567893") == 0
    table = capsys.readouterr().out
    assert "Milk" in table and "Apples" not in table
    assert iis(data_dir, "catalog", "list", "--group", "Drinks") == 2
    assert "no group Drinks" in capsys.readouterr().err


def test_cli_catalog_import_unreadable_file(data_dir, capsys):
    assert iis(data_dir, "catalog", "import", str(data_dir / "none.csv")) == 2
    assert "cannot read" in capsys.readouterr().err
    path = write(data_dir, "sku,title\n1,2\n")
    assert iis(data_dir, "catalog", "import", str(path)) == 2
    assert "unknown columns sku, title" in capsys.readouterr().err


def test_cli_catalog_prices_of_another_store(data_dir, capsys):
    open_database(data_dir)
    Store.create(code="S02", name="Station")
    path = write(data_dir, "code,name,price\nA1,Milk,50.00\n")
    assert iis(data_dir, "catalog", "import", str(path), "--store", "S02") == 0
    capsys.readouterr()
    assert iis(data_dir, "catalog", "list", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)[0]["price"] is None
    assert iis(data_dir, "catalog", "list", "--store", "S02", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)[0]["price"] == "50.00"


@pytest.mark.parametrize("kind", ["supplier", "customer"])
def test_cli_parties(data_dir, capsys, kind):
    inn, kpp, bik, account = SBERBANK
    path = write(
        data_dir,
        f"{PARTY_HEADER}\n"
        f"P1,Sberbank,Banks,{inn},{kpp},{bik},{account},+7 495 500-55-50,sb@sberbank.ru,Moscow\n"
        "P2,Wrong,,1234567890,,,,,,\n",
    )
    assert iis(data_dir, kind, "import", str(path)) == 0
    out, err = capsys.readouterr()
    assert "created 1, updated 0, unchanged 0, refused 1" in out
    assert "line 3: INN 1234567890 has a wrong check digit" in err
    assert iis(data_dir, kind, "list", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "code": "P1",
            "name": "Sberbank",
            "group": "Banks",
            "inn": inn,
            "kpp": kpp,
            "bank_bik": bik,
            "account": account,
            "phone": "+7 495 500-55-50",
            "email": "sb@sberbank.ru",
            "address": "Moscow",
        }
    ]
    assert iis(data_dir, kind, "list", "--search", inn, "--format", "csv") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_reimporting_the_same_file_changes_nothing(store):
    rows = [HEADER, "A1,Milk,Food/Dairy,pcs,49.90,10,4601234567893", "A2,Beer,Drinks,pcs,80,20,"]
    import_catalog(rows, store)
    stamps = {p.code: p.updated for p in Product.select()}
    again = import_catalog(rows, store)
    assert (again.created, again.updated, again.unchanged, again.refused) == (0, 0, 2, 0)
    assert {p.code: p.updated for p in Product.select()} == stamps
    changed = import_catalog([HEADER, "A1,Milk,Food/Dairy,pcs,52.00,10,4601234567893"], store)
    assert (changed.updated, changed.unchanged) == (1, 0)
