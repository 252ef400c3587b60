"""Help: the keys of the screen in view, and the ones that work everywhere.

Read from the bindings themselves, so the list is never out of date: what a
screen binds is what help shows, with each binding's longer tooltip beside
its short footer label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from console.commands_palette import is_textual_default
from models.i18n import _

__all__ = ["HelpEntry", "HelpScreen", "screen_keys"]


@dataclass(frozen=True)
class HelpEntry:
    """One key of the help list."""

    key: str
    description: str
    help: str
    everywhere: bool


def screen_keys(screen: Screen) -> list[HelpEntry]:
    """The keys of `screen`: its own, its focused widget's shown ones, then the app's."""
    app = screen.app
    seen: set[tuple[str, str]] = set()
    here: list[HelpEntry] = []
    everywhere: list[HelpEntry] = []

    def add(binding: Binding, tooltip: str, is_app: bool) -> None:
        ident = (binding.action, binding.description)
        if not binding.description or binding.system or ident in seen:
            return
        if is_textual_default(binding):
            return
        seen.add(ident)
        entry = HelpEntry(
            app.get_key_display(binding), binding.description, tooltip or binding.tooltip, is_app
        )
        (everywhere if is_app else here).append(entry)

    for _key, binding in screen._bindings:
        add(binding, "", False)
    for namespace, binding, enabled, tooltip in screen.active_bindings.values():
        if not enabled:
            continue
        if isinstance(namespace, App):
            add(binding, tooltip, True)
        elif binding.show and namespace is not screen:
            add(binding, tooltip, False)
    return here + everywhere


class HelpScreen(ModalScreen[None]):
    """The keys of the screen below, as a list the operator can scroll."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", _("Close"), tooltip=_("Close the help")),
    ]

    def __init__(self, screen: Screen, title: str = "") -> None:
        super().__init__()
        self.entries = screen_keys(screen)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = (
                _("Keys: {screen}").format(screen=self.title_text) if self.title_text else _("Keys")
            )
            box.border_subtitle = _("esc close · ctrl+p all commands")
            with VerticalScroll(id="help-body"):
                yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(style="bold", no_wrap=True, min_width=6)
        table.add_column(no_wrap=True)
        table.add_column(style="dim", ratio=1)
        groups = (
            (_("On this screen"), [e for e in self.entries if not e.everywhere]),
            (_("Everywhere"), [e for e in self.entries if e.everywhere]),
        )
        for heading, entries in groups:
            if not entries:
                continue
            table.add_row(Text(heading, style="bold underline"), "", "")
            for entry in entries:
                table.add_row(entry.key, entry.description, entry.help)
        return table

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
