"""The two outboxes — e-mails (services.outbox) and webhook deliveries
(services.deliveries) — share a shape: rows due at ``next_attempt_at``
that a worker takes under a lease (``leased_until``, ``lease_token``; for
webhooks the lease is on the shop's stream), and ``pending`` rows with
``attempts`` that a compliance admin sends again. Both are written once,
here."""

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .events import transition

PENDING = "pending"  # both models' Status.PENDING


def free(now: datetime.datetime) -> Q:
    """Rows no worker holds (never leased, or the lease ran out)."""
    return Q(leased_until=None) | Q(leased_until__lt=now)


def take(due, now: datetime.datetime, limit: int) -> str | None:
    """Lease up to ``limit`` rows of ``due`` (a queryset of due, free rows)
    to this caller, oldest due first. Returns the lease's token — the rows
    are ``model.objects.filter(lease_token=token)`` — or None when nothing
    is due. SKIP LOCKED keeps workers from waiting on each other on
    PostgreSQL; the UPDATE re-checks ``due``, so two never hold one row on
    SQLite either (no row locks there)."""
    token = secrets.token_hex(16)
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True, of=("self",)).order_by("next_attempt_at", "id")
                   .values_list("id", flat=True)[:limit])
        if not ids:
            return None
        due.filter(pk__in=ids).update(
            leased_until=now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS), lease_token=token)
    return token


def send_again(queryset, rows, *, action, actor, now: datetime.datetime, reset: dict | None = None,
               **journal) -> list:
    """A compliance admin sends ``rows`` (of ``queryset``: the ones that may
    go again) once more: each back in the queue, due now, its attempts from
    zero (and ``reset``'s fields), journalled with who asked. Returns the
    rows put back."""
    values = {"attempts": 0, **(reset or {}), "next_attempt_at": now}
    again = []
    for row in queryset.select_for_update().filter(pk__in=[r.pk for r in rows]).order_by("id"):
        for field, value in values.items():
            setattr(row, field, value)
        transition(row, PENDING, action=action, at=now, actor=actor, fields=list(values),
                   reason=_("Sent again by %(user)s.") % {"user": actor.get_username()}, **journal)
        again.append(row)
    return again
