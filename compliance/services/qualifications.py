"""Qualification certificates (SPEC §4): submission, review, withdrawal,
rectification notices and the tickets that follow them.

Transitions (STYLE §2): submitted → approved | rejected; approved → expired
(the daily job) | revoked | invalidated | superseded. A lapse of an approved
certificate opens a rectification notice; a replacement approved before the
deadline closes it, and after the ticket relists what the notice delisted."""

import datetime
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import (
    Event, Measure, MeasureProduct, PolicySettings, Qualification, QualificationDocument, QualificationGap,
    QualificationKind, QualificationRequirement, QualificationType, RectificationNotice, Rule, Ticket,
)
from compliance.notifications import notify_notices_opened, notify_qualification_reviewed
from shops.models import Product, Shop
from shops.numbers import LATEST_DAY, date_in_bounds
from shops.uploads import original_name

from compliance.calendar import add_working_days, shanghai, whole_day_deadline
from compliance.selectors.shops import within
from compliance.selectors.qualifications import (  # noqa: F401 (names of the SPEC §4 table re-exported)
    PRODUCT_TIERS, TIER_FIRST_MINOR, TIER_OTHER, TIER_OTHER_SERIOUS, TIER_PRODUCT, TIER_PRODUCT_COMPLAINT,
    MissingPlan, TRADEMARK_RULE, brand_products, covered_products, forget_requirements, missing_description,
    missing_groups, missing_qualifications, qualification_tier, requirements_now, tier_of_rule,
)
from compliance.wording import labelled

from .claims import claims_settle
from . import measures as m
from .events import journal, new_event, platform_actor, record_event, transition
from .locks import lock_shop
from .preview import dry_run, effect_of
from .tickets import ticket_issue

WITHDRAWN = (Qualification.Status.REVOKED, Qualification.Status.INVALIDATED)



def _data(qualification: Qualification, **extra) -> dict:
    return {"qualification": qualification.pk, "number": qualification.number, **extra}


def _lock(pk: int) -> Qualification:
    shop_id = Qualification.objects.values_list("shop_id", flat=True).get(pk=pk)
    lock_shop(shop_id)  # lock order: controller, shop, then the certificate (services.locks)
    return Qualification.objects.select_for_update(of=("self",), no_key=True).select_related(
        "qualification_type", "shop").get(pk=pk)


# Merchants ------------------------------------------------------------------------------------

def qualification_submit(*, shop: Shop, qualification_type, number: str, holder: str, authority: str,
                         issued_on: datetime.date, expires_on: datetime.date | None, brand: str = "",
                         products=(), files=(), actor, renews: Qualification | None = None,
                         now: datetime.datetime | None = None) -> Qualification:
    """A merchant submits a certificate, or the renewal of one, for review."""
    now = now or timezone.now()
    number, holder, authority, brand = (v.strip() for v in (number, holder, authority, brand or ""))
    products = list(products)
    if not qualification_type.is_active:
        raise DomainError(_("This certificate type can no longer be submitted."))
    if not files:
        raise DomainError(_("Attach the certificate: a scan or photo of every page."))
    today = shanghai(now).date()
    if expires_on and expires_on < issued_on:
        raise DomainError(_("A certificate cannot expire before it was issued."))
    try:  # dates from outside: issued by today, from 2000 on, valid at most until 2099
        date_in_bounds(issued_on, latest=today)
        if expires_on:
            date_in_bounds(expires_on, latest=LATEST_DAY)
    except ValidationError as exc:
        raise DomainError(exc.messages[0]) from None
    if expires_on and expires_on < today:
        raise DomainError(_("This certificate has already expired; submit the current one."))
    if qualification_type.kind == QualificationKind.BRAND and not brand:
        raise DomainError(_("Name the brand this certificate is for."))
    if qualification_type.kind == QualificationKind.PRODUCT and not products:
        raise DomainError(_("Choose the products this certificate covers."))
    if any(p.shop_id != shop.pk for p in products):
        raise DomainError(_("Every product must belong to this shop."))
    if renews is not None:
        if renews.shop_id != shop.pk:
            raise DomainError(_("A renewal must be for a certificate of the same shop."))
        if renews.status in (Qualification.Status.SUBMITTED, Qualification.Status.REJECTED,
                             Qualification.Status.SUPERSEDED):
            raise InvalidTransition(_("Only an approved or lapsed certificate can be renewed."))
    with transaction.atomic():
        lock_shop(shop.pk)
        if renews is not None and renews.renewals.filter(status=Qualification.Status.SUBMITTED).exists():
            raise InvalidTransition(_("A renewal of this certificate is already under review."))
        qualification = Qualification.objects.create(
            shop=shop, qualification_type=qualification_type, kind=qualification_type.kind, number=number,
            holder=holder, authority=authority, issued_on=issued_on, expires_on=expires_on, brand=brand,
            renews=renews, submitted_by=actor, submitted_at=now,
            due_at=add_working_days(now, PolicySettings.load().certificate_review_working_days),
        )
        if products:
            qualification.products.set(products)
        for upload in files:
            document = QualificationDocument(qualification=qualification, file=upload,
                                             original_name=original_name(upload))
            document.full_clean(exclude=["qualification"])
            document.save()
        record_event(shop=shop, actor=actor, action=Event.Action.QUALIFICATION_SUBMITTED,
                     subject=Event.Subject.QUALIFICATION, subject_id=qualification.pk, to_status=qualification.status, data=_data(qualification, renews=renews.pk if renews else None),
                     reason=str(qualification_type), at=now)
    return qualification


# Reviewers ------------------------------------------------------------------------------------

def qualification_review(*, qualification: Qualification, approve: bool, reason: str, actor,
                         now: datetime.datetime | None = None) -> Qualification:
    """Approve or reject a submitted certificate. Approval supersedes the
    certificate it replaces, closes the shop's open notices it answers, and
    relists what an earlier notice's ticket delisted (SPEC §4)."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError(_("Give the reason for the rejection: the merchant reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        qualification = _lock(qualification.pk)
        if qualification.status != Qualification.Status.SUBMITTED:
            raise InvalidTransition(_("This certificate is %(status)s: it has already been reviewed.")
                                    % {"status": qualification.get_status_display()})
        if approve and qualification.expires_on and qualification.expires_on < shanghai(now).date():
            raise DomainError(_("This certificate expired on %(day)s and cannot be approved; reject it.")
                              % {"day": qualification.expires_on.isoformat()})
        claims_settle(Event.Subject.QUALIFICATION, [qualification.pk], actor=actor, now=now)
        qualification.reviewed_by, qualification.reviewed_at, qualification.review_reason = actor, now, reason
        transition(qualification, Qualification.Status.APPROVED if approve else Qualification.Status.REJECTED,
                   action=Event.Action.QUALIFICATION_REVIEWED, at=now, actor=actor, reason=reason,
                   data=_data(qualification), fields=["reviewed_by", "reviewed_at", "review_reason"])
        if approve:
            _replace(qualification, actor=actor, now=now)
            gaps_refresh(shop_ids=[qualification.shop_id], now=now)
        notify_qualification_reviewed(qualification)
    return qualification


def _replaces(new: Qualification, old: Qualification, new_products: set[int]) -> bool:
    """Whether ``new`` (approved) stands in for ``old``: its renewal, or a
    certificate of the same type (any brand certificate for a brand) and brand
    covering at least what the old one covered."""
    if old.pk == new.pk or old.shop_id != new.shop_id:
        return False
    if new.renews_id == old.pk:
        return True
    same_type = (old.kind == new.kind == QualificationKind.BRAND) or old.qualification_type_id == new.qualification_type_id
    if not same_type or old.brand != new.brand:
        return False
    old_products = {p.pk for p in old.products.all()}
    return not new_products or bool(old_products) and old_products <= new_products


def _replace(new: Qualification, *, actor, now) -> None:
    new_products = set(new.products.values_list("pk", flat=True))
    candidates = (Qualification.objects.filter(shop=new.shop_id, kind=new.kind)
                  .filter(Q(status=Qualification.Status.APPROVED) | Q(notice__status=RectificationNotice.Status.OPEN)
                          | Q(notice__outcome=RectificationNotice.Outcome.TICKETED, notice__relisted_at=None))
                  .exclude(pk=new.pk).prefetch_related("products").select_related("notice"))
    for old in candidates:
        if not _replaces(new, old, new_products):
            continue
        if old.status == Qualification.Status.APPROVED:
            old.lapsed_at = now
            old.lapse_reason = _("Replaced by certificate %(number)s.") % {"number": new.number}
            transition(old, Qualification.Status.SUPERSEDED, action=Event.Action.QUALIFICATION_SUPERSEDED, at=now,
                       actor=actor, shop=new.shop, reason=old.lapse_reason, data=_data(old, by=new.pk),
                       fields=["lapsed_at", "lapse_reason"])
            continue
        notice = getattr(old, "notice", None)
        if notice is None:
            continue
        if notice.status == RectificationNotice.Status.OPEN:
            notice.closed_at = now
            notice.outcome, notice.replacement = RectificationNotice.Outcome.REPLACED, new
            transition(notice, RectificationNotice.Status.CLOSED, action=Event.Action.NOTICE_CLOSED, at=now,
                       actor=actor, shop=new.shop,
                       reason=_("Replaced in time by certificate %(number)s.") % {"number": new.number},
                       data=_data(old, notice=notice.pk, replacement=new.pk, outcome=notice.outcome),
                       fields=["closed_at", "outcome", "replacement"])
        elif notice.ticket_id:
            _relist(notice, new, actor=actor, now=now)


def _relist(notice: RectificationNotice, new: Qualification, *, actor, now) -> None:
    """SPEC §4: after the ticket, an approved replacement puts back on sale
    what the notice's ticket delisted; the ticket and its points stand."""
    delistings = list(Measure.objects.filter(ticket=notice.ticket_id, kind=Measure.Kind.DELIST,
                                             status=Measure.Status.ACTIVE, node_application=None))
    m.reverse_measures(delistings, at=now, status=Measure.Status.ENDED)
    notice.relisted_at, notice.replacement = now, new
    notice.save(update_fields=["relisted_at", "replacement"])
    count = MeasureProduct.objects.filter(measure__in=delistings).count()
    record_event(shop=new.shop, ticket=notice.ticket, actor=actor, action=Event.Action.PRODUCTS_RELISTED,
                 subject=Event.Subject.NOTICE, subject_id=notice.pk,
                 reason=_("Certificate %(number)s was approved: %(n)d product(s) delisted by this ticket are back "
                          "on sale.") % {"number": new.number, "n": count},
                 data=_data(notice.qualification, notice=notice.pk, replacement=new.pk, products=count), at=now)


def qualification_withdraw(*, qualification: Qualification, status: str, reason: str, actor,
                           now: datetime.datetime | None = None) -> Qualification:
    """The authority withdrew an approved certificate: it is revoked or
    invalidated, and a rectification notice opens at once (SPEC §4)."""
    if status not in WITHDRAWN:
        raise DomainError(_("Choose revoked or invalidated."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason: the merchant reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        qualification = _lock(qualification.pk)
        _withdraw(qualification, status=status, reason=reason, actor=actor, now=now)
        notices = open_notices([qualification.pk], now=now)
        notify_notices_opened(notices)
    return qualification


def _withdraw(qualification, *, status, reason, actor, now) -> None:
    if qualification.status != Qualification.Status.APPROVED:
        raise InvalidTransition(_("Only an approved certificate can be withdrawn; this one is %(status)s.")
                                % {"status": qualification.get_status_display()})
    qualification.lapsed_at, qualification.lapsed_by, qualification.lapse_reason = now, actor, reason
    transition(qualification, status, action=Event.Action.QUALIFICATION_LAPSED, at=now, actor=actor, reason=reason,
               data=_data(qualification), fields=["lapsed_at", "lapsed_by", "lapse_reason"])
    gaps_refresh(shop_ids=[qualification.shop_id], now=now)


def trademark_event(*, qualification: Qualification, reason: str, ban: bool, clear: bool, actor,
                    now: datetime.datetime | None = None) -> Ticket:
    """SPEC §4 last paragraph: an acceptance notice rejected, a registration
    invalidated or an authorisation withdrawn. The brand certificate is
    invalidated and a ticket under the trademark rule carries the measures the
    reviewer chose (ban the brand's products, clear the shop); no
    rectification notice follows — the ticket is the consequence."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Describe the trademark event: the merchant reads it."))
    if qualification.kind != QualificationKind.BRAND:
        raise DomainError(_("Trademark events concern brand certificates only."))
    now = now or timezone.now()
    tier = tier_of_rule(TRADEMARK_RULE, None, day=shanghai(now).date())
    with transaction.atomic():
        qualification = _lock(qualification.pk)
        _withdraw(qualification, status=Qualification.Status.INVALIDATED, reason=reason, actor=actor, now=now)
        ticket = ticket_issue(
            shop=qualification.shop, tier=tier, actor=actor, products=list(brand_products(qualification)) if ban else [],
            description=reason, occurred_at=now, ban_chosen=ban, clear_chosen=clear, now=now,
        )
        qualification.event_ticket = ticket
        qualification.save(update_fields=["event_ticket"])
        gaps_refresh(shop_ids=[qualification.shop_id], now=now)  # banned products leave the queue
    return ticket


def trademark_event_preview(*, qualification: Qualification, reason: str, ban: bool, clear: bool, actor,
                            now: datetime.datetime | None = None):
    """What ``trademark_event`` would do (the ticket's ``Consequences``):
    done for real and rolled back (services.preview); writes nothing."""
    return dry_run(lambda: trademark_event(qualification=qualification, reason=reason, ban=ban, clear=clear,
                                           actor=actor, now=now).consequences)


# Rectification --------------------------------------------------------------------------------

def open_notices(qualification_ids, *, now=None) -> list[RectificationNotice]:
    """Open a notice for each lapsed certificate of a trading shop that has
    none, opened when the certificate lapsed, with the policy's deadline in
    whole Shanghai days; events in one insert. Returns the new notices."""
    days = PolicySettings.load().rectification_days
    lapsed = list(
        Qualification.objects.filter(pk__in=list(qualification_ids), status__in=Qualification.LAPSED,
                                     event_ticket=None, notice=None, shop__status__in=Shop.TRADING).order_by("pk")
    )
    # The few types, read once (the daily job opens thousands of notices of a handful of types).
    types = QualificationType.objects.in_bulk({q.qualification_type_id for q in lapsed})
    for q in lapsed:
        q.qualification_type = types[q.qualification_type_id]
    notices = RectificationNotice.objects.bulk_create([
        RectificationNotice(qualification=q, shop_id=q.shop_id, cause=q.status, opened_at=q.lapsed_at,
                            deadline=whole_day_deadline(q.lapsed_at, days))
        for q in lapsed
    ])
    for notice, q in zip(notices, lapsed):
        notice.qualification = q
    journal([
        new_event(shop_id=n.shop_id, action=Event.Action.NOTICE_OPENED, subject=Event.Subject.NOTICE, subject_id=n.pk,
                  to_status=n.status, reason=notice_text(n), at=n.opened_at,
                  data=_data(n.qualification, notice=n.pk, deadline=n.deadline.isoformat()))
        for n in notices
    ])
    return notices


def notice_text(notice: RectificationNotice) -> str:
    """Why the notice was opened and by when to act, in the platform language
    (it is stored on the event and read by the merchant)."""
    q = notice.qualification
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(type)s %(number)s is %(cause)s. Submit a valid replacement before %(deadline)s, or a ticket "
                 "under “failure to submit qualification materials” follows and the products it covers are "
                 "delisted.") % {"type": q.qualification_type, "number": q.number,
                                 "cause": str(Qualification.Status(notice.cause).label).lower(),
                                 "deadline": shanghai(notice.deadline).strftime("%Y-%m-%d %H:%M")}


def notice_ticket(notice_id: int, *, shop_id: int | None = None, actor=None, memo: dict | None = None) -> Ticket | None:
    """The deadline passed without a replacement: issue the SPEC §4 ticket as
    the platform and delist what the certificate covered. Issued at the moment
    the deadline passed, so that running the job day by day or for a later day
    at once gives the same tickets. The caller refreshes the shops' gaps
    (once for all the notices it handles); one handling many may give each
    notice's shop, the platform's account (``platform_actor``), read once,
    and a ``memo`` for ``qualification_tier`` kept across them."""
    if shop_id is None:
        shop_id = RectificationNotice.objects.values_list("shop_id", flat=True).get(pk=notice_id)
    with transaction.atomic():
        shop = lock_shop(shop_id)
        notice = RectificationNotice.objects.select_for_update(of=("self",), no_key=True).select_related(
            "qualification__qualification_type").get(pk=notice_id)
        if notice.status != RectificationNotice.Status.OPEN:
            return None
        at = notice.deadline + datetime.timedelta(microseconds=1)
        q = notice.qualification
        ticket = None
        if shop.is_trading:
            tier = qualification_tier(shop=shop, kinds=[q.kind], at=at, memo=memo)
            with translation.override(settings.LANGUAGE_CODE):
                description = _("Rectification notice for %(type)s %(number)s (%(cause)s) was not answered by "
                                "%(deadline)s.") % {"type": q.qualification_type, "number": q.number,
                                                    "cause": notice.get_cause_display().lower(),
                                                    "deadline": shanghai(notice.deadline).strftime("%Y-%m-%d %H:%M")}
            ticket = ticket_issue(shop=shop, tier=tier, actor=actor or platform_actor(), products=covered_products(q),
                                  description=description, occurred_at=notice.deadline, require_products=False,
                                  idempotency_key=f"rectification-{notice.pk}", now=at)
        notice.closed_at, notice.ticket = at, ticket
        notice.outcome = RectificationNotice.Outcome.TICKETED if ticket else RectificationNotice.Outcome.VOID
        transition(notice, RectificationNotice.Status.CLOSED, action=Event.Action.NOTICE_CLOSED, at=at, shop=shop,
                   ticket=ticket, reason=notice.get_outcome_display(),
                   data=_data(q, notice=notice.pk, outcome=notice.outcome),
                   fields=["closed_at", "outcome", "ticket"])
    return ticket


# The missing-qualification queue ----------------------------------------------------------------

GAP_BATCH = 2000


def gaps_refresh(*, shop_ids=None, shops: tuple[int, int] | None = None, now: datetime.datetime | None = None,
                 requirements=None) -> tuple[int, int]:
    """Bring the queue (QualificationGap) in line with the requirement matrix:
    one set-based SELECT of the products lacking a certificate — every shop's
    for the daily job, or ``shop_ids``' when their certificates changed — then
    open a gap for each newly found product and resolve the gaps of products
    no longer found, in batches; ``shops`` is one shard of the daily job
    (shop IDs in [lo, hi)). Returns (opened, resolved)."""
    now = now or timezone.now()
    found = within(missing_qualifications(shanghai(now).date(), requirements), shops)
    known = within(QualificationGap.objects.open(), shops)
    if shop_ids is not None:
        shop_ids = list(shop_ids)
        found, known = found.filter(shop_id__in=shop_ids), known.filter(shop_id__in=shop_ids)
    current = dict(found.values_list("pk", "shop_id"))
    open_products = set(known.values_list("product_id", flat=True))
    new = [QualificationGap(product_id=pk, shop_id=shop_id, found_at=now)
           for pk, shop_id in current.items() if pk not in open_products]
    # A concurrent refresh may have opened the same gap: the partial unique index keeps one.
    QualificationGap.objects.bulk_create(new, batch_size=GAP_BATCH, ignore_conflicts=True)
    gone = sorted(open_products - current.keys())
    for start in range(0, len(gone), GAP_BATCH):
        QualificationGap.objects.open().filter(product_id__in=gone[start:start + GAP_BATCH]).update(resolved_at=now)
    return len(new), len(gone)


@dataclass
class MissingPreview:
    """What issuing a ``MissingPlan`` does, ticket by ticket (``TicketEffect``),
    with the sums the confirmation page states beside its button."""

    plan: MissingPlan
    effects: list
    errors: list[str]

    @property
    def rows(self) -> list[dict]:
        """One row per ticket, as the page's table shows it."""
        return [{"shop": e.ticket.shop, "tier": e.ticket.tier, "products": e.consequences.products,
                 "c": e.consequences, "effect": e} for e in self.effects]

    @property
    def total_products(self) -> int:
        return sum(len(e.consequences.products) for e in self.effects)

    @property
    def total_points(self) -> dict:
        return {cls: sum(e.consequences.points for e in self.effects if e.consequences.violation_class == cls)
                for cls in "AB"}

    @property
    def reaching_nodes(self) -> list:
        return [e for e in self.effects if e.consequences.node]

    @property
    def clearing(self) -> list:
        """The shops one of these tickets clears (SPEC §6.2), each once."""
        return list({e.ticket.shop_id: e.ticket.shop for e in self.effects if e.clears}.values())

    @property
    def clearing_labels(self) -> list[str]:
        """The same shops, as the page names them beside the issue button."""
        return [str(shop) for shop in self.clearing]


def missing_preview(*, plan: MissingPlan, actor, now=None) -> MissingPreview:
    """The confirmation page's content: the plan issued for real and rolled back."""
    effects, errors = missing_tickets_preview(groups=plan.groups, lacking=plan.lacking, actor=actor, now=now)
    return MissingPreview(plan=plan, effects=effects, errors=errors)


def missing_tickets_preview(*, groups, lacking, actor, now=None) -> tuple[list, list[str]]:
    """What ``missing_ticket_issue`` would do, issued for real and rolled back
    (services.preview): each ticket sees the ones before it, two tickets of
    one shop included. Returns the tickets' effects and the errors."""
    def issue_all():
        tickets, errors = missing_ticket_issue(groups=groups, lacking=lacking, actor=actor,
                                               token=f"preview-{secrets.token_hex(6)}", now=now)
        return [effect_of(ticket) for ticket in tickets], errors

    return dry_run(issue_all)


def missing_ticket_issue(*, groups, lacking, actor, token: str, now=None) -> tuple[list[Ticket], list[str]]:
    """Issue the queue's tickets, one per shop and tier, each atomic on its
    own (a shop that stopped trading meanwhile does not stop the others).
    ``token`` is the confirmation form's: a second submission returns the
    tickets already issued. Returns the tickets and the errors."""
    tickets, errors = [], []
    now = now or timezone.now()
    for shop, tier, products in groups:
        try:
            with transaction.atomic():
                gaps = QualificationGap.objects.open().filter(product__in=products)
                claims_settle(Event.Subject.GAP, gaps.values_list("pk", flat=True), actor=actor, now=now)
                ticket = ticket_issue(
                    shop=shop, tier=tier, actor=actor, products=products,
                    description=missing_description(products, lacking), occurred_at=now,
                    idempotency_key=f"missing-{token}-{shop.pk}-{tier.pk}"[:64], now=now,
                )
                # The delisted products leave the queue with the ticket that took them off sale.
                gaps.update(ticket=ticket, resolved_at=now)
        except DomainError as exc:
            errors.append(labelled(shop.shop_no, exc.message))
        else:
            tickets.append(ticket)
    return tickets, errors


# The requirement matrix (SPEC §4: data compliance admins edit) -----------------------------------

def _requirements_changed(now) -> tuple[int, int]:
    """A changed type or requirement changes which products lack a
    certificate: the queue is checked again at once against the matrix as this
    transaction sees it, and the cached matrix is dropped once it commits."""
    transaction.on_commit(forget_requirements)
    return gaps_refresh(now=now, requirements=requirements_now())


def qualification_type_save(*, qualification_type: QualificationType,
                            now: datetime.datetime | None = None) -> tuple[int, int]:
    """Save a certificate type; returns the queue's (opened, resolved)."""
    with transaction.atomic():
        qualification_type.save()
        return _requirements_changed(now or timezone.now())


def requirement_save(*, requirement: QualificationRequirement, accepted_types,
                     now: datetime.datetime | None = None) -> tuple[int, int]:
    """Save a requirement row with its accepted types; returns the queue's
    (opened, resolved)."""
    with transaction.atomic():
        requirement.save()
        requirement.accepted_types.set(accepted_types)
        return _requirements_changed(now or timezone.now())
