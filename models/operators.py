"""Who is at the keyboard, and what their role lets them do.

An operator is an employee: the console maps the login user (or `--operator
CODE`) to one. Only managers and admins approve, reject or cancel; each such
action is stamped with the employee's code.
"""

from __future__ import annotations

import getpass

from models.errors import NotFoundError, PermissionDenied
from models.i18n import _
from models.org import APPROVER_ROLES, Employee


def resolve_operator(code: str | None = None) -> Employee:
    """The employee for `code` (an employee code), else for the OS login user."""
    if code:
        employee = Employee.get_or_none(Employee.code == code)
        if employee is None:
            raise NotFoundError(_("no employee with code {code}").format(code=code))
    else:
        login = getpass.getuser()
        employee = Employee.get_or_none(Employee.login == login)
        if employee is None:
            raise NotFoundError(
                _(
                    "the login user {login} is not an employee; ask an admin to run "
                    "`iis employee add CODE --name NAME --role manager --login {login}`, "
                    "or pass --operator CODE"
                ).format(login=login)
            )
    if not employee.active:
        raise PermissionDenied(_("employee {code} is not active").format(code=employee.code))
    return employee


def require_approver(employee: Employee, action: str) -> None:
    """Refuse unless the employee may approve, reject or cancel documents."""
    if employee.role not in APPROVER_ROLES or not employee.active:
        raise PermissionDenied(
            _("{name} ({role}) may not {action}: only a manager or an admin may").format(
                name=employee.name, role=_(employee.role), action=_(action)
            )
        )
