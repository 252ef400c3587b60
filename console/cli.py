"""The `iis` command line: one verb per job a back office does from a shell or cron.

Each area of verbs lives in its own module under `console/commands/` and adds
its sub-commands in `register()`. Every command gets an open database (unless
it says it needs none) and reports failure as one line and a non-zero exit:
an operator never sees a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs

from models.i18n import _, setup_language

#: Modules under console/commands/ that register verbs, in help order.
COMMAND_MODULES = (
    "setup",
    "catalog",
    "parties",
    "stock",
    "documents",
    "exchange",
    "serve",
    "app",
)


class CommandError(Exception):
    """A failure to report to the operator as one line (exit code 2 by default)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def resolve_data_dir(option: str | None) -> Path:
    """`--data-dir`, else IIS_DATA_DIR, else the platform's user data folder."""
    if option:
        return Path(option).expanduser()
    if os.environ.get("IIS_DATA_DIR"):
        return Path(os.environ["IIS_DATA_DIR"]).expanduser()
    return Path(platformdirs.user_data_dir("iis", appauthor=False))


class _Parser(argparse.ArgumentParser):
    """argparse, plus a "did you mean" when a verb is mistyped."""

    def error(self, message: str):  # type: ignore[override]
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            close = difflib.get_close_matches(match.group(1), choices, n=1)
            if close:
                message = _("{message}; did you mean {suggestion}?").format(
                    message=message, suggestion=close[0]
                )
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iis",
        description=_("IIS: the back office beside PrimePOS-ShopV2 tills."),
    )
    parser.add_argument(
        "--data-dir",
        help=_("the store's data folder (default: $IIS_DATA_DIR or the user data folder)"),
    )
    parser.add_argument("--lang", help=_("interface language: en or ru"))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log more detail"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"console.commands.{name}")
        module.register(sub)
    return parser


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help=_("output format (default: table)"),
    )


Handler = Callable[[argparse.Namespace], int | None]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    setup_language(_language_option(argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return int(exit_.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Schema migrations and library chatter are for the log, not a shell's stderr.
        logging.getLogger("peewee").setLevel(logging.WARNING)
    args.data_dir = resolve_data_dir(args.data_dir)
    handler: Handler = args.handler
    try:
        if getattr(args, "needs_database", True):
            from models.db import open_database

            open_database(args.data_dir)
        result = handler(args)
    except CommandError as error:
        print(_("error: {message}").format(message=error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last guard: one line, and the detail in the log
        from models.errors import BooksError

        if isinstance(error, BooksError):
            print(_("error: {message}").format(message=error), file=sys.stderr)
            return 2
        logging.getLogger("iis").debug("unexpected failure", exc_info=True)
        print(
            _("error: {kind}: {message} (run with -v for details)").format(
                kind=type(error).__name__, message=error
            ),
            file=sys.stderr,
        )
        return 1
    return int(result or 0)


def _language_option(argv: Sequence[str]) -> str | None:
    """The language must be known before any parser or screen is built."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    raise SystemExit(main())
