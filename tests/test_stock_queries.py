"""Stock queries as the CLI and console read them."""

from __future__ import annotations

from models.stock import StockFilter, count_stock, stock_page
from tests import factories as f


def test_search_folds_cyrillic_case(books):
    s1 = f.store()
    f.product("A1", "Молоко 3,2% 1 л", at=s1)
    f.product("A2", "Кефир", at=s1)
    flt = StockFilter(s1, search="молоко", only_stocked=False)
    assert [row["product"] for row in stock_page(flt)] == ["A1"]
    assert count_stock(StockFilter(s1, search="КЕФ", only_stocked=False)) == 1


def test_search_by_barcode_and_code_prefix(books):
    s1 = f.store()
    f.product("A1001", "Milk", at=s1, barcode="4601234567893")
    f.product("B2", "Bread", at=s1)
    assert [
        r["product"]
        for r in stock_page(StockFilter(s1, search="4601234567893", only_stocked=False))
    ] == ["A1001"]
    assert [
        r["product"] for r in stock_page(StockFilter(s1, search="A10", only_stocked=False))
    ] == ["A1001"]
