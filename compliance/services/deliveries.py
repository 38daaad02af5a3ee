"""Webhook deliveries (SPEC §13): the outbound events to each subscription's
receiver, signed, in each shop's order.

Deliveries are queued by ``queue``, which keeps each (subscription, shop)
``DeliveryStream`` due when its first pending delivery is. A worker (the
``deliver_webhooks`` task) takes due streams under a lease and sends each
one's first pending delivery — so that a shop's events arrive in
``sequence`` order and a failing one holds back that shop's later ones and
no other shop's — POSTs each (``compliance.webhooks.post``:
the URL checked again, 10 s at most) and records the attempt. A 2xx answer
delivers; anything else is retried with doubling delays (PolicySettings)
until the policy's time since the first attempt has passed, then the
delivery is given up (dead), which releases the shop's later ones (the gap
in ``sequence`` tells the receiver to catch up from the feed). A
subscription whose every attempt has failed for the policy's time is paused
and compliance admins are told. At least once: a worker killed between the
POST and the mark sends that one delivery again; receivers de-duplicate by
the event's id (docs/WEBHOOKS.md)."""

import datetime
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import webhooks
from compliance.calendar import shanghai
from compliance.models import (
    DeliveryStream, Event, OutboundEvent, PolicySettings, WebhookAttempt, WebhookDelivery, WebhookSubscription,
)
from compliance.models.base import copy_rows
from compliance.notifications import notify_staff
from compliance.queueing import Share, wake, wake_at

from . import leases
from .events import transition

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
BATCH = 50  # deliveries a worker takes at once
TASK_LIMIT = 2000  # deliveries one task tries before it makes way
ANSWER_KEPT = 2000  # characters of a receiver's answer kept in the log
STREAMS_A_STATEMENT = 500  # streams made due by one INSERT … ON CONFLICT (queue)
# The task, queued by path (compliance.queueing.wake): it imports this module.
DELIVERY_TASK = "compliance.tasks.deliver_webhooks"


def body_of(event: OutboundEvent) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, UTF-8."""
    return json.dumps(event.envelope(), ensure_ascii=False, separators=(",", ":")).encode()


def _pending_head(field: str):
    """The stream's first pending delivery's ``field`` (a subquery; NULL when none)."""
    return Subquery(WebhookDelivery.objects.filter(subscription=OuterRef("subscription_id"), stream=OuterRef("stream"),
                                                   status=Status.PENDING).order_by("sequence").values(field)[:1])


def _streams():
    """Streams of active subscriptions with a delivery pending. The active
    subscriptions (a few) as a list: the planner then counts each one's
    streams instead of guessing through a join (bench/RESULTS.md)."""
    active = list(WebhookSubscription.objects.filter(status=WebhookSubscription.Status.ACTIVE)
                  .values_list("pk", flat=True))
    return DeliveryStream.objects.filter(subscription_id__in=active, next_attempt_at__isnull=False)


def _due(now: datetime.datetime):
    """Streams whose first pending delivery is due, held by no worker."""
    return _streams().filter(leases.free(now), next_attempt_at__lte=now)


def queue(rows: list[WebhookDelivery], *, earlier: bool = False) -> None:
    """Write new deliveries (``copy_rows``), or — ``earlier`` — take note of
    deliveries put back in the queue (``resend``); in both cases each
    stream is due by the time of its first among ``rows``: a stream with
    nothing pending from then; one already waiting keeps its time (its
    first delivery may be waiting for a retry) unless ``earlier`` asks for
    the earliest. In the caller's transaction: a rolled-back relay leaves
    no stream due.

    The streams' rows are locked in (subscription, stream) order, as
    ``_follow`` locks them: a worker finishing a stream's last delivery and
    a relay adding the next wait for each other, and the later of the two
    sees the other's rows (no stream left empty with a delivery pending)."""
    if not earlier:
        copy_rows(rows)
    first: dict[tuple[int, int], tuple] = {}  # each stream's (lowest sequence, its time) among ``rows``
    for row in rows:
        key = (row.subscription_id, row.stream)
        if key not in first or row.sequence < first[key][0]:
            first[key] = (row.sequence, row.next_attempt_at)
    table = DeliveryStream._meta.db_table
    field = DeliveryStream._meta.get_field("next_attempt_at")
    kept = (f"CASE WHEN {table}.next_attempt_at IS NULL OR {table}.next_attempt_at > excluded.next_attempt_at "
            f"THEN excluded.next_attempt_at ELSE {table}.next_attempt_at END" if earlier
            else f"COALESCE({table}.next_attempt_at, excluded.next_attempt_at)")
    keys = sorted(first)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), STREAMS_A_STATEMENT):
            chunk = keys[start:start + STREAMS_A_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table} (subscription_id, stream, next_attempt_at, lease_token) VALUES "
                + ", ".join(["(%s, %s, %s, '')"] * len(chunk))
                + f" ON CONFLICT (subscription_id, stream) DO UPDATE SET next_attempt_at = {kept}",
                [v for key in chunk for v in (*key, field.get_db_prep_value(first[key][1], connection))])


def take(now: datetime.datetime, limit: int = BATCH) -> tuple[list[WebhookDelivery], list[int]]:
    """Lease up to ``limit`` due streams to this caller (``leases.take``):
    their first pending deliveries, and the streams' IDs (``_follow`` moves
    them on after the batch)."""
    token = leases.take(_due(now), now, limit)
    if token is None:
        return [], []
    streams = DeliveryStream.objects.filter(lease_token=token)
    ids = list(streams.values_list("pk", flat=True))
    heads = (WebhookDelivery.objects.filter(pk__in=streams.annotate(head=_pending_head("pk")).values("head"))
             .select_related("subscription", "event__shop").order_by("id"))
    return list(heads), ids


def _follow(stream_ids: list[int]) -> None:
    """After a batch: each stream is due when its (new) first pending
    delivery is, or empty, and no longer leased. The rows are locked first
    (``queue``'s order): this UPDATE then sees what a relay wrote to them."""
    list(DeliveryStream.objects.select_for_update().filter(pk__in=stream_ids).order_by("subscription_id", "stream")
         .values_list("pk", flat=True))
    DeliveryStream.objects.filter(pk__in=stream_ids).update(next_attempt_at=_pending_head("next_attempt_at"),
                                                             leased_until=None, lease_token="")


def send(delivery: WebhookDelivery, now: datetime.datetime) -> webhooks.Answer:
    """One POST of ``delivery``, signed with the subscription's secrets."""
    body = body_of(delivery.event)
    headers = {webhooks.SIGNATURE_HEADER: webhooks.signature_header(
                   delivery.subscription.signing_secrets(now), body, int(now.timestamp())),
               webhooks.EVENT_ID_HEADER: str(delivery.event.uuid),
               webhooks.EVENT_TYPE_HEADER: delivery.event.type}
    return webhooks.post(delivery.subscription.url, body, headers)


def _record(rows: list[WebhookDelivery], answers: list[webhooks.Answer], streams: list[int],
            now: datetime.datetime, policy: PolicySettings) -> int:
    """A batch's outcomes, in one transaction: every attempt logged in one
    insert, the delivered rows marked in one statement, the others retried
    later or given up; each subscription's failing time follows. Returns
    how many were delivered."""
    fields = ["attempts", "first_attempt_at", "last_code", "last_ms", "last_error"]
    delivered, failed = [], []
    for row, answer in zip(rows, answers, strict=True):
        row.attempts += 1
        row.first_attempt_at = row.first_attempt_at or now
        row.last_code, row.last_ms, row.last_error = answer.status, int(answer.seconds * 1000), answer.error[:2000]
        (delivered if answer.delivered else failed).append((row, answer))
    with transaction.atomic():
        copy_rows([WebhookAttempt(delivery_id=row.pk, at=now, code=answer.status, ms=row.last_ms,
                                  error=row.last_error, answer=(answer.body or "")[:ANSWER_KEPT])
                   for row, answer in zip(rows, answers)])
        _write_outcomes([row for row, _answer in delivered], now, delivered=True)
        answered = {row.subscription_id for row, _answer in delivered}
        WebhookSubscription.objects.filter(pk__in=answered, failing_since__isnull=False).update(failing_since=None)
        for row, _answer in delivered:
            row.subscription.failing_since = None
        retried = []
        for row, answer in failed:
            if now - row.first_attempt_at >= datetime.timedelta(hours=policy.webhook_give_up_hours):
                transition(row, Status.DEAD, action=Event.Action.DELIVERY_DEAD, at=now, shop=None,
                           reason=_describe(answer), fields=fields)
            else:
                row.next_attempt_at = now + datetime.timedelta(seconds=policy.webhook_retry_delay(row.attempts))
                retried.append(row)
        _write_outcomes(retried, now, delivered=False)
        for subscription in {row.subscription_id: row.subscription for row, _answer in failed
                             if row.subscription_id not in answered}.values():
            _failing(subscription, now, policy)
        _follow(streams)
    return len(delivered)


def _write_outcomes(rows: list[WebhookDelivery], now: datetime.datetime, *, delivered: bool) -> None:
    """A batch's delivered rows, or its rows to retry, in one UPDATE, each
    with its own answer (code, time; a retry's error and next attempt).
    Written out: Django's bulk_update built an expression for every field of
    every row and cost more than the deliveries (bench/RESULTS.md)."""
    if not rows:
        return
    table = WebhookDelivery._meta.db_table
    if delivered:
        for row in rows:
            row.status, row.delivered_at = Status.DELIVERED, now
        each, sets, params = ("last_code", "last_ms"), "status = %s, delivered_at = %s, last_error = '', ", \
            [Status.DELIVERED, _prepared("delivered_at", now)]
    else:
        each, sets, params = ("last_code", "last_ms", "last_error", "next_attempt_at"), "", []
    params.append(_prepared("first_attempt_at", now))
    cases = []
    for column in each:
        field = WebhookDelivery._meta.get_field(column)
        case = f"CASE id {' '.join(['WHEN %s THEN %s'] * len(rows))} END"
        if connection.vendor == "postgresql":  # typed: a CASE of NULLs only (no answer code) would be text
            case = f"CAST({case} AS {field.db_type(connection)})"
        cases.append(f"{column} = {case}")
        params += [value for row in rows
                   for value in (row.pk, field.get_db_prep_value(getattr(row, column), connection))]
    ids = [row.pk for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets}attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, %s), "
            f"{', '.join(cases)} WHERE id IN ({', '.join(['%s'] * len(ids))})", params + ids)


def _prepared(column: str, value):
    return WebhookDelivery._meta.get_field(column).get_db_prep_value(value, connection)


def _describe(answer: webhooks.Answer) -> str:
    return (_("The receiver answered %(code)s.") % {"code": answer.status} if answer.status
            else answer.error or _("No answer."))


def _failing(subscription: WebhookSubscription, now: datetime.datetime, policy: PolicySettings) -> None:
    """A failed attempt: the subscription has been failing since its first
    unanswered one; past the policy's time it is paused, and compliance
    admins are told."""
    if subscription.failing_since is None:
        WebhookSubscription.objects.filter(pk=subscription.pk, failing_since=None).update(failing_since=now)
        subscription.failing_since = now
        return
    limit = datetime.timedelta(hours=policy.webhook_pause_hours)
    if now - subscription.failing_since < limit:
        return
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.status != WebhookSubscription.Status.ACTIVE:
        return
    reason = _("Every delivery has failed since %(since)s: paused after %(hours)s hours.") % {
        "since": shanghai(locked.failing_since).strftime("%Y-%m-%d %H:%M"), "hours": policy.webhook_pause_hours}
    transition(locked, WebhookSubscription.Status.PAUSED, action=Event.Action.WEBHOOK_PAUSED, at=now, shop=None,
               reason=reason)
    subscription.refresh_from_db(fields=["status"])
    notify_staff("compliance.change_webhooksubscription", "webhook_paused",
                 {"subscription": locked, "reason": reason})


def deliver(*, now: datetime.datetime | None = None, limit: int = TASK_LIMIT) -> dict:
    """Deliver what is due, batch after batch, for a task's share
    (``queueing.Share``); then make sure a task comes back for the rest and
    for what waits to be retried."""
    policy = PolicySettings.load()
    share = Share(limit)
    delivered = 0
    # A batch's deliveries go to different shops (or subscriptions): sent side
    # by side, their order is kept. The threads only POST; the database is
    # this thread's.
    with ThreadPoolExecutor(max_workers=settings.WEBHOOK_THREADS, thread_name_prefix="webhook") as pool:
        while asked := share.take(BATCH):
            rows, streams = take(now or timezone.now(), asked)
            share.took(len(streams))
            at = now or timezone.now()
            answers = list(pool.map(lambda row: send(row, at), rows))
            if streams:
                delivered += _record(rows, answers, streams, at, policy)
    if share.more:
        wake(DELIVERY_TASK)
    schedule_retry()
    return {"tried": share.done, "delivered": delivered}


def schedule_retry() -> None:
    """A delivery task at the next retry time (``queueing.wake_at``)."""
    # Only what a task could take then: a stream a worker holds is its.
    nxt = _streams().filter(leases.free(timezone.now())).aggregate(at=Min("next_attempt_at"))["at"]
    if nxt is not None:
        wake_at(DELIVERY_TASK, nxt)


def sweep(*, now: datetime.datetime | None = None) -> bool:
    """The heartbeat's check: deliveries due and no task to send them."""
    if not _due(now or timezone.now()).exists():
        return False
    return wake(DELIVERY_TASK)


def resend(rows, *, actor, now: datetime.datetime | None = None) -> int:
    """A compliance admin sends deliveries again (dead or delivered ones;
    ``leases.send_again``), each with a new first attempt. It goes out in
    its shop's order among what is pending."""
    now = now or timezone.now()
    with transaction.atomic():
        again = leases.send_again(WebhookDelivery.objects.filter(status__in=[Status.DEAD, Status.DELIVERED]), rows,
                                  action=Event.Action.DELIVERY_RESENT, actor=actor, now=now,
                                  reset={"first_attempt_at": None}, shop=None)
        if again:
            queue(again, earlier=True)
            wake(DELIVERY_TASK)
    return len(again)


def resend_dead_since(subscription: WebhookSubscription, since: datetime.datetime, *, actor,
                      now: datetime.datetime | None = None) -> int:
    """Every dead delivery of ``subscription`` queued since ``since``, again."""
    return resend(list(subscription.deliveries.filter(status=Status.DEAD, created_at__gte=since).only("id")),
                  actor=actor, now=now)

