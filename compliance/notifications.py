"""E-mails to merchants, always sent after the transaction commits (STYLE §3):
a rolled-back ticket never announces itself."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def _recipients(shop) -> list[str]:
    return sorted({m.user.email for m in shop.members.select_related("user") if m.user.email and m.user.is_active})


def _send(shop, template: str, context: dict) -> None:
    recipients = _recipients(shop)
    if not recipients:
        return
    # Merchants read the platform's language (zh-hans) unless told otherwise.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.txt", context)
    try:
        send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients])
    except Exception:  # a mail server outage must not undo a committed decision
        logger.exception("could not send %s e-mail for shop %s", template, shop.pk)


def _ticket_url(ticket) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("portal:ticket", args=[ticket.number])


def notify_ticket_issued(ticket) -> None:
    def send():
        # Every measure, the ticket's own and a point node's, as the portal shows them.
        measures = list(ticket.measures.select_related("node", "ticket").order_by("id"))
        _send(ticket.shop, "ticket_issued", {"ticket": ticket, "shop": ticket.shop, "measures": measures,
                                             "url": _ticket_url(ticket)})

    transaction.on_commit(send)


def notify_appeal_decided(appeal) -> None:
    ticket = appeal.ticket
    transaction.on_commit(
        lambda: _send(ticket.shop, "appeal_decided", {"appeal": appeal, "ticket": ticket, "shop": ticket.shop,
                                                      "url": _ticket_url(ticket)})
    )
