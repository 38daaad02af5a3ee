"""The rows of the two outboxes — e-mails (services.outbox) and webhook
deliveries (services.deliveries) — share a shape: ``pending`` rows with
``next_attempt_at``, ``attempts`` and a lease (``leased_until``,
``lease_token``). Taking a batch under a lease and sending rows again are
written once, here."""

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .events import transition

PENDING = "pending"  # both models' Status.PENDING
RESET = {"attempts": 0, "leased_until": None, "lease_token": ""}


def free(now: datetime.datetime) -> Q:
    """Rows no worker holds (never leased, or the lease ran out)."""
    return Q(leased_until=None) | Q(leased_until__lt=now)


def take(due, now: datetime.datetime, limit: int):
    """Lease up to ``limit`` rows of ``due`` (a queryset of due, free rows)
    to this caller, oldest due first, and return them as a queryset. SKIP
    LOCKED keeps workers from waiting on each other on PostgreSQL; the
    UPDATE re-checks the lease, so two never hold one row on SQLite either
    (no row locks there). Empty when nothing is due."""
    model = due.model
    token = secrets.token_hex(16)
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True, of=("self",)).order_by("next_attempt_at", "id")
                   .values_list("id", flat=True)[:limit])
        if ids:
            model.objects.filter(free(now), pk__in=ids, status=PENDING, next_attempt_at__lte=now).update(
                leased_until=now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS), lease_token=token)
    return model.objects.filter(lease_token=token, status=PENDING).order_by("id") if ids else model.objects.none()


def send_again(queryset, rows, *, action, actor, now: datetime.datetime, reset: dict | None = None,
               **journal) -> int:
    """A compliance admin sends ``rows`` (of ``queryset``: the ones that may
    go again) once more: each back in the queue, due now, its attempts from
    zero (and ``reset``'s fields), journalled with who asked. Returns how many."""
    values = {**RESET, **(reset or {}), "next_attempt_at": now}
    count = 0
    for row in queryset.select_for_update().filter(pk__in=[r.pk for r in rows]).order_by("id"):
        for field, value in values.items():
            setattr(row, field, value)
        transition(row, PENDING, action=action, at=now, actor=actor, fields=list(values),
                   reason=_("Sent again by %(user)s.") % {"user": actor.get_username()}, **journal)
        count += 1
    return count
