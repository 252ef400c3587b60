"""Goods: the group tree, products with their barcodes, manufacturers, retail prices."""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from models.db import BaseModel
from models.org import Store, now
from models.trees import TreeNode

UNITS = ("pcs", "kg", "l", "m", "pack")
VAT_RATES = ("0", "5", "7", "10", "20", "22", "none")


class ProductGroup(TreeNode):
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    updated = DateTimeField(default=now, index=True)


class Manufacturer(BaseModel):
    name = CharField(unique=True)
    country = CharField(default="")
    inn = CharField(default="")


class Representative(BaseModel):
    """A manufacturer's representative (the person or firm the shop deals with)."""

    manufacturer = ForeignKeyField(Manufacturer, backref="representatives", on_delete="CASCADE")
    name = CharField()
    phone = CharField(default="")
    email = CharField(default="")


class Product(BaseModel):
    code = CharField(unique=True)
    name = CharField(index=True)
    group = ForeignKeyField(ProductGroup, null=True, backref="products", on_delete="SET NULL")
    unit = CharField(default="pcs")
    weighed = BooleanField(default=False)
    vat = CharField(default="20")
    excise = BooleanField(default=False)
    age_limit = IntegerField(default=0)
    expiry_control = BooleanField(default=False)
    plu = IntegerField(null=True, unique=True)
    manufacturer = ForeignKeyField(Manufacturer, null=True, on_delete="SET NULL")
    min_price = IntegerField(null=True)  # kopecks
    deleted = BooleanField(default=False)
    updated = DateTimeField(default=now, index=True)


class Barcode(BaseModel):
    code = CharField(unique=True)
    product = ForeignKeyField(Product, backref="barcodes", on_delete="CASCADE")


class Price(BaseModel):
    """The retail price of a product in a store, in kopecks."""

    store = ForeignKeyField(Store, on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="prices", on_delete="CASCADE")
    price = IntegerField()
    updated = DateTimeField(default=now, index=True)

    class Meta:
        indexes = ((("store", "product"), True),)
