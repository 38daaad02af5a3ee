"""The reviewers' queues (SPEC §14) and who holds what in them: one
description of each queue — its model, who decides in it, which items are
still to be decided, its service target — read by the claims, the
changelists' filters and columns, and the admin index's workspace."""

import datetime
from dataclasses import dataclass
from typing import Callable

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.models import (
    AllianceMembership, Appeal, Claim, EventSubject, ProviderRequest, Qualification, QualificationGap,
    ViolationWarning,
)


@dataclass(frozen=True)
class Queue:
    subject: str  # EventSubject: the claims' and the journal's name for the items
    model: type
    permission: str  # who decides (and so may claim) the queue's items
    title: str
    open: Callable[[datetime.datetime], Q]  # the items still to decide, at ``now``
    shop_field: str | None  # the item's shop's key, for the journal
    due_field: str | None  # the service target's time (SPEC §14), where the item stores it
    decide_url: str  # the admin URL name of the page where an item is decided


QUEUES = {q.subject: q for q in [
    Queue(EventSubject.APPEAL, Appeal, "compliance.decide_appeal", _("Appeals to decide"),
          lambda now: Q(status=Appeal.Status.PENDING), "ticket__shop_id", "due_at", "admin:compliance_appeal_decide"),
    Queue(EventSubject.WARNING, ViolationWarning, "compliance.decide_warning", _("Warnings to confirm or dismiss"),
          lambda now: Q(status__in=ViolationWarning.DECIDABLE) | Q(status=ViolationWarning.Status.OPEN,
                                                                  deadline__lt=now),
          "shop_id", "deadline", "admin:compliance_violationwarning_decide"),
    Queue(EventSubject.QUALIFICATION, Qualification, "compliance.review_qualification", _("Certificates to review"),
          lambda now: Q(status=Qualification.Status.SUBMITTED), "shop_id", "due_at",
          "admin:compliance_qualification_review"),
    Queue(EventSubject.ALLIANCE, AllianceMembership, "compliance.decide_alliance", _("Alliance applications"),
          lambda now: Q(status=AllianceMembership.Status.APPLIED), "shop_id", "due_at",
          "admin:compliance_alliancemembership_decide"),
    Queue(EventSubject.GAP, QualificationGap, "compliance.add_ticket", _("Products missing a qualification"),
          lambda now: Q(resolved_at=None), "shop_id", None, "admin:compliance_qualificationgap_changelist"),
    Queue(EventSubject.PROVIDER_REQUEST, ProviderRequest, "compliance.confirm_renewal", _("Provider requests"),
          lambda now: Q(status=ProviderRequest.Status.PENDING), None, None,
          "admin:compliance_providerrequest_decide"),
]}


def queue_of(model) -> Queue:
    return next(q for q in QUEUES.values() if q.model is model)


def held(subject: str, now: datetime.datetime) -> QuerySet:
    """Claims in force on the queue's items: held, the lease not run out."""
    return Claim.objects.filter(subject=subject, status=Claim.Status.HELD, leased_until__gt=now)


def holder_of(subject: str, subject_id: int, now: datetime.datetime | None = None) -> Claim | None:
    """The claim in force on one item, with its holder, or None."""
    return held(subject, now or timezone.now()).filter(subject_id=subject_id).select_related("holder").first()


def with_holders(queryset: QuerySet, subject: str, now: datetime.datetime) -> QuerySet:
    """A queue's items with ``claim_holder`` (the user's key), ``claim_since``
    and ``claim_until`` of the claim in force, or None: one subquery per
    column, evaluated for the page's rows only."""
    claim = held(subject, now).filter(subject_id=OuterRef("pk"))
    return queryset.annotate(claim_holder=Subquery(claim.values("holder_id")[:1]),
                             claim_since=Subquery(claim.values("claimed_at")[:1]),
                             claim_until=Subquery(claim.values("leased_until")[:1]))


def claimed_filter(queryset: QuerySet, subject: str, view: str, user, now: datetime.datetime) -> QuerySet:
    """The workspace's one-click views of a queue (SPEC §14): ``mine`` (held
    by ``user``), ``unclaimed`` (still to decide, held by nobody),
    ``others`` (held by someone else) and ``overdue`` (still to decide,
    past the service target)."""
    queue = QUEUES[subject]
    claim = held(subject, now).filter(subject_id=OuterRef("pk"))
    # Held items are few (a queue's reviewers' hands): "mine" and "others" start from the claims (an IN
    # over their keys), never from a probe of every item in the queue's order.
    if view == "mine":
        return queryset.filter(pk__in=held(subject, now).filter(holder=user).values("subject_id"))
    if view == "others":
        return queryset.filter(pk__in=held(subject, now).exclude(holder=user).values("subject_id"))
    if view == "unclaimed":
        return queryset.filter(queue.open(now)).exclude(Exists(claim))
    if view == "overdue":
        return queryset.filter(queue.open(now)).filter(due_before(queue, now))
    return queryset


def due_before(queue: Queue, now: datetime.datetime) -> Q:
    """Items whose service target is before ``now`` (none in a queue without one)."""
    return Q(**{f"{queue.due_field}__lt": now}) if queue.due_field else Q(pk__in=[])


def eligible_holders(subject: str) -> QuerySet:
    """Active staff who decide the queue's items: whom an item can be handed to."""
    app_label, codename = QUEUES[subject].permission.split(".")
    perm = (Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
            | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
            | Q(is_superuser=True))
    return get_user_model().objects.filter(perm, is_active=True, is_staff=True).distinct().order_by("username")


@dataclass
class QueueCount:
    """One queue on the admin index (SPEC §14: each role's queues first)."""

    queue: Queue
    open: int  # still to decide
    overdue: int | None  # of those, past the service target (None: the queue has none)
    unclaimed: int
    mine: int

    @property
    def url(self) -> str:
        return reverse(f"admin:{self.queue.model._meta.app_label}_{self.queue.model._meta.model_name}_changelist")


def queue_counts(user, now: datetime.datetime | None = None) -> list[QueueCount]:
    """The queues ``user`` decides in, with what waits in each: one count
    per queue over its open items (each queue's status index), and one over
    the claims in force for all of them."""
    now = now or timezone.now()
    queues = [q for q in QUEUES.values() if user.has_perm(q.permission)]
    if not queues:
        return []
    held_by = {}
    for row in (Claim.objects.filter(status=Claim.Status.HELD, leased_until__gt=now,
                                     subject__in=[q.subject for q in queues])
                .values("subject").annotate(n=Count("id"), mine=Count("id", filter=Q(holder=user)))):
        held_by[row["subject"]] = row
    counts = []
    for queue in queues:
        found = queue.model.objects.filter(queue.open(now)).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=due_before(queue, now)))
        held = held_by.get(queue.subject, {"n": 0, "mine": 0})
        counts.append(QueueCount(queue, found["open"], found["overdue"] if queue.due_field else None,
                                 max(found["open"] - held["n"], 0), held["mine"]))
    return counts
