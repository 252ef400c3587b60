"""The console's screens, and the base of those that follow the books live.

A `LiveScreen` reloads what it shows when the app reports that the books
changed (`BooksChanged`), and, if it was out of view when that happened
(another mode, a dialog on top), as soon as it comes back into view. Screens
reload by key, so the cursor stays where the operator left it.
"""

from __future__ import annotations

from textual import on
from textual.events import ScreenResume
from textual.screen import Screen

from console.messages import BooksChanged

__all__ = ["LiveScreen"]


class LiveScreen(Screen):
    """A screen over the books that reloads itself when they change."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._books_version_seen = 0

    def reload_books(self) -> None:
        """Re-read what the screen shows, keeping the cursor by key. Subclasses say how."""

    def _app_books_version(self) -> int:
        return int(getattr(self.app, "books_version", 0))

    @on(ScreenResume)
    def _resumed(self) -> None:
        version = self._app_books_version()
        if version != self._books_version_seen:
            self._books_version_seen = version
            self.reload_books()

    @on(BooksChanged)
    def _books_changed(self, message: BooksChanged) -> None:
        self._books_version_seen = message.version
        self.reload_books()

    def on_mount(self) -> None:
        self._books_version_seen = self._app_books_version()
