"""Small dialogs every screen shares: confirm an action, give a reason, edit one value.

Each is a `ModalScreen` that returns its answer through `dismiss`, so a caller
writes `self.app.push_screen(ConfirmModal(text), callback)` and acts in the
callback. All of them work with the keyboard alone: enter confirms, escape
backs out, and the buttons are there for a mouse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from models.i18n import _

__all__ = ["ConfirmModal", "EditValueModal", "ReasonModal"]

T = TypeVar("T")

_MODAL_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
}}
{name} > Vertical {{
    width: 64;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: round $primary;
    background: $surface;
    padding: 0 1;
}}
{name} .modal--message {{
    width: 100%;
    margin-bottom: 1;
}}
{name} .modal--error {{
    color: $error;
    height: auto;
}}
{name} Input {{
    width: 100%;
    margin-bottom: 1;
}}
{name} .modal--buttons {{
    width: 100%;
    height: auto;
    align-horizontal: right;
}}
{name} .modal--buttons Button {{
    margin-left: 1;
}}
"""


class ConfirmModal(ModalScreen[bool]):
    """Ask before an action that changes the books; answers True only on a clear yes.

    `y` or enter on the focused confirm button says yes; `n` or escape says no.
    """

    DEFAULT_CSS = _MODAL_CSS.format(name="ConfirmModal")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", _("No"), tooltip=_("Back out; nothing changes")),
        Binding("y", "answer(True)", _("Yes"), tooltip=_("Go ahead")),
        Binding("left,right", "switch_button", _("Other button"), show=False),
    ]

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        confirm_label: str | None = None,
        cancel_label: str | None = None,
    ) -> None:
        super().__init__()
        self.message = message
        self.title_text = title or _("Please confirm")
        self.confirm_label = confirm_label or _("Yes")
        self.cancel_label = cancel_label or _("No")

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.message, classes="modal--message", markup=False)
            with Horizontal(classes="modal--buttons"):
                yield Button(self.cancel_label, id="cancel", compact=True)
                yield Button(self.confirm_label, id="confirm", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_switch_button(self) -> None:
        focused = self.focused
        other = "#cancel" if focused is not None and focused.id == "confirm" else "#confirm"
        self.query_one(other, Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")


class _InputModal(ModalScreen[T | None], Generic[T]):
    """A dialog around one input: enter or the confirm button submits, escape backs out.

    `_answer` turns the typed text into the answer or raises `ValueError` with a
    sentence for the operator; the dialog then stays open and shows the sentence.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Back"), tooltip=_("Back out; nothing changes")),
    ]

    def _answer(self, text: str) -> T:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        try:
            value = self._answer(self.query_one(Input).value)
        except ValueError as error:
            self.query_one("#error", Label).update(str(error))
            self.query_one(Input).focus()
            return
        self.dismiss(value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self._submit()
        else:
            self.dismiss(None)


class ReasonModal(_InputModal[str]):
    """Ask for the reason of a refusal (reject a draft, cancel a document).

    The books keep the reason beside the operator's name, so an empty one is
    not accepted. Returns the reason, or None when the operator backs out;
    submitting it is the confirmation of the action the prompt names.
    """

    DEFAULT_CSS = _MODAL_CSS.format(name="ReasonModal")

    def __init__(
        self,
        prompt: str,
        *,
        title: str | None = None,
        confirm_label: str | None = None,
        value: str = "",
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.title_text = title or _("Reason")
        self.confirm_label = confirm_label or _("OK")
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.prompt, classes="modal--message", markup=False)
            yield Input(self.value, placeholder=_("reason"), id="reason")
            yield Label("", classes="modal--error", id="error")
            with Horizontal(classes="modal--buttons"):
                yield Button(_("Cancel"), id="cancel", compact=True)
                yield Button(self.confirm_label, id="confirm", variant="error", compact=True)

    def _answer(self, text: str) -> str:
        reason = text.strip()
        if not reason:
            raise ValueError(_("A reason is required."))
        return reason


class EditValueModal(_InputModal[T], Generic[T]):
    """Edit one value (a quantity, a price) and hand it back already parsed.

    `parse` turns the text into the value or raises `ValueError` with a
    sentence for the operator; the dialog stays open and shows the sentence,
    so a typo never reaches the books.
    """

    DEFAULT_CSS = _MODAL_CSS.format(name="EditValueModal")

    def __init__(
        self,
        prompt: str,
        value: str,
        parse: Callable[[str], T],
        *,
        title: str | None = None,
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value
        self.parse = parse
        self.title_text = title or _("Edit")

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.prompt, classes="modal--message", markup=False)
            yield Input(self.value, id="value", select_on_focus=True)
            yield Label("", classes="modal--error", id="error")
            with Horizontal(classes="modal--buttons"):
                yield Button(_("Cancel"), id="cancel", compact=True)
                yield Button(_("Save"), id="confirm", variant="primary", compact=True)

    def _answer(self, text: str) -> T:
        return self.parse(text)
