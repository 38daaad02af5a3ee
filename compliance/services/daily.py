"""The daily job (SPEC §10). Each step selects what is due by the cut-off
with an index and changes it set-based, in batches that keep locks short,
writing its events in bulk: the cost grows with the rows that change, not
with the size of the tables. Running a step twice for the same date changes
nothing the second time (the selection only finds what is still due).

A run is a set of tasks (``daily_start``): the steps in SPEC §10's order,
grouped in stages (``STAGES``), each step split into shards of shops by ID
(``DailyShard``) that any number of workers run at once; the last shard of a
stage to finish enqueues the next stage's. A worker killed mid-shard leaves
that shard unfinished: its task is run again (compliance/worker.py) and
finds only what is still due."""

import datetime
import logging
import math
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import day_ends, shanghai
from compliance.exceptions import DomainError
from compliance.models import (
    DailyRun, DailyShard, Event, Measure, PolicySettings, Qualification, RectificationNotice, Ticket,
)
from compliance.notifications import (
    notify_appeals_closing, notify_certificates_expiring, notify_notices_opened, to_tell,
)
from compliance.selectors.qualifications import shops_changed_since
from compliance.selectors.shops import within
from shops.models import Shop

from . import measures as m
from . import qualifications as quals
from .alliance import alliance_recheck
from .events import journal, new_event, platform_actor, transition_due
from .locks import lock_shop
from .warnings import warnings_closing, warnings_expire, warnings_overdue, warnings_remind

logger = logging.getLogger(__name__)

Shops = tuple[int, int] | None  # one shard: shop IDs in [lo, hi); None: every shop


def _batch() -> int:
    return settings.DAILY_BATCH


def _breathe() -> None:
    """The pause between two batches a busy database may be given (settings)."""
    if settings.DAILY_BATCH_PAUSE_MS:
        time.sleep(settings.DAILY_BATCH_PAUSE_MS / 1000)


def cutoff_for(day: datetime.date, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """The end of ``day`` in Shanghai, or now if that is earlier (today)."""
    return min(day_ends(day), now or timezone.now())


def suspensions_due(cutoff: datetime.datetime, shops: Shops = None):
    return within(Measure.objects.filter(kind=Measure.Kind.SUSPEND, status=Measure.Status.ACTIVE,
                                         ends_at__lte=cutoff), shops)


def end_suspensions(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """End suspensions whose time has passed, a shop at a time (few shops a
    day): its due suspensions in one UPDATE, then its status from what is
    still in force (SPEC §6.3)."""
    due = suspensions_due(cutoff, shops)
    ended = 0
    shop_ids = sorted(set(due.values_list("shop_id", flat=True)))
    for shop_id in shop_ids:
        with transaction.atomic():
            shop = lock_shop(shop_id)
            mine = list(due.filter(shop_id=shop_id).select_related("ticket").order_by("ends_at"))
            if not mine:
                continue
            Measure.objects.filter(pk__in=[x.pk for x in mine]).update(status=Measure.Status.ENDED, closed_at=cutoff)
            reason = _("The suspension time has passed.")
            journal(new_event(shop_id=shop_id, ticket_id=x.ticket_id, action=Event.Action.MEASURE_ENDED, at=cutoff,
                              subject=Event.Subject.MEASURE, subject_id=x.pk, from_status=Measure.Status.ACTIVE,
                              to_status=Measure.Status.ENDED, reason=reason) for x in mine)
            ended += len(mine)
            m.refresh_shop_status(shop, now=cutoff, ticket=mine[-1].ticket, reason=reason)
    return ended


def tickets_due(cutoff: datetime.datetime, shops: Shops = None):
    return within(Ticket.objects.filter(status=Ticket.Status.ISSUED, appeal_deadline__lte=cutoff), shops)


def finalise_tickets(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """SPEC §6.1: issued tickets whose appeal window closed become final.
    Batches of ``DAILY_BATCH`` rows: each claims and updates its rows in one
    statement (skipping any a merchant is appealing right now: that ticket is
    no longer due once the appeal is in, and is picked up by the next run if
    the appeal fails) and writes their events in one insert."""
    total = 0
    reason = _("The appeal window closed.")
    due = tickets_due(cutoff, shops)
    while True:
        with transaction.atomic():
            moved = len(transition_due(Ticket, due, limit=_batch(), source=Ticket.Status.ISSUED,
                                       to=Ticket.Status.FINAL, action=Event.Action.TICKET_FINAL, at=cutoff,
                                       reason=reason))
        total += moved
        if moved < _batch():
            return total
        _breathe()


def certificates_due(cutoff: datetime.datetime, shops: Shops = None):
    return within(Qualification.objects.filter(status=Qualification.Status.APPROVED,
                                               expires_on__lt=shanghai(cutoff).date()), shops)


def expire_certificates(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """SPEC §4: approved certificates whose last valid day has ended expire at
    the Shanghai midnight after it, and each gets its rectification notice in
    the same transaction. One UPDATE per batch and expiry day (a daily run
    has one such day; a run for a later date catches up with each)."""
    due = certificates_due(cutoff, shops)
    total = 0
    for expires_on in list(due.order_by("expires_on").values_list("expires_on", flat=True).distinct()):
        at = day_ends(expires_on)
        while True:
            with transaction.atomic():
                rows = transition_due(Qualification, due.filter(expires_on=expires_on), limit=_batch(),
                                      source=Qualification.Status.APPROVED, to=Qualification.Status.EXPIRED,
                                      action=Event.Action.QUALIFICATION_LAPSED, at=at,
                                      key_in_data="qualification", updates={"lapsed_at": at})
                if rows:
                    opened = [(n.pk, n.shop_id) for n in quals.open_notices([pk for pk, _shop in rows])]
                    told, members = to_tell(opened, RectificationNotice.objects.select_related(
                        "qualification__qualification_type", "qualification__shop").order_by("pk"))
                    notify_notices_opened(told, recipients=members)
                    quals.gaps_refresh(shop_ids={shop_id for _pk, shop_id in rows}, now=at)
            total += len(rows)
            if len(rows) < _batch():
                break
            _breathe()
    return total


def notices_due(cutoff: datetime.datetime, shops: Shops = None):
    return within(RectificationNotice.objects.filter(status=RectificationNotice.Status.OPEN, deadline__lt=cutoff),
                  shops)


def ticket_overdue_notices(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """SPEC §4: a notice whose deadline passed without a replacement becomes
    a ticket. A notice at a time, each in its own transaction (a ticket is a
    workflow with its own locks); one that cannot be issued is logged and left
    open for the next run."""
    due = notices_due(cutoff, shops)
    issued, shops, actor, memo = 0, set(), platform_actor(), {}
    for notice_id, shop_id in list(due.order_by("deadline", "id").values_list("id", "shop_id")):
        try:
            if quals.notice_ticket(notice_id, shop_id=shop_id, actor=actor, memo=memo):
                issued += 1
                shops.add(shop_id)
        except DomainError as exc:
            logger.error("rectification notice %s: no ticket issued: %s", notice_id, exc.message)
    if shops:  # what the tickets delisted leaves the queue: one check for all their shops
        quals.gaps_refresh(shop_ids=shops, now=cutoff)
    return issued


# Clocks of web hosts, workers and the database may differ a little: changes
# this much older than the last run's start are looked at again.
CLOCK_MARGIN = datetime.timedelta(minutes=5)


def refresh_qualification_gaps(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """The missing-certificate queue against what no certificate change
    announced (new or changed products, shops reopened or retyped): the
    shops changed since the last finished run started (their products in one
    set-based SELECT, writes for the changes only), so that the cost follows
    the day's changes (SPEC §10) — and every product on sale once a week
    (``DAILY_FULL_GAP_CHECK_WEEKDAY``) and whenever no run has finished yet,
    which also catches a change made behind the product's back."""
    last = DailyRun.objects.filter(finished_at__isnull=False).order_by("-started_at").values_list(
        "started_at", flat=True).first()
    day = shanghai(cutoff - datetime.timedelta(microseconds=1)).date()  # the run's day (its cut-off ends it)
    if last is None or day.weekday() == settings.DAILY_FULL_GAP_CHECK_WEEKDAY:
        opened, _resolved = quals.gaps_refresh(shops=shops, now=cutoff)
        return opened
    changed = shops_changed_since(last - CLOCK_MARGIN, shops)
    if not changed:
        return 0
    opened, _resolved = quals.gaps_refresh(shop_ids=changed, now=cutoff)
    return opened


def certificate_reminders_due(cutoff: datetime.datetime, shops: Shops = None):
    today = shanghai(cutoff).date()
    window = PolicySettings.load().certificate_warning_days
    return within(Qualification.objects.filter(
        status=Qualification.Status.APPROVED, expiry_reminded_at=None, expires_on__gte=today,
        expires_on__lte=today + datetime.timedelta(days=window)), shops)


def certificate_reminders(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """SPEC §10: remind the merchant once of each approved certificate that
    expires within the policy's warning window; one e-mail per shop."""
    due = certificate_reminders_due(cutoff, shops)
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True, no_key=True).values_list("pk", "shop_id"))
        Qualification.objects.filter(pk__in=[pk for pk, _shop in rows]).update(expiry_reminded_at=cutoff)
        told, members = to_tell(rows, Qualification.objects.select_related("qualification_type", "shop")
                                .order_by("shop_id", "expires_on"))
        notify_certificates_expiring(told, recipients=members)
    return len(rows)


def appeal_reminders_due(cutoff: datetime.datetime, shops: Shops = None):
    return within(Ticket.objects.filter(status=Ticket.Status.ISSUED, appeal_deadline__gt=cutoff,
                                        appeal_deadline__lte=cutoff + datetime.timedelta(days=1),
                                        appeal_reminded_at=None), shops)


def appeal_reminders(cutoff: datetime.datetime, shops: Shops = None) -> int:
    """SPEC §10: remind the merchant, once, of each ticket they can still
    appeal whose window closes on the next Shanghai day. The selection is the
    (status, appeal_deadline) index; each reminded ticket is marked."""
    due = appeal_reminders_due(cutoff, shops)
    reminded = 0
    while True:
        with transaction.atomic():
            rows = list(due.select_for_update(skip_locked=True, no_key=True).order_by()
                        .values_list("pk", "shop_id")[:_batch()])
            if not rows:
                return reminded
            Ticket.objects.filter(pk__in=[pk for pk, _shop in rows]).update(appeal_reminded_at=cutoff)
            told, members = to_tell(rows, Ticket.objects.select_related("shop").order_by("id"))
            notify_appeals_closing(told, recipients=members)
            reminded += len(rows)
        _breathe()


# SPEC §10's order; later issues add theirs in place. The missing-certificate
# sweep (not one of §10's steps) comes last, once the day's tickets have
# delisted products and suspensions have ended: it sees the shops and
# products as the day leaves them.
STEPS = [
    ("expire_certificates", expire_certificates),
    ("ticket_overdue_notices", ticket_overdue_notices),
    ("end_suspensions", end_suspensions),
    ("recheck_alliance", alliance_recheck),
    ("finalise_tickets", finalise_tickets),
    ("appeal_reminders", appeal_reminders),
    ("certificate_reminders", certificate_reminders),
    ("expire_warnings", warnings_expire),
    ("warning_reminders", warnings_remind),
    ("refresh_qualification_gaps", refresh_qualification_gaps),
]
# What each step changes, as it selects it (``due(cutoff, shops)``): when
# nothing is due in any shop — one indexed EXISTS as the stage is queued —
# the step's shards are not queued at all (most steps of a second run for a
# date, and of quiet days). The alliance re-check and the missing-certificate
# sweep look at every member or changed shop: they always run.
DUE = {
    "expire_certificates": certificates_due,
    "ticket_overdue_notices": notices_due,
    "end_suspensions": suspensions_due,
    "finalise_tickets": tickets_due,
    "appeal_reminders": appeal_reminders_due,
    "certificate_reminders": certificate_reminders_due,
    "expire_warnings": warnings_overdue,
    "warning_reminders": warnings_closing,
}

# A run goes stage by stage; the steps of a stage run side by side, as none
# changes what another of it reads or decides on: ending a suspension (a
# shop's measures and status), the alliance re-check (scores, brand
# certificates, the tickets in force — a final ticket is in force as an
# issued one is), finalising (issued tickets whose window closed), the
# reminders (tickets whose window closes tomorrow, certificates that expire
# later, warnings). Each of them gives the same result in any order, so the
# order SPEC §10 lists them in holds. The other steps wait for the one before
# them: a notice that lapsed is ticketed after the expiry that opened it; the
# alliance re-check counts those tickets; the missing-certificate sweep comes
# after everything that delists products or ends suspensions. Fewer barriers
# keep every worker busy (bench/RESULTS.md, "Background work").
# Within a stage the steps are queued largest first, so that the small ones
# fill the last gaps instead of one large shard running alone at the end.
STAGES = [("expire_certificates",), ("ticket_overdue_notices",),
          ("finalise_tickets", "recheck_alliance", "warning_reminders", "end_suspensions", "certificate_reminders",
           "appeal_reminders", "expire_warnings"),
          ("refresh_qualification_gaps",)]
_POSITION = {name: position for position, (name, _step) in enumerate(STEPS)}
_STAGE_POSITIONS = [[_POSITION[name] for name in stage] for stage in STAGES]
assert sorted(sum(_STAGE_POSITIONS, [])) == list(range(len(STEPS))) and all(
    max(earlier) < min(later) for earlier, later in zip(_STAGE_POSITIONS, _STAGE_POSITIONS[1:])), \
    "STAGES holds every step once, the stages in SPEC §10's order"
_STAGE_OF = {position: k for k, positions in enumerate(_STAGE_POSITIONS) for position in positions}


def daily_start(day: datetime.date, *, shards: int | None = None, now: datetime.datetime | None = None) -> DailyRun:
    """Start a run of the daily job for ``day``: its first stage's shards are
    enqueued; each stage's last shard enqueues the next stage (``run_shard``).
    Any number of runs of a day may follow one another: each finds only what
    is still due."""
    shards = shards or settings.DAILY_SHARDS
    shop_max = Shop.objects.aggregate(m=Max("id"))["m"] or 0
    with transaction.atomic():
        run = DailyRun.objects.create(day=day, cutoff=cutoff_for(day, now=now), shards=min(shards, shop_max or 1),
                                      shop_max=shop_max, started_at=timezone.now())
        _enqueue_stage(run, 0)
    return run


def _ranges(run: DailyRun) -> list[tuple[int, int]]:
    """The step's shards: equal ranges of shop IDs, the last one open-ended
    (shops opened since the run started belong to it)."""
    count = run.shards
    width = math.ceil((run.shop_max + 1) / count)
    return [(k * width, (k + 1) * width if k < count - 1 else OPEN_END) for k in range(count)]


OPEN_END = 2 ** 62  # the last shard's upper bound: beyond any shop ID


def _enqueue_stage(run: DailyRun, stage: int) -> None:
    """Every shard of every step of ``stage`` that has something due, in the
    stage's order (first queued, first run). A step with nothing due gets
    one shard row, finished, with no task (``DUE``); a stage with nothing
    due at all is passed over for the next, and a run whose remaining stages
    have nothing due ends here."""
    # cycle: the tasks module runs this one's shards.
    from compliance.tasks import daily_shard

    for stage in range(stage, len(STAGES)):
        positions = _STAGE_POSITIONS[stage]
        idle = {position for position in positions if _nothing_due(run, position)}
        now = timezone.now()
        DailyShard.objects.bulk_create([
            DailyShard(run=run, position=position, step=STEPS[position][0], shard=0, lo=0, hi=OPEN_END, count=0,
                       seconds=0.0, finished_at=now) for position in positions if position in idle])
        shards = DailyShard.objects.bulk_create([
            DailyShard(run=run, position=position, step=STEPS[position][0], shard=k, lo=lo, hi=hi)
            for position in positions if position not in idle for k, (lo, hi) in enumerate(_ranges(run))])
        if shards:
            for shard in shards:
                shard.task_id = daily_shard.enqueue(shard.pk).id
            DailyShard.objects.bulk_update(shards, ["task_id"])
            DailyRun.objects.filter(pk=run.pk).update(step=positions[0])
            return
    DailyRun.objects.filter(pk=run.pk).update(step=_STAGE_POSITIONS[-1][0], finished_at=timezone.now())


def _nothing_due(run: DailyRun, position: int) -> bool:
    """Whether the step at ``position`` has nothing due in any shop (``DUE``)."""
    due = DUE.get(STEPS[position][0])
    return due is not None and not due(run.cutoff, None).exists()


def run_shard(shard_id: int) -> int | None:
    """Run one shard of a step (the ``daily_shard`` task). A finished shard
    is not run again; an unfinished one — its worker was killed — is, and
    finds only what is still due. The last shard of its stage to finish
    enqueues the next stage, or ends the run: the run's row is locked for
    that decision, so exactly one shard makes it."""
    shard = DailyShard.objects.select_related("run").get(pk=shard_id)
    if shard.finished_at is not None:
        return None
    run = shard.run
    started = time.perf_counter()
    _name, step = STEPS[shard.position]
    count = step(run.cutoff, shops=(shard.lo, shard.hi))
    with transaction.atomic():
        run = DailyRun.objects.select_for_update().get(pk=run.pk)
        finished = DailyShard.objects.filter(pk=shard.pk, finished_at=None).update(
            count=count, seconds=time.perf_counter() - started, finished_at=timezone.now())
        stage = _STAGE_OF[shard.position]
        if finished and not DailyShard.objects.filter(run=run, position__in=_STAGE_POSITIONS[stage],
                                                      finished_at=None).exists():
            if stage + 1 < len(STAGES):
                _enqueue_stage(run, stage + 1)
            else:
                DailyRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    return count


def daily_summary(run: DailyRun) -> list[tuple[str, int, int, int, float]]:
    """Each step of ``run`` begun so far: (name, rows changed, shards
    finished, shards, seconds of work summed over its shards); shards 0 for
    a step with nothing due, which was not run (``DUE``)."""
    steps: dict[int, list] = {}
    for position, name, count, seconds, finished, task in (
            DailyShard.objects.filter(run=run).order_by("position", "shard")
            .values_list("position", "step", "count", "seconds", "finished_at", "task_id")):
        row = steps.setdefault(position, [name, 0, 0, 0, 0.0])
        if task is None and finished is not None:
            continue  # nothing was due
        row[3] += 1
        if finished is not None:
            row[1] += count or 0
            row[2] += 1
            row[4] += seconds or 0.0
    return [tuple(row) for _position, row in sorted(steps.items())]
