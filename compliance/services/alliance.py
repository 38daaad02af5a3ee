"""Selected Alliance 精选联盟 (SPEC §8): applications and decisions,
automatic and manual closures. Eligibility is read by
``selectors.alliance``; the transitions are ``AllianceMembership.TRANSITIONS``."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import add_working_days, shanghai
from compliance.exceptions import DomainError, InvalidTransition
from compliance.rules import alliance_closed_for_good
from compliance.models import AllianceClosure, AllianceMembership, Event, PolicySettings, Ticket
from compliance.models.base import copy_rows
from compliance.notifications import notify, notify_many, portal_url, to_tell
from compliance.selectors.alliance import (  # noqa: F401 (membership_of, materials_rows re-exported)
    alliance_eligibility, counted_closures, materials_rows, membership_of, settlement_materials,
)
from compliance.selectors.qualifications import active_requirements, missing_qualifications
from compliance.selectors.shops import controllers_with_several_shops, within
from shops.models import Shop

from .claims import claims_settle
from .events import transition, transition_many
from .locks import lock_shop

Status, Cause = AllianceMembership.Status, AllianceMembership.Cause


def _lock_membership(shop_id: int) -> tuple[Shop, AllianceMembership]:
    shop = lock_shop(shop_id)
    membership, _created = AllianceMembership.objects.get_or_create(shop=shop)
    membership = AllianceMembership.objects.select_for_update(no_key=True).get(pk=membership.pk)
    return shop, membership


def alliance_apply(*, shop: Shop, actor, now: datetime.datetime | None = None) -> AllianceMembership:
    now = now or timezone.now()
    with transaction.atomic():
        shop, membership = _lock_membership(shop.pk)
        if membership.status in (Status.APPLIED, Status.ACTIVE, Status.CLOSED_FOR_GOOD):
            raise InvalidTransition(_("The shop cannot apply now: its membership is %(status)s.") % {
                "status": membership.get_status_display()})
        eligibility = alliance_eligibility(shop, now=now, membership=membership)
        if not eligibility.eligible:
            raise DomainError(_("Not eligible yet: %(reasons)s") % {
                "reasons": " ".join(c.reason for c in eligibility.failing)})
        materials, missing = settlement_materials(shop)
        if missing:
            raise DomainError(_("Settlement data missing: %(items)s. Contact the platform to complete them.") % {
                "items": "、".join(missing)})
        membership.applied_at, membership.applied_by = now, actor
        membership.due_at = add_working_days(now, PolicySettings.load().alliance_review_working_days)
        membership.materials = materials
        membership.decided_at = membership.decided_by = None
        membership.decision_reason = ""
        transition(membership, Status.APPLIED, action=Event.Action.ALLIANCE_APPLIED, at=now, actor=actor, shop=shop,
                   fields=["applied_at", "applied_by", "due_at", "materials", "decided_at", "decided_by",
                           "decision_reason"])
    return membership


def alliance_decide(*, membership: AllianceMembership, approve: bool, reason: str, actor,
                    now: datetime.datetime | None = None) -> AllianceMembership:
    """Approve (the criteria are evaluated again now, SPEC §8) or reject."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError(_("Give the reason for the rejection: the merchant reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        shop, membership = _lock_membership(membership.shop_id)
        if membership.status != Status.APPLIED:
            raise InvalidTransition(_("This application is %(status)s: it has already been decided.") % {
                "status": membership.get_status_display()})
        if approve:
            eligibility = alliance_eligibility(shop, now=now, membership=membership)
            if not eligibility.eligible:
                raise DomainError(_("The shop no longer meets every criterion: %(reasons)s Reject the application "
                                    "with this reason.") % {"reasons": " ".join(c.reason for c in eligibility.failing)})
        claims_settle(Event.Subject.ALLIANCE, [membership.pk], actor=actor, now=now)
        membership.decided_at, membership.decided_by, membership.decision_reason = now, actor, reason
        fields = ["decided_at", "decided_by", "decision_reason"]
        if approve:
            membership.activated_at, membership.closed_at, membership.close_cause = now, None, ""
            membership.close_reason = ""
            fields += ["activated_at", "closed_at", "close_cause", "close_reason"]
        transition(membership, Status.ACTIVE if approve else Status.REJECTED, action=Event.Action.ALLIANCE_DECIDED,
                   at=now, actor=actor, shop=shop, reason=reason, fields=fields)
        notify(shop, "alliance_decided", lambda: {"m": membership, "shop": shop, "url": _alliance_url(shop)})
    return membership


def alliance_close(*, shop: Shop, cause: str, reason: str = "", actor=None, ticket=None,
                   now: datetime.datetime | None = None) -> AllianceClosure | None:
    """Close an active membership (SPEC §8). Violation closures count; one
    more than the policy allows closes it for good. Returns None when there
    was no active membership to close. Callers may hold the shop's lock."""
    now = now or timezone.now()
    with transaction.atomic():
        shop = lock_shop(shop.pk)
        membership = AllianceMembership.objects.select_for_update(no_key=True).filter(shop=shop).first()
        if membership is None or membership.status != Status.ACTIVE:
            if cause == Cause.UNSUITABLE:
                raise InvalidTransition(_("Only an active membership can be closed; this one is %(status)s.") % {
                    "status": (membership or AllianceMembership()).get_status_display()})
            return None
        closure = AllianceClosure.objects.create(
            membership=membership, shop=shop, cause=cause, counted=cause in AllianceMembership.COUNTED,
            ticket=ticket, reason=reason, actor=actor, created_at=now)
        limit = PolicySettings.load().alliance_max_closures
        membership.closed_at, membership.close_cause = now, cause
        membership.close_reason = reason or closure.get_cause_display()
        transition(membership, Status.CLOSED_FOR_GOOD if alliance_closed_for_good(counted_closures(membership), limit)
                   else Status.CLOSED,
                   action=Event.Action.ALLIANCE_CLOSED, at=now, actor=actor, shop=shop, ticket=ticket,
                   reason=membership.close_reason, fields=["closed_at", "close_cause", "close_reason"])
        notify(shop, "alliance_closed", lambda: {"m": membership, "shop": shop, "closure": closure,
                                                 "url": _alliance_url(shop)})
    return closure


def _alliance_url(shop) -> str:
    return portal_url("portal:alliance", shop.shop_no)


def alliance_ticket_revoked(*, ticket: Ticket, now: datetime.datetime, actor=None) -> None:
    """A revoked ticket's closure no longer counts; the membership stays
    closed, but one closed for good by it may be reopened by applying.
    The caller holds the shop's lock (ticket_revoke)."""
    closures = list(AllianceClosure.objects.filter(ticket=ticket, voided_at=None))
    if not closures:
        return
    AllianceClosure.objects.filter(pk__in=[c.pk for c in closures]).update(voided_at=now)
    limit = PolicySettings.load().alliance_max_closures
    for closure in closures:
        membership = AllianceMembership.objects.select_for_update(no_key=True).get(pk=closure.membership_id)
        if membership.status == Status.CLOSED_FOR_GOOD and not alliance_closed_for_good(counted_closures(membership),
                                                                                           limit):
            transition(membership, Status.CLOSED, action=Event.Action.ALLIANCE_CLOSURE_VOIDED, at=now, actor=actor,
                       shop=ticket.shop, ticket=ticket,
                       reason=_("Ticket %(number)s was revoked: its closure no longer counts.")
                       % {"number": ticket.number})


def alliance_recheck(cutoff: datetime.datetime, shops: tuple[int, int] | None = None) -> int:
    """The daily re-check (SPEC §8, §10) of the memberships of shops with IDs
    in ``shops`` ([lo, hi); all when None): active memberships whose score
    fell to the threshold or below, whose brand qualification lapsed, or
    whose controller's other shop got a serious violation since they joined.
    Each trigger is one set-based selection; what they find is closed in
    bulk (``_close_many``)."""
    policy = PolicySettings.load()
    active = within(AllianceMembership.objects.filter(status=Status.ACTIVE), shops)
    # The members' shops, asked from the shops' side: the shard's range then bounds the shops
    # read (on the memberships alone, the planner read every shop of the platform, each shard).
    members = within(Shop.objects.filter(alliance__status=Status.ACTIVE), shops, "id")
    found: dict[int, tuple[str, str]] = {}
    low = members.filter(Q(experience_score__lte=policy.alliance_min_score) | Q(experience_score=None))
    for shop_id, score in low.order_by().values_list("id", "experience_score"):
        found.setdefault(shop_id, (Cause.SCORE, _("Experience score %(score)s; it must be more than %(min)s.") % {
            "score": score if score is not None else "—", "min": policy.alliance_min_score}))
    brand_rows = [r for r in active_requirements() if r.per_brand and r.shop_type]
    if brand_rows:
        lapsed = missing_qualifications(shanghai(cutoff).date(), brand_rows).filter(shop__alliance__status=Status.ACTIVE)
        # The shard's range on the products and on the memberships: on the
        # products alone the planner scans every shop (and, on PostgreSQL,
        # JIT-compiles the query for longer than it then runs).
        lapsed = within(within(lapsed, shops), shops, "shop__alliance__shop_id")
        for shop_id in lapsed.order_by().values_list("shop_id", flat=True).distinct():
            found.setdefault(shop_id, (Cause.BRAND_LAPSED, ""))
    # Another shop of the controller: asked only for controllers that have one (most control a
    # single shop) — the question read every member's own tickets to rule them out: half a
    # second a run at a million tickets, with nothing to close as well (bench/RESULTS.md).
    several = controllers_with_several_shops(members.values("controller"))
    if several:
        serious = Ticket.objects.live().filter(
            rule__alliance_serious=True, shop__controller=OuterRef("shop__controller"),
            issued_at__gt=OuterRef("activated_at"), issued_at__lte=cutoff).exclude(shop=OuterRef("shop"))
        for shop_id in active.filter(shop__controller__in=several).filter(Exists(serious)).values_list(
                "shop_id", flat=True):
            found.setdefault(shop_id, (Cause.CONTROLLER_VIOLATION, ""))
    found_ids = sorted(found)
    closed = 0
    for start in range(0, len(found_ids), RECHECK_BATCH):
        closed += _close_many({pk: found[pk] for pk in found_ids[start:start + RECHECK_BATCH]}, cutoff, policy)
    return closed


RECHECK_BATCH = 1000


def _close_many(found: dict[int, tuple[str, str]], now: datetime.datetime, policy: PolicySettings) -> int:
    """``alliance_close`` for many shops at once, the daily re-check's way:
    the memberships still active are locked (a ticket closing one of them at
    this moment waits, or went first and this finds it closed), their
    closures inserted in one statement, their statuses set in one, their
    events in one, their messages and e-mails in one each."""
    with transaction.atomic():
        memberships = list(AllianceMembership.objects.select_for_update(no_key=True)
                           .filter(shop_id__in=list(found), status=Status.ACTIVE).order_by("id")
                           .values_list("pk", "shop_id"))
        if not memberships:
            return 0
        counted = dict(AllianceClosure.objects.filter(membership__in=[pk for pk, _shop in memberships], counted=True,
                                                      voided_at=None)
                       .values("membership_id").annotate(n=Count("id")).values_list("membership_id", "n"))
        closures, outcome = [], {}
        for pk, shop_id in memberships:
            cause, reason = found[shop_id]
            closure = AllianceClosure(membership_id=pk, shop_id=shop_id, cause=cause,
                                      counted=cause in AllianceMembership.COUNTED, reason=reason, created_at=now)
            closures.append(closure)
            total = counted.get(pk, 0) + closure.counted
            to = Status.CLOSED_FOR_GOOD if alliance_closed_for_good(total, policy.alliance_max_closures) else Status.CLOSED
            outcome.setdefault((to, cause), []).append((pk, shop_id,
                                                        reason or str(closure.get_cause_display())))
        copy_rows(closures)
        # One transition per outcome (status and cause: a handful of UPDATEs,
        # where bulk_update's CASE over every row took longer than the rest).
        # A reason of its own (the score's) is the closure's, just inserted.
        own_reason = Subquery(AllianceClosure.objects.filter(membership=OuterRef("pk")).order_by("-id")
                              .values("reason")[:1])
        for (to, cause), group in outcome.items():
            reasons = {pk: reason for pk, _shop, reason in group}
            same = set(reasons.values())
            transition_many(AllianceMembership, [(pk, shop_id) for pk, shop_id, _r in group], source=Status.ACTIVE,
                            to=to, action=Event.Action.ALLIANCE_CLOSED, at=now, reason=reasons.get,
                            updates={"closed_at": now, "close_cause": cause,
                                     "close_reason": same.pop() if len(same) == 1 else own_reason})
        # The messages say what the memberships now are: read back, not assumed — those of
        # shops with someone to tell.
        told, members = to_tell(memberships, AllianceMembership.objects.select_related("shop"))
        closed = {m.pk: m for m in told}
        notify_many("alliance_closed", [
            (closed[c.membership_id].shop, lambda m=closed[c.membership_id], c=c: {
                "m": m, "shop": m.shop, "closure": c, "url": _alliance_url(m.shop)})
            for c in closures if c.membership_id in closed], recipients=members)
    return len(memberships)
