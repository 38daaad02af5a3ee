"""Messages to merchants. Every one goes through ``notify``: the message is
written to the portal's message centre (SPEC §11) in the caller's
transaction — a rolled-back ticket leaves no message — and its e-mail copy
is sent after the transaction commits (STYLE §3)."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from compliance.models import Measure, Message
from shops.models import ShopMember

logger = logging.getLogger(__name__)


def _mail(datatuples: list, template: str) -> None:
    try:
        send_mass_mail(datatuples)
    except Exception:  # a mail server outage must not undo a committed decision
        logger.exception("could not send %d %s e-mails", len(datatuples), template)


def notify(shop, template: str, build_context) -> None:
    """The one way to tell a shop's merchants something: one message per
    active member, and the e-mail copy to those with an address."""
    notify_many(template, [(shop, build_context)])


def notify_many(template: str, items) -> None:
    """``notify`` for many shops at once (a detector's batch of warnings):
    their members in one query, every message in one insert, every e-mail
    over one connection after commit."""
    items = list(items)
    members: dict[int, list] = {}
    for member in ShopMember.objects.filter(shop_id__in={shop.pk for shop, _build in items},
                                            user__is_active=True).select_related("user").order_by("id"):
        members.setdefault(member.shop_id, []).append(member.user)
    rows, mails = [], []
    # Merchants read the platform's language (zh-hans) unless told otherwise.
    with translation.override(settings.LANGUAGE_CODE):
        for shop, build_context in items:
            users = members.get(shop.pk)
            if not users:
                continue
            context = build_context()
            subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
            body = render_to_string(f"emails/{template}.txt", context)
            link = context.get("url", "")
            rows += [Message(user=user, shop_id=shop.pk, kind=template, subject=subject[:200], body=body,
                             link=link[:300]) for user in users]
            mails += [(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
                      for email in sorted({user.email for user in users if user.email})]
    Message.objects.bulk_create(rows, batch_size=1000)
    if mails:
        transaction.on_commit(lambda: _mail(mails, template))


def _portal_url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _ticket_url(ticket) -> str:
    return _portal_url("portal:ticket", ticket.number)


def notify_ticket_issued(ticket) -> None:
    def context():
        # Every measure taken, the ticket's own and a point node's, as the portal shows them.
        measures = list(ticket.measures.exclude(status=Measure.Status.COVERED).select_related("node", "ticket")
                        .order_by("id"))
        return {"ticket": ticket, "shop": ticket.shop, "measures": measures, "url": _ticket_url(ticket)}

    notify(ticket.shop, "ticket_issued", context)


def notify_appeal_closing(ticket) -> None:
    """SPEC §10: the appeal window closes tomorrow."""
    notify(ticket.shop, "appeal_closing", lambda: {"ticket": ticket, "shop": ticket.shop, "url": _ticket_url(ticket)})


def notify_appeal_decided(appeal) -> None:
    ticket = appeal.ticket
    notify(ticket.shop, "appeal_decided",
           lambda: {"appeal": appeal, "ticket": ticket, "shop": ticket.shop, "url": _ticket_url(ticket)})


def _certificates_url(shop) -> str:
    return _portal_url("portal:certificates", shop.shop_no)


def notify_qualification_reviewed(qualification) -> None:
    shop = qualification.shop
    notify(shop, "qualification_reviewed",
           lambda: {"q": qualification, "shop": shop, "url": _certificates_url(shop)})


def by_shop(items) -> list[list]:
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(item.shop_id, []).append(item)
    return list(groups.values())


def _notify_per_shop(template: str, items, key: str, shop_of) -> None:
    """One message per shop listing its ``items`` (under ``key``), all shops at once."""
    notify_many(template, [
        (shop_of(group[0]), lambda group=group: {key: group, "shop": shop_of(group[0]),
                                                 "url": _certificates_url(shop_of(group[0]))})
        for group in by_shop(items)])


def notify_notices_opened(notices) -> None:
    """One message per shop listing its new rectification notices."""
    _notify_per_shop("notices_opened", notices, "notices", lambda n: n.qualification.shop)


def notify_certificates_expiring(certificates) -> None:
    """SPEC §10: each shop's certificates that expire within the warning window."""
    _notify_per_shop("certificates_expiring", certificates, "certificates", lambda q: q.shop)


def _warning_url(warning) -> str:
    return _portal_url("portal:warning", warning.number)


def _notify_warnings(template: str, warnings) -> None:
    """One message per shop listing its warnings (a batch can hold many of
    one shop), linking to the warning or, for several, the shop's list."""
    def context(items):
        url = (_warning_url(items[0]) if len(items) == 1
               else _portal_url("portal:warnings", items[0].shop.shop_no))
        return {"warnings": items, "shop": items[0].shop, "url": url}

    notify_many(template, [(items[0].shop, lambda items=items: context(items)) for items in by_shop(warnings)])


def notify_warnings_opened(warnings) -> None:
    """SPEC §11: the detector's warnings reach the merchant at once."""
    _notify_warnings("warnings_opened", warnings)


def notify_warnings_closing(warnings) -> None:
    """SPEC §10: warnings whose time to answer ends within a day."""
    _notify_warnings("warning_closing", warnings)


def notify_warning_dismissed(warning) -> None:
    notify(warning.shop, "warning_dismissed",
           lambda: {"warning": warning, "shop": warning.shop, "url": _warning_url(warning)})
