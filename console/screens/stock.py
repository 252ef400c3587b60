"""Stock: the group tree beside the balances of one store, searchable, drilling into goods.

The balances are a `LazyTable` over `StockSource`, so a store of 100,000
goods paints its first screenful from two small queries and pages the rest in
as the operator scrolls. The group tree loads one level at a time, when a node
is opened, never the whole tree. Every query runs on a worker thread; the
screen only swaps sources and draws what comes back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

from babel.numbers import format_decimal
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static, Tree
from textual.widgets.tree import TreeNode

from console.i18n import current_language
from console.screens import LiveScreen
from console.sources import StockSource, stock_columns, thread_connection
from console.widgets.lazy_table import LazyTable
from models.catalog import ProductGroup
from models.errors import BooksError
from models.i18n import _, ngettext
from models.org import Store, default_store
from models.stock import StockFilter

__all__ = ["GroupTree", "SearchInput", "SearchScreen", "StockScreen", "StockTable"]

#: Below this width the tree starts hidden, so the balances get the whole 80 columns.
TREE_MIN_WIDTH = 110
#: Seconds of quiet after a keystroke before a search runs: typing "milk" is one query.
SEARCH_DELAY = 0.25


class SearchInput(Input):
    """A one-line search box; escape or down hands the keyboard back to the list below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,down", "leave", _("To the list"), show=False),
    ]

    class Leave(Message):
        """The operator is done typing and wants the list."""

    def action_leave(self) -> None:
        self.post_message(self.Leave())


class SearchScreen(LiveScreen):
    """A screen whose `SearchInput` searches its table once the typing pauses.

    Subclasses name their search box in `SEARCH_BOX`, keep the search in effect in
    `_search`, and say in `_reload_source` how the table shows a new one. Enter in the
    box searches at once and hands the keyboard to the table.
    """

    #: The selector of the screen's `SearchInput`.
    SEARCH_BOX: ClassVar[str]

    _search: str
    _search_timer: Timer | None

    @property
    def table(self) -> LazyTable:
        raise NotImplementedError

    def _reload_source(self) -> None:
        raise NotImplementedError

    def _search_soon(self) -> None:
        """Search after `SEARCH_DELAY` of quiet, so typing "milk" is one query."""
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._run_search)

    def _search_now(self) -> None:
        self._run_search()
        self.table.focus()

    @on(SearchInput.Leave)
    def _search_left(self) -> None:
        self.table.focus()

    def _run_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        text = self.query_one(self.SEARCH_BOX, Input).value.strip()
        if text != self._search:
            self._search = text
            self._reload_source()

    def action_focus_search(self) -> None:
        self.query_one(self.SEARCH_BOX, Input).focus()


class StockTable(LazyTable):
    """The balances; enter opens the goods under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Open")),
    ]


class GroupTree(Tree[ProductGroup | None]):
    """The group tree; its keys shown in the footer, since choosing and opening differ."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Choose group")),
        Binding("space", "toggle_node", _("Open/close")),
    ]


class StockScreen(SearchScreen):
    """Balances of one store by group, with search and a drill-down into each goods."""

    CSS_PATH = Path(__file__).parent.parent / "stock.tcss"
    TITLE = _("Stock")
    SEARCH_BOX = "#stock-search"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", _("Search")),
        Binding("g", "toggle_tree", _("Groups")),
        Binding("a", "toggle_stocked", _("All/in stock")),
        Binding("s", "next_store", _("Store")),
        Binding("f5,ctrl+r", "refresh_data", _("Refresh")),
        Binding("enter", "open_goods", _("Open goods"), show=False),
    ]

    def __init__(
        self, store: Store | None = None, *, today: dt.date | None = None, name: str | None = None
    ) -> None:
        """`today` fixes the day expiry is judged by (tests); by default each fetch's own day."""
        super().__init__(name=name)
        self._store = store
        self._today = today
        self._stores: list[Store] = []
        self._group: ProductGroup | None = None
        self._search = ""
        self._only_stocked = True
        #: Whether the tree shows beside the balances (wide) and as a drawer (narrow).
        self._tree_wide = True
        self._tree_drawer = False
        self._search_timer: Timer | None = None
        self._loaded_nodes: set[int] = set()
        self._count: int | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="stock-body"):
            tree = GroupTree(_("All groups"), id="stock-groups")
            tree.root.data = None
            tree.show_root = True
            tree.auto_expand = False
            yield tree
            with Vertical(id="stock-main"):
                with Horizontal(id="stock-bar"):
                    yield SearchInput(
                        placeholder=_("Search: code, name or barcode"), id="stock-search"
                    )
                    yield Static("", id="stock-status")
                yield StockTable(stock_columns(), id="stock-table", empty_text=_("No goods match"))
        yield Footer()

    def on_mount(self) -> None:
        self._today = self._today or _app_today(self.app)
        self._stores = list(Store.select().order_by(Store.code))
        if self._store is None:
            try:
                self._store = default_store()
            except BooksError as error:
                self.notify(str(error), title=_("Could not read the books"), severity="warning")
        tree = self.query_one("#stock-groups", Tree)
        tree.root.expand()
        self._load_children(tree.root)
        self._apply_tree_visibility(self.size.width)
        self._reload_source()
        self.query_one("#stock-table", LazyTable).focus()

    def on_resize(self, event: Resize) -> None:
        self._apply_tree_visibility(event.size.width)

    def _apply_tree_visibility(self, width: int) -> None:
        """Lay the tree out for this width, shown or not as the operator chose.

        Wide, the tree sits beside the balances and starts shown. Narrow (an
        80-column SSH terminal), the balances need every column, so the tree
        starts hidden and, when called up, takes the whole width until a group
        is chosen.
        """
        wide = width >= TREE_MIN_WIDTH
        show = self._tree_wide if wide else self._tree_drawer
        self.set_class(not wide, "-narrow")
        self.set_class(not show, "-no-tree")
        tree = self.query_one("#stock-groups", Tree)
        if not show and self.focused is tree:
            self.table.focus()
        elif show and not wide and self.focused is self.table:
            tree.focus()

    # ------------------------------------------------------------------ the table

    @property
    def table(self) -> LazyTable:
        return self.query_one("#stock-table", LazyTable)

    @property
    def store(self) -> Store | None:
        return self._store

    @property
    def search_text(self) -> str:
        """The search the table shows (after the typing pause), "" for none."""
        return self._search

    @property
    def goods_count(self) -> int | None:
        """How many goods the current query found; None while it is being counted."""
        return self._count

    def current_filter(self) -> StockFilter:
        """The query the table shows; only once the screen knows its store."""
        assert self._store is not None
        return StockFilter(
            store=self._store,
            group=self._group,
            search=self._search,
            only_stocked=self._only_stocked,
        )

    def _reload_source(self) -> None:
        """A new query: the table counts it and shows its first page."""
        if self._store is None:
            self._show_status()
            return
        self._count = None
        self.table.set_source(StockSource(self.current_filter(), self._today))
        self._show_status()

    def _show_status(self) -> None:
        parts = [self._store.code if self._store else ""]
        if self._group is not None:
            parts.append(self._group.name)
        parts.append(_("in stock") if self._only_stocked else _("all goods"))
        if self._count is not None:
            number = format_decimal(self._count, locale=current_language())
            parts.append(
                ngettext("{count} goods", "{count} goods", self._count).format(count=number)
            )
        else:
            parts.append("…")
        self.query_one("#stock-status", Static).update(" · ".join(parts))

    @on(LazyTable.Counted, "#stock-table")
    def _counted(self, event: LazyTable.Counted) -> None:
        self._count = event.count
        self._show_status()

    @on(LazyTable.LoadFailed)
    def _load_failed(self, event: LazyTable.LoadFailed) -> None:
        self.notify(str(event.error), title=_("Could not read the books"), severity="error")

    @on(LazyTable.RowSelected, "#stock-table")
    def _row_selected(self, event: LazyTable.RowSelected) -> None:
        self.open_goods(int(event.key))

    def action_open_goods(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self.open_goods(int(key))

    def open_goods(self, product_id: int) -> None:
        """Drill into one goods: its batches with expiry, and its latest moves."""
        from console.screens.goods import GoodsScreen

        if self._store is None:
            return
        self.app.push_screen(GoodsScreen(product_id, self._store, today=self._today))

    def refresh_data(self) -> None:
        """The books changed: re-read the same query, the cursor staying on its goods."""
        if self.is_mounted and self._store is not None:
            self._count = None
            self.table.reload(keep_cursor=True)

    def action_refresh_data(self) -> None:
        self.refresh_data()

    def reload_books(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------------ search

    @on(Input.Changed, "#stock-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._search_soon()

    @on(Input.Submitted, "#stock-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter (or a barcode scanner's end of code) searches at once and goes to the list."""
        self._search_now()

    # ------------------------------------------------------------------ filters

    def action_toggle_stocked(self) -> None:
        self._only_stocked = not self._only_stocked
        self._reload_source()

    def action_next_store(self) -> None:
        """Cycle through the stores; most back offices have one, chains a few."""
        if len(self._stores) < 2 or self._store is None:
            self.notify(_("There is only one store."))
            return
        codes = [store.code for store in self._stores]
        index = codes.index(self._store.code) if self._store.code in codes else -1
        self._store = self._stores[(index + 1) % len(self._stores)]
        self._reload_source()

    def action_toggle_tree(self) -> None:
        show = self.has_class("-no-tree")
        if self.has_class("-narrow"):
            self._tree_drawer = show
        else:
            self._tree_wide = show
        self._apply_tree_visibility(self.size.width)
        if show:
            self.query_one("#stock-groups", Tree).focus()

    # ------------------------------------------------------------------ the group tree

    @on(Tree.NodeExpanded, "#stock-groups")
    def _node_expanded(self, event: Tree.NodeExpanded) -> None:
        if event.node.id not in self._loaded_nodes:
            self._load_children(event.node)

    @on(Tree.NodeSelected, "#stock-groups")
    def _node_selected(self, event: Tree.NodeSelected) -> None:
        """Choosing a group shows its whole subtree's goods."""
        group = event.node.data
        if group is None and event.node is not event.node.tree.root:
            return
        same = group is self._group or (
            group is not None and self._group is not None and group.id == self._group.id
        )
        if not same:
            self.select_group(group)
        if self.has_class("-narrow"):
            self._tree_drawer = False
            self._apply_tree_visibility(self.size.width)

    def select_group(self, group: ProductGroup | None) -> None:
        """Filter by `group`'s subtree (None: every group), as choosing it in the tree does."""
        self._group = group
        self.sub_title = group.name if group is not None else None
        self._reload_source()

    def _load_children(self, node: TreeNode) -> None:
        self._loaded_nodes.add(node.id)
        node.remove_children()
        node.add_leaf("…", data=None)
        self._fetch_children(node)

    @work(thread=True, group="stock-groups", exit_on_error=False)
    def _fetch_children(self, node: TreeNode) -> None:
        """One level of the tree: the children of `node`, and which of them have children."""
        parent: ProductGroup | None = node.data
        try:
            with thread_connection():
                query = ProductGroup.select(
                    ProductGroup.id,
                    ProductGroup.code,
                    ProductGroup.name,
                    ProductGroup.path,
                    ProductGroup.depth,
                ).order_by(ProductGroup.name, ProductGroup.code)
                if parent is None:
                    query = query.where(ProductGroup.parent.is_null())
                else:
                    query = query.where(ProductGroup.parent == parent.id)
                groups = list(query)
                ids = [group.id for group in groups]
                with_children = {
                    parent_id
                    for (parent_id,) in ProductGroup.select(ProductGroup.parent)
                    .where(ProductGroup.parent.in_(ids))
                    .distinct()
                    .tuples()
                }
        except Exception as error:
            self.app.call_from_thread(self._children_failed, node, error)
            return
        self.app.call_from_thread(self._add_children, node, groups, with_children)

    def _add_children(
        self, node: TreeNode, groups: list[ProductGroup], with_children: set[int]
    ) -> None:
        node.remove_children()
        for group in groups:
            node.add(group.name, data=group, allow_expand=group.id in with_children)

    def _children_failed(self, node: TreeNode, error: Exception) -> None:
        self._loaded_nodes.discard(node.id)
        node.remove_children()
        self.notify(str(error), title=_("Could not read the groups"), severity="error")


def _app_today(app: object) -> dt.date | None:
    """The app's fixed day (a test or a demo clock), else None: each fetch's own day."""
    if getattr(app, "fixed_now", None) is None or not hasattr(app, "clock"):
        return None
    return app.clock().astimezone().date()
