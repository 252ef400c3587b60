"""The first schema: every table the books had at their first release."""

from models.schema import ALL_MODELS


def up(migrator, db):
    db.create_tables(ALL_MODELS)
