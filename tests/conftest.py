"""Shared fixtures: fresh books in a temporary folder, a store and a few goods."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.db import open_database
from models.i18n import setup_language


@pytest.fixture(autouse=True)
def english():
    """Tests read English texts unless they choose otherwise."""
    setup_language("en")
    yield
    setup_language("en")


@pytest.fixture
def books(tmp_path: Path):
    """Open empty books in a temporary data folder; return the folder."""
    db = open_database(tmp_path / "data")
    yield tmp_path / "data"
    db.close()
