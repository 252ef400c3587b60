"""`iis serve`, `iis export`, `iis message send`, `iis simulate`: the exchange from a shell.

`serve` is the daemon a systemd unit runs: it logs to stderr and stops cleanly on
SIGTERM or Ctrl-C, finishing (or rolling back) the file in hand. `export` is one outbox
run for cron or an operator in a hurry. `simulate` runs a PrimePOS-ShopV2 till against
a server, so the whole loop can be watched without a real till.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import threading
from pathlib import Path

from console.cli import CommandError
from models.i18n import _

logger = logging.getLogger("iis.exchange")

PRIORITIES = ("normal", "high")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help=_("run the exchange daemon: FTP server, inbox, outbox"))
    p.add_argument("--ftp-host", default="127.0.0.1", help=_("address to listen on"))
    p.add_argument("--ftp-port", type=int, default=2121, help=_("FTP port (default: 2121)"))
    p.add_argument("--passive-ports", metavar="A-B", help=_("passive data ports, e.g. 50000-50100"))
    p.add_argument("--cert", help=_("certificate (PEM) for explicit FTPS"))
    p.add_argument("--key", help=_("private key (PEM) of the certificate"))
    p.add_argument(
        "--export-interval", type=float, default=60.0, help=_("seconds between outbox runs")
    )
    p.add_argument(
        "--scan-interval", type=float, default=60.0, help=_("seconds between folder scans")
    )
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("export", help=_("publish what the tills must know, now"))
    p.add_argument("--full", action="store_true", help=_("full loads instead of deltas"))
    p.add_argument("--till", action="append", help=_("only this till (may repeat)"))
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("message", help=_("information messages for the tills"))
    s = p.add_subparsers(dest="message_command", required=True)
    q = s.add_parser("send", help=_("send a message to all tills or one"))
    q.add_argument("text")
    q.add_argument("--till", help=_("only this till"))
    q.add_argument("--until", help=_("show until this time (ISO 8601)"))
    q.add_argument("--priority", choices=PRIORITIES, default="normal")
    q.add_argument("--sender", default="manager", help=_("who the message is from"))
    q.set_defaults(handler=cmd_message_send)

    p = sub.add_parser("simulate", help=_("run a simulated PrimePOS-ShopV2 till"))
    p.add_argument("--till", required=True)
    p.add_argument("--password-file", required=True, help=_("file holding the till's password"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2121)
    p.add_argument("--store", help=_("the till's store code (default: from the books, or S01)"))
    p.add_argument("--interval", type=float, default=2.0, help=_("seconds between rounds"))
    p.add_argument("--count", type=int, help=_("stop after this many rounds"))
    p.add_argument("--seed", type=int)
    p.add_argument("--legacy", action="store_true", help=_("upload without renaming"))
    p.add_argument("--work-dir", help=_("the till's own folder (default: in the data folder)"))
    p.set_defaults(handler=cmd_simulate, needs_database=False)


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop`; the main thread then shuts the service down."""

    def handler(signum: int, _frame: object) -> None:
        logger.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def cmd_serve(args: argparse.Namespace) -> int:
    from exchange.ftp_server import parse_port_range
    from exchange.service import ExchangeService

    passive = None
    if args.passive_ports:
        try:
            passive = parse_port_range(args.passive_ports)
        except ValueError as error:
            raise CommandError(str(error)) from None
    if args.key and not args.cert:
        raise CommandError(_("--key needs --cert"))
    service = ExchangeService(
        args.data_dir,
        host=args.ftp_host,
        port=args.ftp_port,
        passive_ports=passive,
        certfile=args.cert,
        keyfile=args.key,
        export_interval=args.export_interval,
        scan_interval=args.scan_interval,
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        service.start()
    except OSError as error:
        service.stop()
        raise CommandError(
            _("cannot start the FTP server on {host}:{port}: {reason}").format(
                host=args.ftp_host, port=args.ftp_port, reason=error
            )
        ) from None
    try:
        while not stop.wait(1.0):
            if not service.running:
                logger.error("the exchange worker stopped unexpectedly")
                return 1
    finally:
        service.stop()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from exchange.folders import ExchangeFolders
    from exchange.outbox import Outbox
    from models.org import Till

    if args.till:
        known = {code for (code,) in Till.select(Till.code).tuples()}
        missing = [code for code in args.till if code not in known]
        if missing:
            raise CommandError(_("no till {code}").format(code=", ".join(missing)))
    outbox = Outbox(ExchangeFolders(args.data_dir))
    outbox.scan_acknowledgements()
    published = outbox.run(full=args.full, tills=args.till)
    for item in published:
        print(
            _("{till}: {name} ({mode}, {count} records)").format(
                till=item.till, name=item.name, mode=item.mode, count=item.records
            )
        )
    if not published:
        print(_("nothing to publish"))
    return 0


def _parse_until(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    from models.org import to_utc

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("{text} is not a time such as 2026-12-04T18:00").format(text=text)
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return to_utc(moment)


def cmd_message_send(args: argparse.Namespace) -> int:
    from peewee import fn

    from models.db import write_transaction
    from models.org import Till
    from models.till_records import Message

    text = args.text.strip()
    if not text:
        raise CommandError(_("the message is empty"))
    if args.till and not Till.select().where(Till.code == args.till).exists():
        raise CommandError(_("no till {code}").format(code=args.till))
    until = _parse_until(args.until)
    with write_transaction():
        last = Message.select(fn.MAX(Message.id)).scalar() or 0
        code = f"M{last + 1}"
        while Message.select().where(Message.code == code).exists():
            last += 1
            code = f"M{last + 1}"
        Message.create(
            code=code,
            sender=args.sender,
            text=text,
            until=until,
            priority=args.priority,
            till=args.till or None,
        )
    print(
        _("message {code} queued for {target}").format(
            code=code, target=args.till or _("all tills")
        )
    )
    return 0


def _store_of(args: argparse.Namespace) -> str:
    """The till's store: named, else from the books when they exist, else S01."""
    if args.store:
        return args.store
    from models.db import DATABASE_FILE, open_database

    if (Path(args.data_dir) / DATABASE_FILE).exists():
        open_database(Path(args.data_dir))
        from models.org import Store, Till

        row = Till.select(Store.code).join(Store).where(Till.code == args.till).tuples().first()
        if row:
            return row[0]
    return "S01"


def cmd_simulate(args: argparse.Namespace) -> int:
    from exchange.simulator import TillSimulator

    try:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CommandError(
            _("cannot read the password file {path}: {reason}").format(
                path=args.password_file, reason=error.strerror
            )
        ) from None
    work_dir = (
        Path(args.work_dir) if args.work_dir else Path(args.data_dir) / "simulator" / args.till
    )
    till = TillSimulator(
        args.host,
        args.port,
        args.till,
        password,
        _store_of(args),
        work_dir,
        seed=args.seed,
        legacy=args.legacy,
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    rounds = 0
    while not stop.is_set() and (args.count is None or rounds < args.count):
        try:
            result = till.step()
        except Exception as error:
            logger.warning("till %s: %s", args.till, error)
        else:
            for name in result.applied:
                print(_("applied {name}").format(name=name), flush=True)
            if result.uploaded:
                print(_("uploaded {name}").format(name=result.uploaded), flush=True)
        rounds += 1
        if args.count is not None and rounds >= args.count:
            break
        stop.wait(args.interval)
    return 0
