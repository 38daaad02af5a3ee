"""Selected Alliance 精选联盟 (SPEC §8) as merchants and reviewers read it:
every eligibility criterion with a sentence that explains it, the
membership and its closures, the settlement materials, the score's trend."""

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.calendar import shanghai
from compliance.models import AllianceMembership, PolicySettings, Ticket
from shops.identifiers import mask_identifier
from shops.models import Shop, ShopScore

from .qualifications import active_requirements, missing_qualifications


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
    "company_name": gettext_lazy("company name"), "uscc": gettext_lazy("unified social credit code"),
    "business_term_start": gettext_lazy("business term from"), "business_term_end": gettext_lazy("business term to"),
    "business_address": gettext_lazy("business address"), "id_card_number": gettext_lazy("resident ID number"),
    "id_card_front": gettext_lazy("ID card, front"), "id_card_back": gettext_lazy("ID card, back"),
    "bank_card_number": gettext_lazy("bank card number"),
}


def materials_rows(materials: dict) -> list[tuple[str, str]]:
    """The application's settlement materials as (label, value) for a page."""
    rows = []
    for key, label in MATERIAL_LABELS.items():
        if key in materials:
            value = materials[key]
            rows.append((str(label), "✓" if value is True else "—" if value in (False, "", None) else str(value)))
    return rows


@dataclass
class ScoreTrend:
    """The last days' experience scores as a small server-drawn line."""

    points: list  # (day, score)
    width: int = 240
    height: int = 48

    @property
    def polyline(self) -> str:
        if len(self.points) < 2:
            return ""
        first = self.points[0][0]
        span = max((self.points[-1][0] - first).days, 1)
        low = float(min(s for _d, s in self.points)) - 1
        high = float(max(s for _d, s in self.points)) + 1
        return " ".join(
            f"{round((day - first).days / span * (self.width - 4) + 2, 1)},"
            f"{round(self.height - 2 - (float(score) - low) / (high - low) * (self.height - 4), 1)}"
            for day, score in self.points)

    @property
    def change(self):
        return self.points[-1][1] - self.points[0][1] if len(self.points) >= 2 else None


def score_trend(shop: Shop, *, now: datetime.datetime | None = None, days: int = 30) -> ScoreTrend:
    today = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()
    rows = (ShopScore.objects.filter(shop=shop, day__gt=today - datetime.timedelta(days=days))
            .order_by("day").values_list("day", "score"))
    return ScoreTrend(points=list(rows))


def alliance_summary(shop: Shop, *, cached: bool = False):
    """The shop's membership and, when it is not active, its eligibility.
    The health page keeps the evaluation for a minute (``cached``); applying
    and deciding always evaluate afresh (services.alliance)."""
    membership = membership_of(shop)
    if membership.status == membership.Status.ACTIVE:
        return membership, None
    if not cached:
        return membership, alliance_eligibility(shop, membership=membership)
    # The criteria's sentences are in the active language: the key names it.
    key = f"alliance-eligibility:{shop.pk}:{membership.status}:{get_language()}"
    return membership, cache.get_or_set(key, lambda: alliance_eligibility(shop, membership=membership), 60)
