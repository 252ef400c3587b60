"""Counterparties: suppliers, customers (in a group tree) and banks."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from models.db import BaseModel
from models.org import now
from models.trees import TreeNode


class Bank(BaseModel):
    bik = CharField(unique=True)
    name = CharField(default="")
    correspondent_account = CharField(default="")


class PartyGroup(TreeNode):
    """Groups of suppliers and of customers; `kind` keeps the two trees apart."""

    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    kind = CharField(default="customer", index=True)


class Party(BaseModel):
    """Fields a Russian counterparty card holds, shared by suppliers and customers."""

    code = CharField(unique=True)
    name = CharField()
    group = ForeignKeyField(PartyGroup, null=True, on_delete="SET NULL")
    inn = CharField(default="")
    kpp = CharField(default="")
    bank = ForeignKeyField(Bank, null=True, on_delete="SET NULL")
    account = CharField(default="")
    phone = CharField(default="")
    email = CharField(default="")
    address = CharField(default="")
    updated = DateTimeField(default=now, index=True)


class Supplier(Party):
    pass


class Customer(Party):
    price_policy = CharField(default="")
    credit_limit = IntegerField(default=0)  # kopecks
    blocked = BooleanField(default=False)
