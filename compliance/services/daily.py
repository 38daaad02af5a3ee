"""The daily job (SPEC §10). Each step finds what is due by the cut-off and
hands each row to its service, which re-checks under a lock: running a step
twice for the same date changes nothing the second time."""

import datetime

from django.utils import timezone

from compliance.models import Measure, Ticket

from .assessment import shanghai_day_start
from .tickets import suspension_end, ticket_finalise


def cutoff_for(day: datetime.date, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """The end of ``day`` in Shanghai, or now if that is earlier (today)."""
    now = now or timezone.now()
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)), timezone.get_default_timezone())
    return min(shanghai_day_start(noon) + datetime.timedelta(days=1), now)


def end_suspensions(cutoff: datetime.datetime) -> int:
    due = Measure.objects.filter(kind=Measure.Kind.SUSPEND, status=Measure.Status.ACTIVE, ends_at__lte=cutoff)
    return sum(suspension_end(measure=measure, now=cutoff) for measure in due.order_by("ends_at").iterator())


def finalise_tickets(cutoff: datetime.datetime) -> int:
    due = Ticket.objects.filter(status=Ticket.Status.ISSUED, appeal_deadline__lte=cutoff)
    return sum(ticket_finalise(ticket=ticket, now=cutoff) for ticket in due.order_by("appeal_deadline").iterator())


# Later issues append their steps (certificates, alliance) in SPEC §10's order.
STEPS = [
    ("end_suspensions", end_suspensions),
    ("finalise_tickets", finalise_tickets),
]
