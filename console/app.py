"""The operator console: one Textual app over the books, as many at once as there are SSH sessions.

The app owns three things every screen relies on:

- who is at the keyboard: the operator, resolved once at start from the login
  user (or `--operator CODE`); a login that is no employee gets a clear screen
  saying what to ask an admin for, not a traceback;
- the live refresh: once a second a worker asks SQLite for `PRAGMA
  data_version` on the app's own connection, which changes only when another
  connection commits. Only then is the screen in view told (`BooksChanged`)
  to reload by key; a hidden screen catches up when it comes back into view.
  Nothing is re-queried while the books stand still;
- the screens, one mode each (so each keeps its own stack, e.g. an open
  draft), reached by keys 1 to 4 and from the command palette.

With a demo (`iis demo`), the app also owns the demo's daemon and tills and
stops them when it closes, so quitting leaves nothing running.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, Protocol

from peewee import fn
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from console.commands_palette import IISCommands, ScreenInfo
from console.messages import BooksChanged, DocumentChanged
from console.screens.documents import DocumentsScreen
from console.screens.drafts import DraftsScreen
from console.screens.exchange import ExchangeScreen
from console.screens.help import HelpScreen
from console.screens.stock import StockScreen
from console.sources import thread_connection
from models.db import database, is_sqlite
from models.documents import Document
from models.errors import BooksError
from models.i18n import _
from models.operators import resolve_operator
from models.org import Employee
from models.till_records import ExchangeEvent, TillStatus

__all__ = ["BooksWatch", "IISApp", "NotAnOperatorScreen"]

log = logging.getLogger("iis.console")


class Stoppable(Protocol):
    """What the app needs of a demo: a way to stop everything it started."""

    def stop(self) -> None: ...


class BooksWatch:
    """Tells whether anything was committed to the books since the last look.

    On SQLite it keeps one connection of its own and reads `PRAGMA
    data_version`, which moves only when some other connection commits, so the
    check costs nothing and sees the daemon, other consoles and this console's
    own writes alike. Other databases have no such counter; there a few
    indexed maxima stand in for it. Called from one worker at a time.
    """

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None
        self._last: object = None

    def _sqlite_version(self) -> int:
        if self._connection is None:
            path = database.obj.database
            self._connection = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=5
            )
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    @staticmethod
    def _fingerprint() -> tuple:
        with thread_connection():
            return (
                ExchangeEvent.select(fn.MAX(ExchangeEvent.id)).scalar(),
                Document.select(fn.MAX(Document.updated)).scalar(),
                Document.select(fn.COUNT(Document.id)).scalar(),
                TillStatus.select(fn.MAX(TillStatus.last_contact)).scalar(),
            )

    def changed(self) -> bool:
        """True when the books moved since the previous call (never on the first call)."""
        current = self._sqlite_version() if is_sqlite() else self._fingerprint()
        previous, self._last = self._last, current
        return previous is not None and previous != current

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class NotAnOperatorScreen(Screen[None]):
    """Shown instead of the console when the login user is not an employee (or not active)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape,enter", "app.quit", _("Quit"), tooltip=_("Leave the console")),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="not-operator"):
            yield Static(_("You are not an operator of these books"), id="not-operator-title")
            yield Static(self.message, id="not-operator-message", markup=False)
            yield Static(_("Press q to leave."), id="not-operator-hint")
        yield Footer()


class IISApp(App[None]):
    """The IIS operator console."""

    CSS_PATH = "app.tcss"
    TITLE = "IIS"
    COMMANDS: ClassVar[set[Any]] = {IISCommands}

    MODES: ClassVar[dict[str, Any]] = {
        "exchange": ExchangeScreen,
        "drafts": DraftsScreen,
        "stock": StockScreen,
        "documents": DocumentsScreen,
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "1",
            "show_screen('exchange')",
            _("Exchange"),
            show=False,
            tooltip=_("Tills, their queues and the live exchange log"),
        ),
        Binding(
            "2",
            "show_screen('drafts')",
            _("Drafts"),
            show=False,
            tooltip=_("Drafts from the tills awaiting approval"),
        ),
        Binding(
            "3",
            "show_screen('stock')",
            _("Stock"),
            show=False,
            tooltip=_("Stock by group, batch and expiry"),
        ),
        Binding(
            "4",
            "show_screen('documents')",
            _("Documents"),
            show=False,
            tooltip=_("The documents journal"),
        ),
        Binding(
            "question_mark,f1",
            "help",
            _("Help"),
            key_display="?",
            tooltip=_("The keys of this screen"),
        ),
        Binding("q", "quit", _("Quit"), tooltip=_("Leave the console")),
        Binding(
            "ctrl+p",
            "command_palette",
            _("Commands"),
            show=False,
            key_display="^p",
            priority=True,
            tooltip=_("Every screen and action, searchable"),
        ),
    ]

    #: Seconds between looks at the books for changes.
    REFRESH_INTERVAL: ClassVar[float] = 1.0

    def __init__(
        self,
        data_dir: Path | str,
        operator_code: str | None = None,
        *,
        demo: Stoppable | None = None,
        start_mode: str = "exchange",
        now: dt.datetime | None = None,
        refresh_interval: float | None = None,
    ) -> None:
        """Open the console over the books in `data_dir` (the database is already open).

        Args:
            data_dir: The store's data folder (the exchange's folders live under it).
            operator_code: The employee acting; None means the login user.
            demo: Something to stop when the console closes (the demo's daemon and tills).
            start_mode: The screen shown first.
            now: A fixed "now" for tests and snapshots; None means the real clock.
            refresh_interval: Seconds between looks at the books (default one).
        """
        super().__init__()
        self.data_dir = Path(data_dir)
        self.operator_code = operator_code
        self.operator: Employee | None = None
        self.demo = demo
        self.start_mode = start_mode
        self.fixed_now = now
        self.refresh_interval = refresh_interval or self.REFRESH_INTERVAL
        #: Changes of the books seen since start; screens compare it with what they loaded.
        self.books_version = 0
        self._watch = BooksWatch()
        self._checking = False

    def clock(self) -> dt.datetime:
        """Now, as an aware UTC time (fixed in tests)."""
        if self.fixed_now is not None:
            now = self.fixed_now
            return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now
        return dt.datetime.now(dt.UTC)

    def screen_infos(self) -> Iterable[ScreenInfo]:
        """The screens, in the order of their keys, for the palette and the help."""
        return (
            ScreenInfo("exchange", _("Exchange"), _("Tills, their queues and the live log")),
            ScreenInfo("drafts", _("Drafts"), _("Drafts from the tills awaiting approval")),
            ScreenInfo("stock", _("Stock"), _("Stock by group, batch and expiry")),
            ScreenInfo("documents", _("Documents"), _("The documents journal")),
        )

    # ---------------------------------------------------------------- start and stop

    def on_mount(self) -> None:
        self._close_on_signals()
        try:
            self.operator = resolve_operator(self.operator_code)
        except BooksError as error:
            self.push_screen(NotAnOperatorScreen(str(error)))
            return
        self.sub_title = f"{self.operator.name} ({_(self.operator.role)})"
        self.switch_mode(self.start_mode)
        self._check_books()
        self.set_interval(self.refresh_interval, self._check_books, name="books-watch")

    def _close_on_signals(self) -> None:
        """A dropped SSH session (SIGHUP) or a SIGTERM closes the console as `q` does.

        Without this the process would die where it stands, and a demo would leave
        its daemon's folder behind.
        """
        if self.is_headless:
            return
        try:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(signum, self.exit)
        except (NotImplementedError, RuntimeError, AttributeError):
            pass

    def on_unmount(self) -> None:
        self._watch.close()
        if self.demo is not None:
            demo, self.demo = self.demo, None
            try:
                demo.stop()
            except Exception:
                log.exception("the demo did not stop cleanly")

    # ---------------------------------------------------------------- live refresh

    def _check_books(self) -> None:
        """Start a look at the books, unless one is still under way (a busy disk)."""
        if self._checking:
            return
        self._checking = True
        self._poll_books()

    @work(thread=True, group="books-watch", exit_on_error=False)
    def _poll_books(self) -> None:
        changed = False
        try:
            changed = self._watch.changed()
        except Exception:
            log.debug("could not look at the books", exc_info=True)
        finally:
            self.call_from_thread(self._checked, changed)

    def _checked(self, changed: bool) -> None:
        self._checking = False
        if changed:
            self.books_version += 1
            self.screen.post_message(BooksChanged(self.books_version))

    @on(DocumentChanged)
    def _document_changed(self, _message: DocumentChanged) -> None:
        """This console wrote: look now rather than at the next tick."""
        self._check_books()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Screens and help wait for an operator; a stranger may only quit."""
        return not (action in {"show_screen", "help"} and self.operator is None)

    def action_show_screen(self, mode: str) -> None:
        if self.operator is None or mode not in self.MODES:
            return
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = str(self.screen.title or getattr(self.screen, "TITLE", "") or "")
        self.push_screen(HelpScreen(self.screen, title))

    def with_operator(self, job: Callable[[Employee], None]) -> None:
        """Run `job` with the operator, or say that none is signed in."""
        if self.operator is None:
            self.notify(_("No operator is signed in."), severity="error")
            return
        job(self.operator)
