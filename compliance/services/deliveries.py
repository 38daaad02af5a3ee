"""Webhook deliveries (SPEC §13): the outbound events to each subscription's
receiver, signed, in each shop's order.

A worker (the ``deliver_webhooks`` task) takes due deliveries under a lease
— only a shop's first pending one to a subscription, so that a shop's
events arrive in ``sequence`` order and a failing one holds back that shop's
later ones and no other shop's — POSTs each (``compliance.webhooks.post``:
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
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import webhooks
from compliance.calendar import shanghai
from compliance.models import Event, OutboundEvent, PolicySettings, WebhookAttempt, WebhookDelivery, WebhookSubscription
from compliance.models.base import copy_rows
from compliance.notifications import notify_staff
from compliance.queueing import Share, wake, wake_at

from . import leases
from .events import transition
from .outbound import DELIVERY_TASK

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
BATCH = 50  # deliveries a worker takes at once
TASK_LIMIT = 2000  # deliveries one task tries before it makes way
ANSWER_KEPT = 2000  # characters of a receiver's answer kept in the log


def body_of(event: OutboundEvent) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, UTF-8."""
    return json.dumps(event.envelope(), ensure_ascii=False, separators=(",", ":")).encode()


def _heads():
    """Pending deliveries of active subscriptions that are the first of
    their shop still pending to that subscription."""
    earlier = WebhookDelivery.objects.filter(subscription=OuterRef("subscription"), stream=OuterRef("stream"),
                                             sequence__lt=OuterRef("sequence"), status=Status.PENDING)
    # The active subscriptions (a few) as a list: the planner then counts the
    # rows each has, instead of guessing through a join (which made it scan
    # every pending row for each candidate: bench/RESULTS.md).
    active = list(WebhookSubscription.objects.filter(status=WebhookSubscription.Status.ACTIVE)
                  .values_list("pk", flat=True))
    return WebhookDelivery.objects.filter(status=Status.PENDING, subscription_id__in=active).filter(~Exists(earlier))


def _due(now: datetime.datetime):
    """Heads that are due and not held by a worker."""
    return _heads().filter(leases.free(now), next_attempt_at__lte=now)


def take(now: datetime.datetime, limit: int = BATCH) -> list[WebhookDelivery]:
    """Lease up to ``limit`` due deliveries to this caller (``leases.take``)."""
    return list(leases.take(_due(now), now, limit).select_related("subscription", "event__shop"))


def send(delivery: WebhookDelivery, now: datetime.datetime) -> webhooks.Answer:
    """One POST of ``delivery``, signed with the subscription's secrets."""
    body = body_of(delivery.event)
    headers = {webhooks.SIGNATURE_HEADER: webhooks.signature_header(
                   delivery.subscription.signing_secrets(now), body, int(now.timestamp())),
               webhooks.EVENT_ID_HEADER: str(delivery.event.uuid),
               webhooks.EVENT_TYPE_HEADER: delivery.event.type}
    return webhooks.post(delivery.subscription.url, body, headers)


def _record(rows: list[WebhookDelivery], answers: list[webhooks.Answer], now: datetime.datetime,
            policy: PolicySettings) -> int:
    """A batch's outcomes, in one transaction: every attempt logged in one
    insert, the delivered rows marked in one statement, the others retried
    later or given up; each subscription's failing time follows. Returns
    how many were delivered."""
    fields = ["attempts", "first_attempt_at", "last_code", "last_ms", "last_error", "leased_until", "lease_token"]
    delivered, failed = [], []
    for row, answer in zip(rows, answers, strict=True):
        row.attempts += 1
        row.first_attempt_at = row.first_attempt_at or now
        row.last_code, row.last_ms, row.last_error = answer.status, int(answer.seconds * 1000), answer.error[:2000]
        row.leased_until, row.lease_token = None, ""
        (delivered if answer.delivered else failed).append((row, answer))
    with transaction.atomic():
        copy_rows([WebhookAttempt(delivery_id=row.pk, at=now, code=answer.status, ms=row.last_ms,
                                  error=row.last_error, answer=(answer.body or "")[:ANSWER_KEPT])
                   for row, answer in zip(rows, answers)])
        _mark_delivered([row for row, _answer in delivered], now)
        answered = {row.subscription_id for row, _answer in delivered}
        WebhookSubscription.objects.filter(pk__in=answered, failing_since__isnull=False).update(failing_since=None)
        for row, _answer in delivered:
            row.subscription.failing_since = None
        for row, answer in failed:
            if now - row.first_attempt_at >= datetime.timedelta(hours=policy.webhook_give_up_hours):
                transition(row, Status.DEAD, action=Event.Action.DELIVERY_DEAD, at=now, shop=None,
                           reason=_describe(answer), fields=fields)
            else:
                row.next_attempt_at = now + datetime.timedelta(seconds=policy.webhook_retry_delay(row.attempts))
                row.save(update_fields=[*fields, "next_attempt_at"])
        for subscription in {row.subscription_id: row.subscription for row, _answer in failed
                             if row.subscription_id not in answered}.values():
            _failing(subscription, now, policy)
    return len(delivered)


def _mark_delivered(rows: list[WebhookDelivery], now: datetime.datetime) -> None:
    """The delivered rows of a batch in one UPDATE, each with its own answer
    code and time. Written out: Django's bulk_update built an expression for
    every field of every row and cost more than the deliveries (bench/RESULTS.md)."""
    if not rows:
        return
    for row in rows:
        row.status, row.delivered_at = Status.DELIVERED, now
    table = WebhookDelivery._meta.db_table
    cases = {column: " ".join(["WHEN %s THEN %s"] * len(rows)) for column in ("last_code", "last_ms")}
    params = [Status.DELIVERED, now, now]
    for column in ("last_code", "last_ms"):
        params += [value for row in rows for value in (row.pk, getattr(row, column))]
    ids = [row.pk for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, delivered_at = %s, attempts = attempts + 1, "
            f"first_attempt_at = COALESCE(first_attempt_at, %s), last_code = CASE id {cases['last_code']} END, "
            f"last_ms = CASE id {cases['last_ms']} END, last_error = '', leased_until = NULL, lease_token = '' "
            f"WHERE id IN ({', '.join(['%s'] * len(ids))})", params + ids)


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
            rows = take(now or timezone.now(), asked)
            share.took(len(rows))
            if rows:
                at = now or timezone.now()
                answers = list(pool.map(lambda row: send(row, at), rows))
                delivered += _record(rows, answers, at, policy)
    if share.more:
        wake(DELIVERY_TASK)
    schedule_retry()
    return {"tried": share.done, "delivered": delivered}


def schedule_retry() -> None:
    """A delivery task at the next retry time (``queueing.wake_at``)."""
    # Only what a task could take then: a held-back delivery waits for its
    # shop's first, a leased one for the worker holding it.
    nxt = _heads().filter(leases.free(timezone.now())).aggregate(at=Min("next_attempt_at"))["at"]
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
        count = leases.send_again(WebhookDelivery.objects.filter(status__in=[Status.DEAD, Status.DELIVERED]), rows,
                                  action=Event.Action.DELIVERY_RESENT, actor=actor, now=now,
                                  reset={"first_attempt_at": None}, shop=None)
        if count:
            wake(DELIVERY_TASK)
    return count


def resend_dead_since(subscription: WebhookSubscription, since: datetime.datetime, *, actor,
                      now: datetime.datetime | None = None) -> int:
    """Every dead delivery of ``subscription`` queued since ``since``, again."""
    return resend(list(subscription.deliveries.filter(status=Status.DEAD, created_at__gte=since).only("id")),
                  actor=actor, now=now)

