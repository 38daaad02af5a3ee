"""How figures and measures are worded for people, in the active language.
Shared by models, services, the admin and the portal; imports no service."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def money(amount) -> str:
    """One money format everywhere: ¥10,000.00."""
    return f"¥{Decimal(amount or 0):,.2f}"


def describe_measures(*, clear=False, suspend_days=None, deposit=None, deposit_all=False) -> str:
    parts = []
    if clear:
        parts.append(_("clear the shop"))
    if suspend_days and not clear:
        parts.append(ngettext("suspension %(n)d day", "suspension %(n)d days", suspend_days) % {"n": suspend_days})
    if deposit_all or clear:
        parts.append(_("all remaining deposit"))
    elif deposit:
        parts.append(_("deposit ¥%(amount)s") % {"amount": f"{deposit:,.2f}"})
    return _(", ").join(parts) or _("no further measure")
