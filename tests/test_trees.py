"""Group trees: subtrees by path, and moving a branch with everything below it."""

from __future__ import annotations

import pytest

from models.catalog import ProductGroup


def test_moving_a_branch_rewrites_its_subtree_in_place(books):
    food = ProductGroup.create_node("G1", "Food")
    dairy = ProductGroup.create_node("G2", "Dairy", food)
    milk = ProductGroup.create_node("G3", "Milk", dairy)
    drinks = ProductGroup.create_node("G4", "Drinks")
    dairy.move_under(drinks)
    milk = ProductGroup.get_by_id(milk.id)
    assert milk.full_name() == "Drinks/Dairy/Milk" and milk.depth == 2
    below_drinks = ProductGroup.select().where(
        ProductGroup.id.in_(ProductGroup.subtree_ids(drinks))
    )
    assert {g.code for g in below_drinks} == {"G2", "G3", "G4"}
    assert (
        not ProductGroup.select()
        .where(ProductGroup.id.in_(ProductGroup.subtree_ids(food)) & (ProductGroup.id != food.id))
        .exists()
    )
    with pytest.raises(ValueError, match="own descendant"):
        ProductGroup.get_by_id(drinks.id).move_under(ProductGroup.get_by_id(milk.id))
