"""Errors the books raise for an operator to read: one clear sentence each."""


class BooksError(Exception):
    """A refusal the operator can act on (not a bug): shown as one line."""


class NegativeStockError(BooksError):
    """Posting would take goods below zero where the store does not allow it."""


class DocumentStateError(BooksError):
    """The document is not in a state that allows this action."""


class NotFoundError(BooksError):
    """A code or id names nothing in the books."""


class PermissionDenied(BooksError):
    """The operator's role does not allow this action."""
