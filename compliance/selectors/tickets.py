"""A ticket as people read it (SPEC §6.1, §7): its measures and timeline,
whether and until when it can be appealed, where an appeal stands against
its decision date."""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from compliance.calendar import shanghai, shanghai_day_start
from compliance.models import Event, Measure, Ticket


def ticket_measures(ticket):
    return (Measure.objects.filter(ticket=ticket)
            .select_related("ticket", "node", "node_application__node", "node_application__lifted_by")
            .order_by("id"))


def ticket_timeline(ticket):
    """The ticket's events, and the point nodes its revocation lifted (those
    events belong to the ticket that crossed the node)."""
    lifted_here = Q(shop_id=ticket.shop_id, action=Event.Action.NODE_LIFTED, data__revoked=ticket.number)
    return Event.objects.filter(Q(ticket=ticket) | lifted_here).select_related("actor").order_by("created_at", "id")


def appeal_due(now: datetime.datetime) -> dict:
    """Where a pending appeal stands against its decision date: the appeal
    queue's filter and the dashboard's counts use the same definitions."""
    end_of_today = shanghai_day_start(now) + datetime.timedelta(days=1)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=end_of_today),
        "later": Q(due_at__gte=end_of_today),
    }


def chances(ticket: Ticket) -> int:
    return int((ticket.rule_snapshot or {}).get("appeal_chances") or ticket.rule.appeal_chances)


def appeal_days_left(ticket: Ticket, *, now: datetime.datetime | None = None) -> int | None:
    """Calendar days on which the merchant can still appeal, today included
    (1 on the last day), or None when the window is over (SPEC §7)."""
    now = now or timezone.now()
    if now > ticket.appeal_deadline:
        return None
    return (shanghai(ticket.appeal_deadline).date() - shanghai(now).date()).days + 1


def appeal_block_reason(ticket: Ticket, *, now: datetime.datetime | None = None) -> str | None:
    """Why the merchant cannot appeal this ticket now, or None if they can.
    The portal shows this sentence where the form would be."""
    now = now or timezone.now()
    used = ticket.appeals.count()
    if ticket.status == Ticket.Status.APPEALING:
        return _("An appeal is being decided; you can appeal again only if it is rejected.")
    if ticket.status == Ticket.Status.REVOKED:
        return _("This ticket has been revoked: there is nothing to appeal.")
    if used >= chances(ticket):
        return _("You have used all %(n)d appeal chances for this ticket.") % {"n": chances(ticket)}
    if ticket.status == Ticket.Status.FINAL or now > ticket.appeal_deadline:
        return _("The appeal window closed on %(date)s.") % {
            "date": date_format(timezone.localtime(ticket.appeal_deadline), "DATETIME_FORMAT")}
    return None
