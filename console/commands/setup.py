"""`iis init`, `iis store`, `iis employee`, `iis check`: setting up and proving the books."""

from __future__ import annotations

import argparse
import getpass

from console.cli import CommandError, add_format_option
from console.output import render
from models.check import check_books
from models.db import write_transaction
from models.i18n import _
from models.org import DEFAULT_STORE_KEY, ROLES, Employee, Setting, Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help=_("create the data folder, the database and the store"))
    p.add_argument("--store", required=True, help=_("the store's code, e.g. S01"))
    p.add_argument("--name", required=True, help=_("the store's name"))
    p.add_argument(
        "--admin-login",
        default=None,
        help=_("the OS login that becomes the first admin (default: you)"),
    )
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("store", help=_("stores of the chain"))
    s = p.add_subparsers(dest="store_command", required=True)
    q = s.add_parser("add", help=_("add a store"))
    q.add_argument("code")
    q.add_argument("--name", required=True)
    q.set_defaults(handler=cmd_store_add)
    q = s.add_parser("list", help=_("list the stores"))
    add_format_option(q)
    q.set_defaults(handler=cmd_store_list)
    q = s.add_parser("set", help=_("change a store's settings"))
    q.add_argument("code")
    q.add_argument(
        "--allow-negative",
        choices=("yes", "no"),
        help=_("allow documents that take goods below zero"),
    )
    q.set_defaults(handler=cmd_store_set)

    p = sub.add_parser("employee", help=_("staff: cashiers, sellers, managers, admins"))
    s = p.add_subparsers(dest="employee_command", required=True)
    q = s.add_parser("add", help=_("add or update an employee"))
    q.add_argument("code")
    q.add_argument("--name", required=True)
    q.add_argument("--role", choices=ROLES, default="cashier")
    q.add_argument("--login", help=_("the OS login of this employee, for the console"))
    q.add_argument("--store", help=_("the employee's store code"))
    q.set_defaults(handler=cmd_employee_add)
    q = s.add_parser("list", help=_("list the staff"))
    add_format_option(q)
    q.set_defaults(handler=cmd_employee_list)

    p = sub.add_parser("check", help=_("prove the ledger's invariants; non-zero exit if broken"))
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("backup", help=_("copy the books to a file while everything keeps running"))
    p.add_argument("target", help=_("a new file, or a folder for a dated file"))
    p.set_defaults(handler=cmd_backup)


def cmd_init(args: argparse.Namespace) -> int:
    login = args.admin_login or getpass.getuser()
    with write_transaction():
        store = Store.get_or_none(Store.code == args.store)
        if store is None:
            store = Store.create(code=args.store, name=args.name)
            print(_("created store {code} ({name})").format(code=store.code, name=store.name))
        else:
            print(_("store {code} already exists").format(code=store.code))
        if Setting.get_value(DEFAULT_STORE_KEY) is None:
            Setting.set_value(DEFAULT_STORE_KEY, store.code)
        if not Employee.select().where(Employee.role == "admin").exists():
            taken = Employee.get_or_none(Employee.login == login)
            if taken is None:
                Employee.create(code="ADMIN", name=login, role="admin", login=login, store=store)
                print(_("{login} is the first admin (employee ADMIN)").format(login=login))
    print(_("data folder: {path}").format(path=args.data_dir))
    return 0


def cmd_store_add(args: argparse.Namespace) -> int:
    if Store.get_or_none(Store.code == args.code):
        raise CommandError(_("store {code} already exists").format(code=args.code))
    Store.create(code=args.code, name=args.name)
    print(_("created store {code}").format(code=args.code))
    return 0


def cmd_store_list(args: argparse.Namespace) -> int:
    default = Setting.get_value(DEFAULT_STORE_KEY)
    rows = [
        {
            "code": s.code,
            "name": s.name,
            "allow_negative": s.allow_negative,
            "default": s.code == default,
        }
        for s in Store.select().order_by(Store.code)
    ]
    print(render(rows, ("code", "name", "allow_negative", "default"), args.format))
    return 0


def cmd_store_set(args: argparse.Namespace) -> int:
    store = Store.get_or_none(Store.code == args.code)
    if store is None:
        raise CommandError(_("no store {code}").format(code=args.code))
    if args.allow_negative:
        store.allow_negative = args.allow_negative == "yes"
        store.save()
    print(
        _("store {code}: negative stock {state}").format(
            code=store.code, state=_("allowed") if store.allow_negative else _("refused")
        )
    )
    return 0


def cmd_employee_add(args: argparse.Namespace) -> int:
    store = None
    if args.store:
        store = Store.get_or_none(Store.code == args.store)
        if store is None:
            raise CommandError(_("no store {code}").format(code=args.store))
    if args.login:
        other = Employee.get_or_none((Employee.login == args.login) & (Employee.code != args.code))
        if other:
            raise CommandError(
                _("login {login} already belongs to {code}").format(
                    login=args.login, code=other.code
                )
            )
    employee, created = Employee.get_or_create(
        code=args.code, defaults={"name": args.name, "role": args.role}
    )
    employee.name, employee.role = args.name, args.role
    if args.login:
        employee.login = args.login
    if store:
        employee.store = store
    employee.save()
    print((_("added {code}") if created else _("updated {code}")).format(code=employee.code))
    return 0


def cmd_employee_list(args: argparse.Namespace) -> int:
    rows = [
        {"code": e.code, "name": e.name, "role": e.role, "login": e.login, "active": e.active}
        for e in Employee.select().order_by(Employee.code)
    ]
    print(render(rows, ("code", "name", "role", "login", "active"), args.format))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = check_books()
    if not problems:
        print(_("the books are sound: every balance equals the sum of its moves"))
        return 0
    for problem in problems:
        print(str(problem))
    print(_("{count} problems found").format(count=len(problems)))
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from models.backup import backup_books

    written = backup_books(Path(args.target).expanduser())
    print(_("the books are copied to {path}").format(path=written))
    return 0
