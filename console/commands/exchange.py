"""`iis import`, `iis exchange ...`, `iis till ...`: the tills' files and accounts from a shell.

`iis import FILE...` runs the inbox's own pipeline on files given by hand; the
`exchange` verbs show the log, the per-till status and the files held for the operator,
and retry or discard those; the `till` verbs manage the one FTP account per till.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console.cli import CommandError, add_format_option
from console.output import render
from models.errors import BooksError
from models.i18n import _
from models.operators import require_approver, resolve_operator

HELD_KEYS = ("id", "till", "kind", "seq", "file", "state", "line", "received", "path", "reason")
OUTCOME_KEYS = ("file", "till", "kind", "seq", "event", "detail")


def register(sub: argparse._SubParsersAction) -> None:
    from models.till_records import EXCHANGE_EVENTS

    p = sub.add_parser("import", help=_("import till files given by hand (sales, drafts, ...)"))
    p.add_argument("files", nargs="+", metavar="FILE")
    add_format_option(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("exchange", help=_("the exchange with the tills: log, status, held files"))
    s = p.add_subparsers(dest="exchange_command", required=True)
    q = s.add_parser("log", help=_("the exchange log, newest first"))
    q.add_argument("--till")
    q.add_argument("--since", help=_("from this date or time (ISO 8601)"))
    q.add_argument("--event", choices=EXCHANGE_EVENTS)
    q.add_argument("--limit", type=int, default=200)
    add_format_option(q)
    q.set_defaults(handler=cmd_log)
    q = s.add_parser("status", help=_("per till: last contact, queues, last error"))
    add_format_option(q)
    q.set_defaults(handler=cmd_status)
    q = s.add_parser("quarantine", help=_("files held for the operator, with the reasons"))
    q.add_argument("--till")
    add_format_option(q)
    q.set_defaults(handler=cmd_quarantine)
    q = s.add_parser("retry", help=_("import a quarantined or conflicting file again"))
    q.add_argument("file", help=_("its name, path or id (see `iis exchange quarantine`)"))
    q.add_argument("--operator", help=_("employee code acting (default: the login user)"))
    q.set_defaults(handler=cmd_retry)
    q = s.add_parser("discard", help=_("set a held file aside: archived and marked, kept"))
    q.add_argument("file", help=_("its name, path or id (see `iis exchange quarantine`)"))
    q.add_argument("--reason", required=True)
    q.add_argument("--operator", help=_("employee code acting (default: the login user)"))
    q.set_defaults(handler=cmd_discard)

    p = sub.add_parser("till", help=_("till accounts: one FTP login per till"))
    s = p.add_subparsers(dest="till_command", required=True)
    q = s.add_parser("add", help=_("add a till account; prints its password once"))
    q.add_argument("code")
    q.add_argument("--store", help=_("the till's store (default: the default store)"))
    q.add_argument("--password-file", help=_("take the password from this file"))
    q.set_defaults(handler=cmd_till_add)
    q = s.add_parser("list", help=_("list the till accounts"))
    add_format_option(q)
    q.set_defaults(handler=cmd_till_list)
    q = s.add_parser("passwd", help=_("give a till a new password; prints it once"))
    q.add_argument("code")
    q.add_argument("--password-file", help=_("take the password from this file"))
    q.set_defaults(handler=cmd_till_passwd)
    q = s.add_parser("disable", help=_("stop a till from logging in"))
    q.add_argument("code")
    q.set_defaults(handler=cmd_till_disable)
    q = s.add_parser("enable", help=_("let a disabled till log in again"))
    q.add_argument("code")
    q.set_defaults(handler=cmd_till_enable)


def _inbox(args: argparse.Namespace):
    from exchange.folders import ExchangeFolders
    from exchange.inbox import Inbox

    return Inbox(ExchangeFolders(args.data_dir))


def _outcome_row(outcome) -> dict:
    return {
        "file": outcome.file,
        "till": outcome.till,
        "kind": outcome.kind,
        "seq": outcome.seq,
        "event": outcome.event,
        "detail": outcome.detail,
        "counts": outcome.counts,
        "path": str(outcome.path) if outcome.path else "",
    }


def _print_outcomes(outcomes: list, fmt: str) -> None:
    rows = [_outcome_row(o) for o in outcomes]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        print(render(rows, OUTCOME_KEYS, fmt))
        return
    for row in rows:
        print(
            _("{file}: {event}: {detail}").format(
                file=row["file"], event=_(row["event"]), detail=row["detail"]
            )
        )


def cmd_import(args: argparse.Namespace) -> int:
    missing = [name for name in args.files if not Path(name).is_file()]
    if missing:
        raise CommandError(_("no file {path}").format(path=", ".join(missing)))
    outcomes = _inbox(args).import_paths(args.files)
    _print_outcomes(outcomes, args.format)
    failed = any(o.event in ("quarantined", "conflict") for o in outcomes)
    return 1 if failed else 0


def cmd_log(args: argparse.Namespace) -> int:
    from models.exchange_log import LOG_KEYS, log_rows, parse_since

    since = parse_since(args.since) if args.since else None
    events = (args.event,) if args.event else None
    rows = log_rows(till=args.till, since=since, limit=args.limit, events=events)
    print(render(rows, LOG_KEYS, args.format))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from models.exchange_log import STATUS_KEYS, status_rows

    inbox = _inbox(args)
    rows = status_rows(waiting_in=inbox.waiting_counts())
    print(render(rows, STATUS_KEYS, args.format))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from models.exchange_log import held_files

    rows = [
        {
            "id": row.id,
            "till": row.till,
            "kind": row.kind,
            "seq": row.seq,
            "file": row.name,
            "state": row.state,
            "line": row.line,
            "received": row.received_at,
            "path": row.path,
            "reason": row.reason,
        }
        for row in held_files(args.till)
    ]
    if args.format == "table":
        rows = [{**r, "reason": r["reason"].replace("\n", " ")} for r in rows]
    print(render(rows, HELD_KEYS, args.format))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    outcome = _inbox(args).retry(args.file, by=_operator_code(args))
    _print_outcomes([outcome], "table")
    return 0 if outcome.event in ("imported", "duplicate") else 1


def cmd_discard(args: argparse.Namespace) -> int:
    operator = resolve_operator(args.operator)
    require_approver(operator, "discard files")
    outcome = _inbox(args).discard(args.file, args.reason, by=operator.code)
    print(_("{file}: discarded, kept in {path}").format(file=outcome.file, path=outcome.path))
    return 0


def _operator_code(args: argparse.Namespace) -> str:
    """The acting employee's code for the log: `--operator`, else the login user's, if any."""
    try:
        return resolve_operator(args.operator).code
    except BooksError:
        return ""


def _password_from(path: str | None) -> str | None:
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(
            _("cannot read the password file {path}: {reason}").format(
                path=path, reason=error.strerror
            )
        ) from None
    return text.strip("\r\n")


def _show_new_password(given: str | None, password: str) -> None:
    """Print a password the command made up; one taken from a file stays unprinted."""
    if given is None:
        print(
            _("password (shown once, keep it for the till): {password}").format(password=password)
        )


def cmd_till_add(args: argparse.Namespace) -> int:
    from exchange.folders import ExchangeFolders
    from models.tills import add_till

    given = _password_from(args.password_file)
    password = add_till(args.code, args.store, given)
    ExchangeFolders(args.data_dir).ensure(args.code)
    print(_("till {code} added").format(code=args.code))
    _show_new_password(given, password)
    return 0


def cmd_till_list(args: argparse.Namespace) -> int:
    from models.tills import TILL_KEYS, till_rows

    print(render(till_rows(), TILL_KEYS, args.format))
    return 0


def cmd_till_passwd(args: argparse.Namespace) -> int:
    from models.tills import set_password

    given = _password_from(args.password_file)
    password = set_password(args.code, given)
    print(_("till {code}: password changed").format(code=args.code))
    _show_new_password(given, password)
    return 0


def cmd_till_disable(args: argparse.Namespace) -> int:
    from models.tills import disable_till

    disable_till(args.code)
    print(_("till {code} disabled: it can no longer log in").format(code=args.code))
    return 0


def cmd_till_enable(args: argparse.Namespace) -> int:
    from models.tills import enable_till

    enable_till(args.code)
    print(_("till {code} enabled").format(code=args.code))
    return 0
