"""`iis console` and `iis demo`: the operator console, over the books or over a demo store.

The console is a full-screen Textual app, so while it runs nothing may write to
the terminal behind it: the log goes to a file in the data folder instead of
stderr. The language was chosen before this module was imported (`--lang`),
so the screens' key labels are already in it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from models.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help=_("the operator console (full screen)"))
    p.add_argument("--operator", help=_("employee code acting (default: the login user)"))
    p.add_argument(
        "--demo",
        action="store_true",
        help=_("a demo store in a temporary folder, with its daemon and two tills"),
    )
    p.add_argument(
        "--screen",
        choices=("exchange", "drafts", "stock", "documents"),
        default="exchange",
        help=_("the screen shown first (default: exchange)"),
    )
    p.set_defaults(handler=cmd_console, needs_database=False)

    p = sub.add_parser(
        "demo", help=_("the console over a demo store: daemon and two simulated tills included")
    )
    p.add_argument("--operator", help=_("employee code acting (default: the login user)"))
    p.add_argument("--seed", type=int, default=7, help=_("the demo's dice (default: 7)"))
    p.set_defaults(handler=cmd_demo, needs_database=False, screen="exchange")


def _log_to_file(path: Path) -> None:
    """Send the log to `path`: a full-screen app and lines on stderr do not mix."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            root.removeHandler(handler)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def cmd_console(args: argparse.Namespace) -> int:
    if args.demo:
        return cmd_demo(args)
    from models.db import open_database

    open_database(args.data_dir)
    _log_to_file(Path(args.data_dir) / "logs" / "console.log")
    from console.app import IISApp

    IISApp(args.data_dir, args.operator, start_mode=args.screen).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from console.demo import Demo

    demo = Demo(seed=getattr(args, "seed", 7))
    print(_("Preparing a demo store…"), flush=True)
    try:
        _log_to_file(demo.folder / "demo.log")
        demo.start()
        from console.app import IISApp

        IISApp(demo.data_dir, args.operator, demo=demo, start_mode=args.screen).run()
    finally:
        demo.stop()
    print(_("The demo stopped; its folder is removed."))
    return 0
