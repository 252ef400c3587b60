"""Messages the code translates from data, listed so that extraction finds them.

Some texts reach `_()` as values rather than literals: `_(doc.state)`,
`_(doc.kind)`, `_(employee.role)`, `_(action)`, `_(product.unit)`,
`_(doc.reason)`, `_(row["event"])`. `pybabel extract` and
tests/test_translations.py only see literals, so each value is written out
here once. This module is never imported; when a new state, kind, role,
unit, write-off reason, exchange event or checked action appears in the
code, add it here too.
"""

from models.i18n import _


def _runtime_messages() -> tuple[str, ...]:
    return (
        # document states (models.documents.STATES)
        _("draft"),
        _("posted"),
        _("cancelled"),
        _("rejected"),
        # document kinds (models.documents.KINDS)
        _("incoming"),
        _("supplier_return"),
        _("transfer"),
        _("inventory"),
        _("writeoff"),
        _("sale"),
        _("return"),
        _("order"),
        # employee roles (models.org.ROLES)
        _("cashier"),
        _("seller"),
        _("manager"),
        _("admin"),
        # actions checked by models.operators.require_approver
        _("approve documents"),
        _("cancel documents"),
        _("reject drafts"),
        _("map goods"),
        _("edit drafts"),
        # units (models.catalog.UNITS)
        _("pcs"),
        _("kg"),
        _("l"),
        _("m"),
        _("pack"),
        # write-off reasons (models.documents.WRITEOFF_REASONS)
        _("expired"),
        _("damaged"),
        _("lost"),
        _("internal"),
        # exchange events (models.till_records.EXCHANGE_EVENTS)
        _("received"),
        _("imported"),
        _("duplicate"),
        _("conflict"),
        _("gap"),
        _("quarantined"),
        _("retried"),
        _("discarded"),
        _("published"),
        _("acknowledged"),
    )
