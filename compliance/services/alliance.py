"""Selected Alliance 精选联盟 (SPEC §8): eligibility with a reason for every
criterion, applications and decisions, automatic and manual closures.

Transitions: not applied | rejected | closed → applied (eligible) → active |
rejected; active → closed (a closure) → closed for good (more violation
closures than the policy allows)."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import AllianceClosure, AllianceMembership, PolicySettings, Ticket
from compliance.notifications import notify
from shops.identifiers import mask_identifier
from shops.models import Shop

from .assessment import add_working_days, shanghai
from .events import record_event
from .locks import lock_shop

Status, Cause = AllianceMembership.Status, AllianceMembership.Cause


@dataclass
class Criterion:
    code: str
    label: str
    passed: bool
    reason: str


@dataclass
class Eligibility:
    criteria: list[Criterion]

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.criteria)

    @property
    def failing(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.passed]


def membership_of(shop: Shop) -> AllianceMembership:
    """The shop's membership, or an unsaved one that has not applied."""
    return AllianceMembership.objects.filter(shop=shop).first() or AllianceMembership(shop=shop)


def counted_closures(membership: AllianceMembership) -> int:
    if membership.pk is None:
        return 0
    return membership.closures.filter(counted=True, voided_at=None).count()


def _day(moment) -> str:
    return date_format(shanghai(moment).date(), "Y-m-d")


def alliance_eligibility(shop: Shop, *, now: datetime.datetime | None = None,
                         membership: AllianceMembership | None = None) -> Eligibility:
    """Every criterion of SPEC §8, pass or fail, with a sentence for the
    merchant and the reviewer in the active language."""
    from compliance.selectors import active_requirements, missing_qualifications

    now = now or timezone.now()
    policy = PolicySettings.load()
    membership = membership or membership_of(shop)
    criteria = []

    # 1. Open and operating normally, with an active merchant account.
    active_member = shop.members.filter(user__is_active=True).exists()
    if shop.status != Shop.Status.OPEN:
        reason = _("The shop is %(status)s; it must be open and operating normally.") % {
            "status": shop.get_status_display()}
    elif not active_member:
        reason = _("No active merchant account on the shop.")
    else:
        reason = _("The shop is open and operating normally; the merchant account is active.")
    criteria.append(Criterion("operating", _("Operating normally"), shop.status == Shop.Status.OPEN and active_member,
                              reason))

    # 2. Experience score greater than the threshold (SPEC §8: "大于70分").
    minimum = policy.alliance_min_score
    score = shop.experience_score
    passed = score is not None and score > minimum
    if score is None:
        reason = _("No experience score yet; it must be more than %(min)s.") % {"min": minimum}
    elif passed:
        reason = _("Experience score %(score)s, more than %(min)s.") % {"score": score, "min": minimum}
    else:
        reason = _("Experience score %(score)s; it must be more than %(min)s.") % {"score": score, "min": minimum}
    criteria.append(Criterion("score", _("Experience score"), passed, reason))

    # 3. No upheld ticket of the shop in the look-back (revoked ones and those under appeal do not count).
    days = policy.alliance_ticket_days
    since = now - datetime.timedelta(days=days)
    upheld = (Ticket.objects.filter(shop=shop, status__in=[Ticket.Status.ISSUED, Ticket.Status.FINAL],
                                    issued_at__gte=since, issued_at__lte=now)
              .only("number", "issued_at").order_by("-issued_at").first())
    if upheld:
        reason = _("Ticket %(number)s of %(date)s stands; no upheld ticket is allowed within %(days)d days "
                   "(eligible again after %(until)s).") % {
            "number": upheld.number, "date": _day(upheld.issued_at), "days": days,
            "until": _day(upheld.issued_at + datetime.timedelta(days=days))}
    else:
        reason = _("No upheld ticket in the last %(days)d days.") % {"days": days}
    criteria.append(Criterion("tickets", _("No upheld ticket"), upheld is None, reason))

    # 4. No B-class ticket in the last 30 days (default).
    b_days = policy.alliance_b_ticket_days
    b_ticket = (Ticket.objects.live().filter(shop=shop, violation_class="B", issued_at__gte=now - datetime.timedelta(
        days=b_days), issued_at__lte=now).only("number", "issued_at").order_by("-issued_at").first())
    if b_ticket:
        reason = _("B-class ticket %(number)s of %(date)s; none is allowed within %(days)d days (eligible again "
                   "after %(until)s).") % {
            "number": b_ticket.number, "date": _day(b_ticket.issued_at), "days": b_days,
            "until": _day(b_ticket.issued_at + datetime.timedelta(days=b_days))}
    else:
        reason = _("No B-class ticket in the last %(days)d days.") % {"days": b_days}
    criteria.append(Criterion("b_tickets", _("No B-class ticket"), b_ticket is None, reason))

    # 5. No shop of the same controller penalised for a serious violation (SPEC §5) in the look-back.
    serious = (Ticket.objects.live().filter(shop__controller=shop.controller_id, rule__alliance_serious=True,
                                            issued_at__gte=since, issued_at__lte=now)
               .exclude(shop=shop).select_related("shop").only("number", "issued_at", "shop__shop_no", "shop__name")
               .order_by("-issued_at").first())
    if serious:
        reason = _("Shop %(shop)s of the same controller was penalised for a serious violation (ticket %(number)s, "
                   "%(date)s).") % {"shop": serious.shop.name, "number": serious.number,
                                    "date": _day(serious.issued_at)}
    else:
        reason = _("No shop of the same controller was penalised for a serious violation in the last %(days)d "
                   "days.") % {"days": days}
    criteria.append(Criterion("controller", _("Controller's other shops"), serious is None, reason))

    # 6. Brand certificates for each brand sold, where the shop type needs them (the requirement matrix).
    brand_rows = [r for r in active_requirements() if r.per_brand and r.shop_type == shop.shop_type]
    if not brand_rows:
        passed, reason = True, _("This shop type needs no brand certificate.")
    else:
        brands = sorted(set(missing_qualifications(shanghai(now).date(), brand_rows).filter(shop=shop)
                            .values_list("brand", flat=True)))
        passed = not brands
        reason = (_("Brand certificates are in place for every brand sold.") if passed else
                  _("No approved, valid brand certificate for: %(brands)s.") % {"brands": "、".join(brands)})
    criteria.append(Criterion("brands", _("Brand qualifications"), passed, reason))

    # 7. Fewer closures for violations than allowed (SPEC §8: "违规超过三次").
    closures, allowed = counted_closures(membership), policy.alliance_max_closures
    if closures > allowed:
        reason = _("Closed %(n)d times for violations; after more than %(max)d the membership can never reopen.") % {
            "n": closures, "max": allowed}
    else:
        reason = _("%(n)d closure(s) for violations; more than %(max)d would end the membership for good.") % {
            "n": closures, "max": allowed}
    criteria.append(Criterion("closures", _("Closures for violations"), closures <= allowed, reason))
    return Eligibility(criteria)


def settlement_materials(shop: Shop) -> tuple[dict, list[str]]:
    """The settlement data SPEC §3 asks of the shop's entity type, as kept
    with the application (numbers masked), and what is missing."""
    if shop.is_corporate:
        fields = {"company_name": shop.company_name, "uscc": mask_identifier(shop.uscc),
                  "business_term_start": shop.business_term_start.isoformat() if shop.business_term_start else "",
                  "business_term_end": shop.business_term_end.isoformat() if shop.business_term_end else "长期",
                  "business_address": shop.business_address}
        needed = {"company_name": _("company name"), "uscc": _("unified social credit code"),
                  "business_term_start": _("business term"), "business_address": _("business address")}
    else:
        fields = {"id_card_number": mask_identifier(shop.id_card_number),
                  "id_card_front": bool(shop.id_card_front), "id_card_back": bool(shop.id_card_back),
                  "bank_card_number": mask_identifier(shop.bank_card_number)}
        needed = {"id_card_number": _("resident ID number"), "id_card_front": _("ID card, front"),
                  "id_card_back": _("ID card, back"), "bank_card_number": _("bank card number")}
    missing = [str(label) for key, label in needed.items() if not fields[key]]
    return {"entity_type": shop.entity_type, **fields}, missing


MATERIAL_LABELS = {
    "company_name": _lazy("company name"), "uscc": _lazy("unified social credit code"),
    "business_term_start": _lazy("business term from"), "business_term_end": _lazy("business term to"),
    "business_address": _lazy("business address"), "id_card_number": _lazy("resident ID number"),
    "id_card_front": _lazy("ID card, front"), "id_card_back": _lazy("ID card, back"),
    "bank_card_number": _lazy("bank card number"),
}


def materials_rows(materials: dict) -> list[tuple[str, str]]:
    """The application's settlement materials as (label, value) for a page."""
    rows = []
    for key, label in MATERIAL_LABELS.items():
        if key in materials:
            value = materials[key]
            rows.append((str(label), "✓" if value is True else "—" if value in (False, "", None) else str(value)))
    return rows


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
        before = membership.status
        membership.status, membership.applied_at, membership.applied_by = Status.APPLIED, now, actor
        membership.due_at = add_working_days(now, PolicySettings.load().alliance_review_working_days)
        membership.materials = materials
        membership.decided_at = membership.decided_by = None
        membership.decision_reason = ""
        membership.save()
        record_event(shop=shop, actor=actor, action="alliance_applied", from_status=before, to_status=membership.status,
                     at=now)
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
        membership.status = Status.ACTIVE if approve else Status.REJECTED
        membership.decided_at, membership.decided_by, membership.decision_reason = now, actor, reason
        if approve:
            membership.activated_at, membership.closed_at, membership.close_cause = now, None, ""
            membership.close_reason = ""
        membership.save()
        record_event(shop=shop, actor=actor, action="alliance_decided", from_status=Status.APPLIED,
                     to_status=membership.status, reason=reason, at=now)
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
        membership.status = Status.CLOSED_FOR_GOOD if counted_closures(membership) > limit else Status.CLOSED
        membership.closed_at, membership.close_cause = now, cause
        membership.close_reason = reason or closure.get_cause_display()
        membership.save(update_fields=["status", "closed_at", "close_cause", "close_reason"])
        record_event(shop=shop, ticket=ticket, actor=actor, action="alliance_closed", from_status=Status.ACTIVE,
                     to_status=membership.status, reason=membership.close_reason, at=now)
        notify(shop, "alliance_closed", lambda: {"m": membership, "shop": shop, "closure": closure,
                                                 "url": _alliance_url(shop)})
    return closure


def _alliance_url(shop) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL + reverse("portal:alliance", args=[shop.shop_no])


def alliance_ticket_revoked(*, ticket: Ticket, now: datetime.datetime) -> None:
    """A revoked ticket's closure no longer counts; the membership stays
    closed, but one closed for good by it may be reopened by applying."""
    closures = list(AllianceClosure.objects.filter(ticket=ticket, voided_at=None))
    if not closures:
        return
    AllianceClosure.objects.filter(pk__in=[c.pk for c in closures]).update(voided_at=now)
    limit = PolicySettings.load().alliance_max_closures
    for closure in closures:
        membership = AllianceMembership.objects.select_for_update(no_key=True).get(pk=closure.membership_id)
        if membership.status == Status.CLOSED_FOR_GOOD and counted_closures(membership) <= limit:
            membership.status = Status.CLOSED
            membership.save(update_fields=["status"])


def alliance_recheck(cutoff: datetime.datetime) -> int:
    """The daily re-check (SPEC §8, §10): active memberships whose score fell
    to the threshold or below, whose brand qualification lapsed, or whose
    controller's other shop got a serious violation since they joined. Each
    trigger is one set-based selection; only the memberships it finds are
    closed, one at a time (a closure is a workflow with its own lock)."""
    from compliance.selectors import active_requirements, missing_qualifications

    policy = PolicySettings.load()
    active = AllianceMembership.objects.filter(status=Status.ACTIVE)
    found: dict[int, tuple[str, str]] = {}
    low = active.filter(Q(shop__experience_score__lte=policy.alliance_min_score) | Q(shop__experience_score=None))
    for shop_id, score in low.values_list("shop_id", "shop__experience_score"):
        found.setdefault(shop_id, (Cause.SCORE, _("Experience score %(score)s; it must be more than %(min)s.") % {
            "score": score if score is not None else "—", "min": policy.alliance_min_score}))
    brand_rows = [r for r in active_requirements() if r.per_brand and r.shop_type]
    if brand_rows:
        lapsed = (missing_qualifications(shanghai(cutoff).date(), brand_rows)
                  .filter(shop__alliance__status=Status.ACTIVE).values_list("shop_id", flat=True).distinct())
        for shop_id in lapsed:
            found.setdefault(shop_id, (Cause.BRAND_LAPSED, ""))
    serious = Ticket.objects.live().filter(
        rule__alliance_serious=True, shop__controller=OuterRef("shop__controller"),
        issued_at__gt=OuterRef("activated_at"), issued_at__lte=cutoff).exclude(shop=OuterRef("shop"))
    for shop_id in active.filter(Exists(serious)).values_list("shop_id", flat=True):
        found.setdefault(shop_id, (Cause.CONTROLLER_VIOLATION, ""))
    closed = 0
    for shop_id, (cause, reason) in sorted(found.items()):
        if alliance_close(shop=Shop(pk=shop_id), cause=cause, reason=reason, now=cutoff):
            closed += 1
    return closed
