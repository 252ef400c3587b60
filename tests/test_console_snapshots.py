"""Pictures of the console at 80x24, in English and in Russian.

The books, the clock and the time zone are fixed, so a picture changes only
when the screen does. The Russian pictures need the console's modules
imported afresh after the language is chosen (binding labels are fixed when a
class is defined, as they are when `iis --lang ru console` starts).

Regenerate after an intended change with `pytest tests/test_console_snapshots.py
--snapshot-update`, and look at the SVGs before committing them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from models.i18n import setup_language
from tests.test_console_app import NOW, SIZE, loaded, shop, utc, wait_for

__all__ = ["shop", "utc"]  # fixtures shared with the app tests


@contextlib.contextmanager
def console_in(language: str) -> Iterator[ModuleType]:
    """`console.app` imported afresh in `language`; the previous modules come back after."""
    saved = {n: m for n, m in sys.modules.items() if n == "console" or n.startswith("console.")}
    for name in saved:
        del sys.modules[name]
    setup_language(language)
    try:
        import console.app

        yield console.app
    finally:
        for name in [n for n in sys.modules if n == "console" or n.startswith("console.")]:
            del sys.modules[name]
        sys.modules.update(saved)
        setup_language("en")


def _loaded(app, selector: str):
    def check() -> bool:
        table = app.screen.query_one(selector)
        return loaded(table) and not app.screen.query_one(selector).loading

    return check


@pytest.mark.parametrize("language", ["en", "ru"])
def test_exchange_screen(shop, snap_compare, language):
    with console_in(language) as module:
        app = module.IISApp(shop["data_dir"], "M01", now=NOW)

        async def ready(pilot) -> None:
            await wait_for(pilot, _loaded(app, "#log"))
            await wait_for(pilot, lambda: app.screen.query_one("#tills").row_count == 2)
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_drafts_screen(shop, snap_compare, language):
    with console_in(language) as module:
        app = module.IISApp(shop["data_dir"], "M01", now=NOW, start_mode="drafts")

        async def ready(pilot) -> None:
            await wait_for(pilot, _loaded(app, "#drafts-table"))
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_draft_invoice(shop, snap_compare, language):
    with console_in(language) as module:
        app = module.IISApp(shop["data_dir"], "M01", now=NOW, start_mode="drafts")

        async def ready(pilot) -> None:
            await wait_for(pilot, _loaded(app, "#drafts-table"))
            await pilot.press("enter")
            await wait_for(pilot, _loaded(app, "#draft-lines"))
            head = app.screen.query_one("#draft-head")
            await wait_for(pilot, lambda: "INV-5561" in str(head.render()))
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_quarantined_file(shop, snap_compare):
    with console_in("en") as module:
        app = module.IISApp(shop["data_dir"], "M01", now=NOW)

        async def ready(pilot) -> None:
            await pilot.press("x")
            held = app.screen.query_one("#held")
            await wait_for(pilot, lambda: held.row_count == 1)
            await pilot.press("enter")
            await wait_for(pilot, lambda: getattr(app.screen, "shown", None) is not None)
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=SIZE, run_before=ready)
