"""Trees of any depth (groups of goods, of customers) kept as a path column.

Each node stores `path`, the ids from the root down to itself, e.g. "/1/7/12/".
A subtree is one indexed `LIKE '/1/7/%'` query, never a Python recursion per
node; moving a node rewrites its subtree's paths in one UPDATE.
"""

from __future__ import annotations

from peewee import CharField, IntegerField, Value, fn

from models.db import BaseModel


class TreeNode(BaseModel):
    """Abstract base: a named node under an optional parent, with a materialised path.

    Concrete trees declare `parent = ForeignKeyField("self", null=True, ...)`.
    """

    code = CharField(unique=True)
    name = CharField()
    path = CharField(index=True, default="")
    depth = IntegerField(default=0)

    @classmethod
    def subtree_ids(cls, node: TreeNode):
        """A subquery of the ids in `node`'s subtree, for `IN (...)` filters."""
        return cls.select(cls.id).where(cls.path.startswith(node.path))

    @classmethod
    def create_node(
        cls, code: str, name: str, parent: TreeNode | None = None, **fields
    ) -> TreeNode:
        """Create a node under `parent`; `fields` fill the concrete tree's own columns."""
        node = cls.create(code=code, name=name, parent=parent, path="", depth=0, **fields)
        node.path = f"{parent.path if parent else '/'}{node.id}/"
        node.depth = (parent.depth + 1) if parent else 0
        node.save()
        return node

    def move_under(self, parent: TreeNode | None) -> None:
        """Re-hang this node (and its subtree) under `parent` in one UPDATE."""
        cls = type(self)
        if parent is not None and parent.path.startswith(self.path):
            raise ValueError(f"cannot move {self.code} under its own descendant {parent.code}")
        old_path, old_depth = self.path, self.depth
        new_path = f"{parent.path if parent else '/'}{self.id}/"
        new_depth = (parent.depth + 1) if parent else 0
        (
            cls.update(
                path=Value(new_path).concat(fn.SUBSTR(cls.path, len(old_path) + 1)),
                depth=cls.depth + (new_depth - old_depth),
            )
            .where(cls.path.startswith(old_path))
            .execute()
        )
        cls.update(parent=parent).where(cls.id == self.id).execute()
        self.parent, self.path, self.depth = parent, new_path, new_depth

    def full_name(self, separator: str = "/") -> str:
        """The names from the root down, e.g. "Food/Dairy/Milk" (one query)."""
        cls = type(self)
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        names = {n.id: n.name for n in cls.select(cls.id, cls.name).where(cls.id.in_(ids))}
        return separator.join(names[i] for i in ids if i in names)
