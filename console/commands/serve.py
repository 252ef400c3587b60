"""Commands of this area are added as they are built."""


def register(sub) -> None:
    """No verbs yet."""
