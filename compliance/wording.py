"""How figures and measures are worded for people, in the active language.
Shared by models, services, the admin and the portal; imports no service."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shops.formats import money  # noqa: F401  (re-exported: compliance code says wording.money)


def describe_measures(*, clear=False, suspend_days=None, deposit=None, deposit_all=False) -> str:
    parts = []
    if clear:
        parts.append(_("clear the shop"))
    if suspend_days and not clear:
        parts.append(ngettext("suspension %(n)d day", "suspension %(n)d days", suspend_days) % {"n": suspend_days})
    if deposit_all or clear:
        parts.append(_("all remaining deposit"))
    elif deposit:
        parts.append(_("deposit %(amount)s") % {"amount": money(deposit)})
    return _(", ").join(parts) or _("no further measure")


# The account the platform acts as (services.events.platform_actor).
PLATFORM_USERNAME = "platform"


def person(user) -> str:
    """A user as people know them: the display name, else the user name."""
    if user is None:
        return ""
    if user.get_username() == PLATFORM_USERNAME:
        return _("Platform (automatic)")
    return user.get_full_name() or user.get_username()


def node_label(violation_class: str, threshold: int) -> str:
    return _("point node %(cls)s%(n)d") % {"cls": violation_class, "n": threshold}


def node_reached_text(*, violation_class: str, year: int, total: int, threshold: int) -> str:
    return _("Class %(cls)s points for %(year)d reached %(total)d: point node %(cls)s%(n)d applies.") % {
        "cls": violation_class, "year": year, "total": total, "n": threshold}


def node_lift_cause(*, number: str, violation_class: str, year: int, total: int, threshold: int) -> str:
    """Why a node was lifted (SPEC §6.2), beside a status that says so already."""
    return _("Ticket %(number)s was revoked and class %(cls)s points for %(year)d fell to %(total)d, "
             "below %(n)d.") % {"number": number, "cls": violation_class, "year": year, "total": total,
                                "n": threshold}


def node_lifted_text(**figures) -> str:
    """"Lifted: …" with its cause, for the shop page and the timeline."""
    return labelled(_("Lifted"), node_lift_cause(**figures))


def label_suffix() -> str:
    """After a label: "：" in Chinese (full width, no space), ": " in English."""
    suffix = _(":")
    return suffix if suffix != ":" else ": "


def labelled(label, value) -> str:
    """"Rule: value" in the active language's punctuation."""
    return f"{label}{label_suffix()}{value}"
