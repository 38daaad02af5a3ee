"""The daily job (SPEC §10). Each step selects what is due by the cut-off
with an index and changes it set-based, in batches that keep locks short,
writing its events in bulk: the cost grows with the rows that change, not
with the size of the tables. Running a step twice for the same date changes
nothing the second time (the selection only finds what is still due)."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import Event, Measure, Ticket

from . import measures as m
from .assessment import shanghai_day_start
from .locks import lock_shop

BATCH = 2000


def cutoff_for(day: datetime.date, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """The end of ``day`` in Shanghai, or now if that is earlier (today)."""
    now = now or timezone.now()
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)), timezone.get_default_timezone())
    return min(shanghai_day_start(noon) + datetime.timedelta(days=1), now)


def end_suspensions(cutoff: datetime.datetime) -> int:
    """End suspensions whose time has passed, a shop at a time (few shops a
    day): its due suspensions in one UPDATE, then its status from what is
    still in force (SPEC §6.3)."""
    due = Measure.objects.filter(kind=Measure.Kind.SUSPEND, status=Measure.Status.ACTIVE, ends_at__lte=cutoff)
    ended = 0
    shop_ids = sorted(set(due.values_list("shop_id", flat=True)))
    for shop_id in shop_ids:
        with transaction.atomic():
            shop = lock_shop(shop_id)
            mine = list(due.filter(shop_id=shop_id).select_related("ticket").order_by("ends_at"))
            if not mine:
                continue
            Measure.objects.filter(pk__in=[x.pk for x in mine]).update(status=Measure.Status.ENDED, closed_at=cutoff)
            ended += len(mine)
            m.refresh_shop_status(shop, now=cutoff, ticket=mine[-1].ticket,
                                  reason=_("The suspension time has passed."))
    return ended


def finalise_tickets(cutoff: datetime.datetime) -> int:
    """SPEC §6.1: issued tickets whose appeal window closed become final.
    Batches of ``BATCH`` rows: each locks its rows (skipping any a merchant is
    appealing right now: that ticket is no longer due once the appeal is in,
    and is picked up by the next run if the appeal fails), updates them in one
    statement and writes their events in one insert."""
    total = 0
    reason = _("The appeal window closed.")
    while True:
        with transaction.atomic():
            rows = list(
                Ticket.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(status=Ticket.Status.ISSUED, appeal_deadline__lte=cutoff)
                .order_by("id").values_list("id", "shop_id")[:BATCH]
            )
            if not rows:
                return total
            ids = [pk for pk, _shop in rows]
            Ticket.objects.filter(pk__in=ids, status=Ticket.Status.ISSUED).update(status=Ticket.Status.FINAL)
            Event.objects.bulk_create([
                Event(shop_id=shop_id, ticket_id=pk, action=Event.Action.TICKET_FINAL,
                      from_status=Ticket.Status.ISSUED, to_status=Ticket.Status.FINAL, reason=reason,
                      created_at=cutoff)
                for pk, shop_id in rows
            ], batch_size=BATCH)
            total += len(rows)


# Later issues append their steps (certificates, alliance) in SPEC §10's order.
STEPS = [
    ("end_suspensions", end_suspensions),
    ("finalise_tickets", finalise_tickets),
]
