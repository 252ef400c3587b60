"""Messages that cross the whole console, as small dataclasses.

The data a message carries is the whole contract between the app and its
screens: a screen never reaches into the app's timers or connections, it only
answers these.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class BooksChanged(Message):
    """Another connection (the daemon, another console, this console's own actions)
    committed to the books since the last check.

    The app posts it to the screen in view; a screen reloads what it shows by
    key, so the cursor stays where the operator left it. `version` counts the
    changes seen since the console started; a screen that was hidden compares
    it with the version it last loaded when it comes back into view.
    """

    version: int


@dataclass
class DocumentChanged(Message):
    """This console changed a document (approved, rejected, edited, mapped a line).

    Sent so that a list showing the document refreshes at once rather than at
    the next tick of the live refresh.
    """

    document_id: int
