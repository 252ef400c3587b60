"""Pictures of the stock and documents screens at 80x24, in English and in Russian.

The shop and its dates are fixed (see tests/test_stock_screen.py), times are
shown in UTC, and each picture is taken once every worker has finished, so
the pictures only change when the screens do.

Binding descriptions are translated when a screen class is defined, so a
Russian picture needs screen classes defined under Russian. `screens_in`
imports the screen modules afresh with the language set, hands those
classes to the test, and afterwards puts the English modules back into
`sys.modules` (and onto the package), so the other tests in the process keep
the classes they imported.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from textual.pilot import Pilot

from models.i18n import setup_language
from tests.test_stock_screen import TODAY, Shop, ShopApp, build_shop, settle, utc_times

SCREEN_MODULES = (
    "console.screens.stock",
    "console.screens.goods",
    "console.screens.document",
    "console.screens.documents",
)


@contextlib.contextmanager
def screens_in(language: str) -> Iterator[dict[str, ModuleType]]:
    """The screen modules as defined under `language` (their bindings translated)."""
    package = importlib.import_module("console.screens")
    saved = {name: sys.modules.get(name) for name in SCREEN_MODULES}
    for name in SCREEN_MODULES:
        sys.modules.pop(name, None)
    setup_language(language)
    try:
        modules = {name.rsplit(".", 1)[1]: importlib.import_module(name) for name in SCREEN_MODULES}
        yield modules
    finally:
        setup_language("en")
        for name, module in saved.items():
            short = name.rsplit(".", 1)[1]
            if module is None:
                sys.modules.pop(name, None)
                with contextlib.suppress(AttributeError):
                    delattr(package, short)
            else:
                sys.modules[name] = module
                setattr(package, short, module)


@pytest.fixture
def shop(books: Path) -> Iterator[Shop]:
    with utc_times():
        yield build_shop()


def _after(*keys: str) -> Callable[[Pilot], object]:
    """Settle, press `keys`, settle again: the picture shows what the keys led to."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("language", ["en", "ru"])
def test_stock_screen(snap_compare, shop: Shop, language: str):
    with screens_in(language) as screens:
        app = ShopApp(shop.manager, lambda: screens["stock"].StockScreen(today=TODAY))
        assert snap_compare(app, terminal_size=(80, 24), run_before=_after())


def test_stock_screen_with_the_group_tree(snap_compare, shop: Shop):
    with screens_in("en") as screens:
        app = ShopApp(shop.manager, lambda: screens["stock"].StockScreen(today=TODAY))
        assert snap_compare(
            app, terminal_size=(80, 24), run_before=_after("g", "down", "down", "space")
        )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_goods_drill_down(snap_compare, shop: Shop, language: str):
    with screens_in(language) as screens:
        app = ShopApp(shop.manager, lambda: screens["stock"].StockScreen(today=TODAY))
        assert snap_compare(app, terminal_size=(80, 24), run_before=_after("enter"))


@pytest.mark.parametrize("language", ["en", "ru"])
def test_documents_screen(snap_compare, shop: Shop, language: str):
    with screens_in(language) as screens:
        app = ShopApp(shop.manager, screens["documents"].DocumentsScreen)
        assert snap_compare(app, terminal_size=(80, 24), run_before=_after())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_document_screen(snap_compare, shop: Shop, language: str):
    with screens_in(language) as screens:
        app = ShopApp(shop.manager, screens["documents"].DocumentsScreen)
        assert snap_compare(app, terminal_size=(80, 24), run_before=_after("end", "enter"))


def test_cancel_confirmation(snap_compare, shop: Shop):
    with screens_in("en") as screens:
        app = ShopApp(shop.manager, screens["documents"].DocumentsScreen)
        assert snap_compare(app, terminal_size=(80, 24), run_before=_after("down", "down", "c"))
