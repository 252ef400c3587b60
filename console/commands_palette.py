"""The command palette: every screen and every action, each with a line of help.

One provider lists, in this order, the actions of the screen in view (read
from its bindings, so a new binding is in the palette without more code),
the other screens, and what works everywhere (help, theme, quit). Actions of
a screen not in view are left out: they would act on a screen the operator
cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import ModalScreen, Screen

from models.i18n import _

__all__ = [
    "IISCommands",
    "PaletteCommand",
    "ScreenInfo",
    "is_textual_default",
    "palette_commands",
]


@dataclass(frozen=True)
class ScreenInfo:
    """A screen the app can show: its mode name, its title, what it is for."""

    mode: str
    title: str
    help: str


@dataclass(frozen=True)
class PaletteCommand:
    """One line of the palette: what it says, what it does, and a sentence of help."""

    title: str
    help: str
    run: Callable[[], Any]


def _textual_defaults() -> set[tuple[str, str, str]]:
    """Bindings every Textual app and screen has (focus, copy, ctrl+q), in Textual's English.

    They are left out of the palette and the help: the console's own keys say the same
    things in the operator's language.
    """
    found: set[tuple[str, str, str]] = set()
    for bindings in (Screen.BINDINGS, App.BINDINGS, ModalScreen.BINDINGS):
        for binding in Binding.make_bindings(bindings):
            found.add((binding.key, binding.action, binding.description))
    return found


TEXTUAL_DEFAULTS = _textual_defaults()


def is_textual_default(binding: Binding) -> bool:
    return (binding.key, binding.action, binding.description) in TEXTUAL_DEFAULTS


def _screen_title(screen: Screen) -> str:
    return str(screen.title or getattr(screen, "TITLE", "") or type(screen).__name__)


def screen_actions(app: App[Any], screen: Screen) -> list[PaletteCommand]:
    """The actions bound on `screen` itself (not the app's, not a widget's cursor keys).

    Read from the screen's own bindings rather than the active ones, where a
    focused widget may shadow a screen key (enter) that still means something.
    """
    commands: list[PaletteCommand] = []
    seen: set[str] = set()
    prefix = _screen_title(screen)
    for _key, binding in screen._bindings:
        if not binding.description or binding.system or binding.action in seen:
            continue
        if is_textual_default(binding):
            continue
        if screen.check_action(binding.action.partition("(")[0], ()) is False:
            continue
        seen.add(binding.action)
        commands.append(
            PaletteCommand(
                f"{prefix}: {binding.description}",
                binding.tooltip or binding.description,
                partial(app.run_action, binding.action, screen),
            )
        )
    return commands


def palette_commands(app: App[Any], screen: Screen) -> list[PaletteCommand]:
    """Everything the palette offers while `screen` is in view."""
    commands = screen_actions(app, screen)
    current = getattr(app, "current_mode", None)
    infos: Iterable[ScreenInfo] = getattr(app, "screen_infos", lambda: ())()
    for info in infos:
        if info.mode == current and not screen.is_modal and len(app.screen_stack) <= 1:
            continue
        commands.append(
            PaletteCommand(
                _("Go to {screen}").format(screen=info.title),
                info.help,
                partial(app.run_action, f"show_screen('{info.mode}')"),
            )
        )
    commands.extend(
        [
            PaletteCommand(
                _("Help: keys of this screen"),
                _("List the keys of the screen in view and those that work everywhere"),
                partial(app.run_action, "help"),
            ),
            PaletteCommand(
                _("Change theme"),
                _("Choose the console's colours"),
                app.action_change_theme,
            ),
            PaletteCommand(
                _("Quit"),
                _("Leave the console (a demo stops its daemon and tills too)"),
                partial(app.run_action, "quit"),
            ),
        ]
    )
    return commands


class IISCommands(Provider):
    """The palette's one provider, filtered by the screen in view."""

    def _commands(self) -> list[PaletteCommand]:
        return palette_commands(self.app, self.screen)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = max(matcher.match(command.title), matcher.match(command.help) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)
