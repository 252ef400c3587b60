"""Random sequences of posts and cancels never break the ledger's invariants."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.db import open_database
from models.documents import POSTED, Document
from models.ledger import Balance, StockMove
from tests.helpers import play_posts_and_cancels

KINDS = [
    "incoming",
    "incoming",
    "sale",
    "return",
    "writeoff",
    "supplier_return",
    "transfer",
    "inventory",
]

step = st.one_of(
    st.tuples(
        st.just("post"),
        st.sampled_from(KINDS),
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 9000), st.integers(0, 50_000)),
            min_size=1,
            max_size=3,
        ),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.just(None)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25), allow_negative=st.booleans())
def test_random_posts_and_cancels_keep_the_books_sound(steps, allow_negative):
    folder = Path(tempfile.mkdtemp())
    db = open_database(folder)
    try:
        play_posts_and_cancels(steps, allow_negative, reason="damaged")
        moved = {
            (m.store_id, m.batch_id): 0 for m in StockMove.select(StockMove.store, StockMove.batch)
        }
        assert len(moved) == Balance.select().count()
        assert all(
            StockMove.select().where(StockMove.document == d).exists()
            for d in Document.select().where(Document.state == POSTED)
            if d.kind != "inventory"
        )
    finally:
        db.close()
        shutil.rmtree(folder, ignore_errors=True)
