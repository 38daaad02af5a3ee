"""Issuing and revoking violation tickets (SPEC §6)."""

import datetime
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import point_year, shanghai, whole_day_deadline
from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import Event, Measure, PointEntry, RuleTier, Ticket, TicketEvidence
from compliance.models.base import insert_one, insert_rows
from compliance.notifications import notify_ticket_issued, recipients_of
from compliance.selectors.assessment import Consequences, assess, issuing_figures
from shops.models import Shop
from shops.uploads import original_name

from . import measures as m
from .alliance import Cause, alliance_close, alliance_ticket_revoked
from .deposits import deposit_deduct, deposit_refund_ticket
from .events import new_number, platform_actor, record_event, transition
from .locks import lock_shop, lock_ticket
from .nodes import nodes_apply, nodes_reevaluate
from .preview import dry_run

# SPEC §6.1: the statuses a ticket can be revoked from (Ticket.TRANSITIONS).
REVOCABLE = Ticket.sources_of(Ticket.Status.REVOKED)


def ticket_preview(*, shop: Shop, tier: RuleTier, points: int, products=(), order_count=None,
                   occurred_at: datetime.datetime, ban_chosen=False, clear_chosen=False,
                   description: str = "", actor=None) -> Consequences:
    """The consequences a ticket would have now: the ticket issued in a
    transaction that is rolled back (services.preview); writes nothing."""
    return dry_run(lambda: ticket_issue(
        shop=shop, tier=tier, actor=actor or platform_actor(), points=points, products=products,
        order_count=order_count,
        occurred_at=occurred_at, ban_chosen=ban_chosen, clear_chosen=clear_chosen,
        description=description or "preview")).consequences


def _snapshot(tier: RuleTier, *, ban_chosen: bool, clear_chosen: bool) -> dict:
    rule = tier.rule
    return {
        "rule_code": rule.code, "rule_version": rule.version, "rule_name_zh": rule.name_zh,
        "rule_name_en": rule.name_en, "alliance_serious": rule.alliance_serious,
        "evidence_hint_zh": rule.evidence_hint_zh, "evidence_hint_en": rule.evidence_hint_en,
        "appeal_window_days": rule.appeal_window_days, "appeal_chances": rule.appeal_chances,
        "tier_code": tier.code, "tier_name_zh": tier.name_zh, "tier_name_en": tier.name_en,
        "class": tier.violation_class, "points_default": tier.points_default, "points_min": tier.points_min,
        "points_max": tier.points_max, "deposit_amount": str(tier.deposit_amount), "deposit_all": tier.deposit_all,
        "deposit_per_order": str(tier.deposit_per_order) if tier.per_order else None,
        "deposit_daily_cap": str(tier.deposit_daily_cap) if tier.deposit_daily_cap is not None else None,
        "warning": tier.warning, "delist_products": tier.delist_products, "ban_products": tier.ban_products,
        "suspend_days": tier.suspend_days, "clear_shop": tier.clear_shop, "freeze_proceeds": tier.freeze_proceeds,
        "ban_chosen": ban_chosen, "clear_chosen": clear_chosen,
    }


def ticket_issue(
    *,
    shop: Shop,
    tier: RuleTier,
    actor,
    points: int | None = None,
    products=(),
    description: str,
    occurred_at: datetime.datetime,
    order_count: int | None = None,
    ban_chosen: bool = False,
    clear_chosen: bool = False,
    evidence=(),
    idempotency_key: str | None = None,
    require_products: bool = True,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Issue a ticket and apply everything it causes, atomically.

    ``idempotency_key`` (the form's hidden token) makes a double submission
    return the first ticket instead of issuing a second one."""
    if not (description or "").strip():
        raise DomainError(_("Describe the violation: the merchant reads this description."))
    given_key = bool(idempotency_key)
    idempotency_key = idempotency_key or uuid.uuid4().hex
    points = tier.points_default if points is None else points
    # Read before the lock, which every ticket of the shop waits for: nothing here depends on it.
    recipients = recipients_of([shop.pk])
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                # Lock order: controller, then shop (compliance.services.locks). The
                # points total, the deposit balance and the daily cap are read under
                # this lock, so concurrent tickets to one shop serialise here.
                shop = lock_shop(shop.pk)
                at = now or timezone.now()
                # The shop's figures in one statement; a key of our own is new, only a form's can have been used.
                figures = issuing_figures(
                    shop=shop, tier=tier, points=points, year=point_year(at), occurred_at=occurred_at,
                    idempotency_key=idempotency_key if given_key else None)
                if figures.existing_ticket_id:
                    return Ticket.objects.get(pk=figures.existing_ticket_id)
                c = assess(shop=shop, tier=tier, points=points, products=products, order_count=order_count,
                           occurred_at=occurred_at, ban_chosen=ban_chosen, clear_chosen=clear_chosen,
                           require_products=require_products, now=at, figures=figures)
                ticket = _write_ticket(c, actor=actor, description=description, occurred_at=occurred_at,
                                       idempotency_key=idempotency_key, ban_chosen=ban_chosen,
                                       clear_chosen=clear_chosen)
                for upload in evidence:
                    item = TicketEvidence(ticket=ticket, file=upload, uploaded_by=actor,
                                          original_name=original_name(upload))
                    item.full_clean(exclude=["ticket", "uploaded_by"])
                    item.save()
                _apply(c, ticket=ticket, actor=actor)
                notify_ticket_issued(ticket, recipients=recipients)
                ticket.consequences = c  # what a preview shows (services.preview)
                return ticket
        except IntegrityError:
            # Two identical submissions raced past the lookup: the first one won.
            if existing := _by_key(idempotency_key):
                return existing
            # Otherwise the random number was taken (services.events.new_number): draw again.
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


NUMBER_ATTEMPTS = 3


def _by_key(idempotency_key: str) -> Ticket | None:
    return Ticket.objects.filter(idempotency_key=idempotency_key).order_by().first()


def _write_ticket(c: Consequences, *, actor, description, occurred_at, idempotency_key, ban_chosen,
                  clear_chosen) -> Ticket:
    rule = c.tier.rule
    ticket = insert_one(Ticket(
        number=new_number("WG", shanghai(c.issued_at)),
        idempotency_key=idempotency_key, shop=c.shop, rule=rule, tier=c.tier,
        rule_snapshot=_snapshot(c.tier, ban_chosen=ban_chosen, clear_chosen=clear_chosen),
        violation_class=c.violation_class, points=c.points, point_year=c.year,
        deposit_amount=c.deposit_charged, order_count=c.order_count, deposit_day=c.deposit_day,
        description=description.strip(), occurred_at=occurred_at, issued_at=c.issued_at, issued_by=actor,
        appeal_deadline=whole_day_deadline(c.issued_at, rule.appeal_window_days),
    ))
    if c.products:
        insert_rows([Ticket.products.through(ticket=ticket, product=p) for p in c.products])
    record_event(shop=c.shop, ticket=ticket, actor=actor, action=Event.Action.TICKET_ISSUED,
                 subject=Event.Subject.TICKET, subject_id=ticket.pk, to_status=ticket.status,
                 data={"points": c.points, "total_after": c.total_after,
                       "nodes": [n.threshold for n in c.nodes]}, at=c.issued_at)
    return ticket


def _apply(c: Consequences, *, ticket: Ticket, actor) -> None:
    """The ticket's own measures (SPEC §5), then the strictest node's on top
    (SPEC §6.2): two deductions, each its own ledger entry and measure."""
    shop, now = c.shop, c.issued_at
    if c.points:
        PointEntry.objects.create(shop=shop, ticket=ticket, violation_class=c.violation_class, year=c.year,
                                  points=c.points)
    # The ticket's own measures in one INSERT (fewer statements a ticket: bench/RESULTS.md).
    own = []
    if c.deposit_charged > 0:
        deposit_deduct(shop=shop, requested=c.deposit_charged, ticket=ticket, actor=actor)
        own.append(m.new_measure(ticket=ticket, kind=Measure.Kind.DEPOSIT, at=now, amount=c.deposit_charged,
                                 details={"taken": str(c.deposit_taken), "shortfall": str(c.shortfall)}))
    if c.warning:
        own.append(m.new_measure(ticket=ticket, kind=Measure.Kind.WARNING, at=now))
    if c.freeze_proceeds:
        own.append(m.new_measure(ticket=ticket, kind=Measure.Kind.FREEZE_PROCEEDS, at=now))
    if c.alliance_close:
        own.append(m.new_measure(ticket=ticket, kind=Measure.Kind.ALLIANCE_CLOSE, at=now,
                                 details={"permanent": c.clear}))
    if c.suspend_ends_at:
        own.append(m.new_measure(ticket=ticket, kind=Measure.Kind.SUSPEND, at=now, ends_at=c.suspend_ends_at))
    held = [m.new_measure(ticket=ticket, kind=kind, at=now) for kind, wanted in (
        (Measure.Kind.BAN, c.ban), (Measure.Kind.DELIST, c.delist)) if wanted and c.products]
    insert_rows(own + held)
    m.hold_products(held, c.products)
    if c.clear:
        m.clear_shop(ticket=ticket, shop=shop, at=now, actor=actor)
    nodes_apply(c, ticket=ticket, actor=actor)
    if c.shop_cleared or c.suspended_until:  # only these change the shop's status (SPEC §6.3)
        m.refresh_shop_status(shop, now=now, actor=actor, ticket=ticket)
    if c.alliance_close or c.shop_cleared:
        # SPEC §8: a B-class ticket (or a clearance) closes an active membership at once.
        alliance_close(shop=shop, cause=Cause.CLEARED if c.shop_cleared else Cause.B_TICKET, ticket=ticket,
                       actor=actor, reason=_("Ticket %(number)s.") % {"number": ticket.number}, now=now)


def ticket_revoke(*, ticket: Ticket, actor, reason: str, now: datetime.datetime | None = None) -> Ticket:
    """Reverse the ticket's own effects — points, deposit, delisting, bans,
    suspension, clearance — then re-evaluate the point nodes of its class and
    year against the remaining total (SPEC §6.2): nodes no longer reached are
    lifted, the others stay, whichever ticket crossed them."""
    if not (reason or "").strip():
        raise DomainError(_("Give a reason for the revocation: the merchant reads it."))
    with transaction.atomic():
        ticket, shop = lock_ticket(ticket.pk)
        if ticket.status not in REVOCABLE:
            raise InvalidTransition(
                _("Ticket %(number)s is %(status)s and cannot be revoked.")
                % {"number": ticket.number, "status": ticket.get_status_display()}
            )
        now = now or timezone.now()
        if ticket.points:
            PointEntry.objects.create(shop=shop, ticket=ticket, violation_class=ticket.violation_class,
                                      year=ticket.point_year, points=-ticket.points)
        deposit_refund_ticket(shop=shop, ticket=ticket, actor=actor)
        m.reverse_measures(list(ticket.measures.filter(status=Measure.Status.ACTIVE, node_application=None)),
                           at=now)
        ticket.revoked_at, ticket.revoke_reason = now, reason.strip()
        transition(ticket, Ticket.Status.REVOKED, action=Event.Action.TICKET_REVOKED, at=now, actor=actor,
                   shop=shop, ticket=ticket, reason=ticket.revoke_reason, fields=["revoked_at", "revoke_reason"])
        nodes_reevaluate(shop=shop, violation_class=ticket.violation_class, year=ticket.point_year,
                         revoked=ticket, actor=actor, now=now)
        alliance_ticket_revoked(ticket=ticket, now=now, actor=actor)
        m.refresh_shop_status(shop, now=now, actor=actor, ticket=ticket, reason=ticket.revoke_reason)
    return ticket
