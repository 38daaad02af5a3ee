"""The e-mail outbox (SPEC §10, STYLE §21). ``notifications.notify_many``
writes each e-mail as an ``OutboxEmail`` in the caller's transaction; a
worker runs ``deliver`` (the ``deliver_mail`` task) which takes the due rows
under a lease, hands each to the mail server and marks it sent. A refused
delivery is retried with doubling delays (PolicySettings) and is dead after
the last attempt.

At most one duplicate: a row is marked sent right after the mail server took
it. A worker killed between the two leaves the row leased; when the lease
ends another worker sends it again — that one e-mail twice, never more, and
never none (docs/SCALING.md)."""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import Event, OutboxEmail, PolicySettings
from compliance.notifications import MAIL_TASK
from compliance.queueing import Share, wake, wake_at

from . import leases
from .events import transition

logger = logging.getLogger(__name__)

Status = OutboxEmail.Status
BATCH = 100  # e-mails a worker takes at once; between two, it makes way (deliver)
TASK_LIMIT = 1000  # e-mails one task sends before it makes way (deliver)


def _due(now: datetime.datetime):
    return OutboxEmail.objects.filter(leases.free(now), status=Status.PENDING, next_attempt_at__lte=now)


def take(now: datetime.datetime, limit: int = BATCH) -> list[OutboxEmail]:
    """Lease up to ``limit`` due rows to this caller (``leases.take``)."""
    token = leases.take(_due(now), now, limit)
    return list(OutboxEmail.objects.filter(lease_token=token).order_by("id")) if token else []


def _failed(rows: list[OutboxEmail], error: str, now: datetime.datetime, policy: PolicySettings) -> None:
    """One more attempt for each of ``rows``; the ones out of attempts die."""
    for row in rows:
        with transaction.atomic():
            row.attempts += 1
            row.last_error = error[:2000]
            row.leased_until, row.lease_token = None, ""
            if row.attempts >= policy.mail_max_attempts:
                transition(row, Status.DEAD, action=Event.Action.MAIL_DEAD, at=now,
                           reason=row.last_error, fields=["attempts", "last_error", "leased_until", "lease_token"])
            else:
                row.next_attempt_at = now + datetime.timedelta(seconds=policy.mail_retry_delay(row.attempts))
                row.save(update_fields=["attempts", "last_error", "leased_until", "lease_token", "next_attempt_at"])


def _send_batch(rows: list[OutboxEmail], now: datetime.datetime, policy: PolicySettings) -> int:
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as exc:  # the mail server is down: the whole batch waits for the next attempt
        logger.warning("mail server unavailable, %d e-mails wait: %s", len(rows), exc)
        _failed(rows, f"{type(exc).__name__}: {exc}", now, policy)
        return 0
    sent = 0
    try:
        for index, row in enumerate(rows):
            message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.to],
                                   connection=connection)
            try:
                connection.send_messages([message])
            except Exception as exc:
                logger.warning("e-mail %s to %s refused: %s", row.pk, row.to, exc)
                _failed([row], f"{type(exc).__name__}: {exc}", now, policy)
                if not _still_connected(connection):
                    _failed(rows[index + 1:], f"{type(exc).__name__}: {exc}", now, policy)
                    break
                continue
            # Marked at once: a worker killed here sends this one e-mail twice, no more.
            sent += OutboxEmail.objects.filter(pk=row.pk, lease_token=row.lease_token).update(
                status=Status.SENT, sent_at=timezone.now(), attempts=row.attempts + 1, leased_until=None,
                lease_token="")
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection: nothing left to lose
            pass
    return sent


def _still_connected(connection) -> bool:
    """Whether an SMTP connection survived a refusal (a refused recipient
    keeps it; a dropped server does not). Other backends have no socket."""
    sock = getattr(connection, "connection", False)
    if sock is False:
        return True
    if sock is None:
        return False
    try:
        return sock.noop()[0] == 250
    except Exception:
        return False


def deliver(*, now: datetime.datetime | None = None, limit: int = TASK_LIMIT) -> dict:
    """Send what is due, batch after batch, for a task's share
    (``queueing.Share``: its rows, its time, or until work someone waits for
    is queued) — then a new task goes to the back of the queue for the
    rest, so that a burst of e-mail never holds up other work for long — and
    make sure a task comes back for what waits to be retried."""
    policy = PolicySettings.load()
    share = Share(limit)
    sent = 0
    while asked := share.take(BATCH):
        now_ = now or timezone.now()
        rows = take(now_, asked)
        share.took(len(rows), asked)
        if rows:
            sent += _send_batch(rows, now_, policy)
    if share.more:  # more may be due: a new task, at the back of the queue
        wake(MAIL_TASK)
    schedule_retry()
    return {"tried": share.done, "sent": sent}


def schedule_retry() -> None:
    """A deliver task at the next retry time (``queueing.wake_at``)."""
    nxt = OutboxEmail.objects.filter(status=Status.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    if nxt is not None:
        wake_at(MAIL_TASK, nxt)


def sweep(*, now: datetime.datetime | None = None) -> bool:
    """The heartbeat's check: e-mails due and no task to send them."""
    if not _due(now or timezone.now()).exists():
        return False
    return wake(MAIL_TASK)


def resend(rows, *, actor, now: datetime.datetime | None = None) -> int:
    """A compliance admin sends dead (or sent) e-mails again (``leases.send_again``)."""
    now = now or timezone.now()
    with transaction.atomic():
        again = leases.send_again(OutboxEmail.objects.filter(status__in=[Status.DEAD, Status.SENT]), rows,
                                  action=Event.Action.MAIL_RESENT, actor=actor, now=now,
                                  reset={"leased_until": None, "lease_token": ""})
        if again:
            wake(MAIL_TASK)
    return len(again)
