"""Messages to merchants. Every one goes through ``notify``: the message is
written to the portal's message centre (SPEC §11) in the caller's
transaction — a rolled-back ticket leaves no message — and its e-mail copy
is sent after the transaction commits (STYLE §3)."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def _mail(subject: str, body: str, recipients: list[str], template: str, shop_id: int) -> None:
    try:
        send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients])
    except Exception:  # a mail server outage must not undo a committed decision
        logger.exception("could not send %s e-mail for shop %s", template, shop_id)


def notify(shop, template: str, build_context) -> None:
    """The one way to tell a shop's merchants something: one message per
    active member, and the e-mail copy to those with an address."""
    from compliance.models import Message

    users = [m.user for m in shop.members.select_related("user") if m.user.is_active]
    if not users:
        return
    context = build_context()
    # Merchants read the platform's language (zh-hans) unless told otherwise.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.txt", context)
    link = context.get("url", "")
    Message.objects.bulk_create([Message(user=user, shop_id=shop.pk, kind=template, subject=subject[:200], body=body,
                                         link=link[:300]) for user in users])
    recipients = sorted({user.email for user in users if user.email})
    if recipients:
        transaction.on_commit(lambda: _mail(subject, body, recipients, template, shop.pk))


def _portal_url(name: str, *args) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse(name, args=args)


def _ticket_url(ticket) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("portal:ticket", args=[ticket.number])


def notify_ticket_issued(ticket) -> None:
    def context():
        # Every measure, the ticket's own and a point node's, as the portal shows them.
        measures = list(ticket.measures.select_related("node", "ticket").order_by("id"))
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


def notify_notices_opened(notices) -> None:
    """One message per shop listing its new rectification notices."""
    by_shop: dict[int, list] = {}
    for notice in notices:
        by_shop.setdefault(notice.shop_id, []).append(notice)
    for items in by_shop.values():
        shop = items[0].qualification.shop
        notify(shop, "notices_opened", lambda shop=shop, items=items: {
            "notices": items, "shop": shop, "url": _certificates_url(shop)})


def notify_certificates_expiring(certificates) -> None:
    """SPEC §10: certificates of one shop that expire within the warning window."""
    shop = certificates[0].shop
    notify(shop, "certificates_expiring",
           lambda: {"certificates": certificates, "shop": shop, "url": _certificates_url(shop)})
