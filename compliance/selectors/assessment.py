"""What a ticket would do (SPEC §5, §6): the shop's figures read from the
database — its points this year, the active point nodes, what its tickets
of the rule already charged today — fed to the SPEC's pure functions
(compliance.rules). ``ticket_issue`` writes exactly this; the preview is the
issue rolled back (services.preview)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import rules
from compliance.calendar import point_year, shanghai
from compliance.exceptions import DomainError
from compliance.models import PointEntry, PointNode, RuleTier, Ticket
from shops.models import Product, Shop
from shops.numbers import EARLIEST_DAY


ZERO = rules.ZERO


@dataclass
class Consequences:
    """What a ticket would do: its own measures (SPEC §5) and, in addition,
    the measures of the strictest point node it reaches (SPEC §6.2)."""

    shop: Shop
    tier: RuleTier
    violation_class: str
    points: int
    year: int
    total_before: int
    total_after: int
    nodes: list[PointNode]
    issued_at: datetime.datetime
    products: list[Product]
    order_count: int | None = None
    deposit_day: datetime.date | None = None
    balance_before: Decimal = ZERO
    # The ticket's own.
    deposit_charged: Decimal = ZERO
    deposit_taken: Decimal = ZERO
    shortfall: Decimal = ZERO
    warning: bool = False
    delist: bool = False
    ban: bool = False
    freeze_proceeds: bool = False
    alliance_close: bool = False
    clear: bool = False
    suspend_days: int | None = None
    suspend_ends_at: datetime.datetime | None = None
    # The strictest node reached, on top of the ticket's own.
    node: PointNode | None = None
    node_deposit_charged: Decimal = ZERO
    node_deposit_taken: Decimal = ZERO
    node_shortfall: Decimal = ZERO
    node_clear: bool = False
    node_suspend_ends_at: datetime.datetime | None = None
    node_effect: rules.NodeEffect | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def subsumed(self) -> list[PointNode]:
        """Nodes reached at the same time as a stricter one (SPEC §6.2)."""
        return [n for n in self.nodes if n != self.node]

    @property
    def total_charged(self) -> Decimal:
        return self.deposit_charged + self.node_deposit_charged

    @property
    def total_taken(self) -> Decimal:
        return self.deposit_taken + self.node_deposit_taken

    @property
    def total_shortfall(self) -> Decimal:
        return self.shortfall + self.node_shortfall

    @property
    def balance_after(self) -> Decimal:
        return self.balance_before - self.total_taken

    @property
    def shop_cleared(self) -> bool:
        return self.clear or self.node_clear

    @property
    def suspended_until(self) -> datetime.datetime | None:
        ends = [t for t in (self.suspend_ends_at, self.node_suspend_ends_at) if t]
        return None if self.shop_cleared or not ends else max(ends)

    @property
    def suspension_extends(self) -> bool:
        current = self.shop.suspended_until if self.shop.status == Shop.Status.SUSPENDED else None
        until = self.suspended_until
        return bool(until) and (current is None or until > current)


@dataclass(frozen=True)
class IssuingFigures:
    """What issuing a ticket reads under the shop's lock (SPEC §5, §6.2)."""

    total_before: int  # the tier's class, this year
    reaches_node: bool  # whether an active node lies in (total, total + points]
    charged_today: Decimal = ZERO  # by the rule's live tickets that day (a per-order tier only)
    existing_ticket_id: int | None = None  # the ticket a form's key already issued


# The one statement ``issuing_figures`` runs. Written out: built with the
# ORM's nested subqueries it took longer to assemble in Python than to run —
# a quarter of a ticket's CPU (bench/RESULTS.md, issuance). Portable SQL
# (PostgreSQL and SQLite), parameters only; tests/compliance/services/
# test_tickets.py checks it against the ORM's reading of the same figures.
FIGURES_SQL = """
WITH points AS (
    SELECT COALESCE(SUM(points), 0) AS total FROM {points}
    WHERE shop_id = %s AND year = %s AND violation_class = %s
)
SELECT points.total,
       EXISTS (SELECT 1 FROM {nodes} WHERE is_active = %s AND violation_class = %s
               AND threshold > points.total AND threshold <= points.total + %s),
       (SELECT id FROM {tickets} WHERE idempotency_key = %s)
FROM points
""".format(points=PointEntry._meta.db_table, nodes=PointNode._meta.db_table, tickets=Ticket._meta.db_table)


def issuing_figures(*, shop: Shop, tier: RuleTier, points: int, year: int,
                    occurred_at: datetime.datetime | None = None,
                    idempotency_key: str | None = None) -> IssuingFigures:
    """What ``assess`` reads, for every ticket: the class total, whether a
    node is reached (the nodes themselves are read only then) and the ticket
    a form's key already issued, in one statement (``FIGURES_SQL``); what the
    day's cap already took on the day of ``occurred_at``, for a per-order
    tier (rules.charge_day). Read after the shop's lock
    is taken — not in the locking statement, whose snapshot predates the lock
    wait and would miss the ticket that held it."""
    cls = tier.violation_class
    with connection.cursor() as cursor:
        cursor.execute(FIGURES_SQL, [shop.pk, year, cls, True, cls, points, idempotency_key])
        total, reaches_node, existing = cursor.fetchone()
    day = rules.charge_day(tier, occurred_at) if occurred_at is not None else None
    charged = charged_today(shop, tier.rule.code, day) if day is not None else ZERO
    return IssuingFigures(total_before=total, reaches_node=bool(reaches_node), charged_today=charged,
                          existing_ticket_id=existing)


def charged_today(shop: Shop, rule_code: str, day: datetime.date) -> Decimal:
    """What the shop's live tickets of the rule charged on a Shanghai day
    (SPEC §5: the fake-shipment cap is per shop and day)."""
    return (Ticket.objects.live().filter(shop=shop, rule__code=rule_code, deposit_day=day)
            .aggregate(total=Sum("deposit_amount"))["total"] or ZERO)


def assess(
    *,
    shop: Shop,
    tier: RuleTier,
    points: int,
    products=(),
    order_count: int | None = None,
    occurred_at: datetime.datetime,
    ban_chosen: bool = False,
    clear_chosen: bool = False,
    require_products: bool = True,
    now: datetime.datetime | None = None,
    figures: IssuingFigures | None = None,
) -> Consequences:
    """Validate a prospective ticket and compute its consequences (SPEC §6).
    Raises DomainError with a message for the reviewer when it cannot be issued.
    Callers that write hold the shop's row lock while calling this; ``figures``
    are the shop's as read under it (``issuing_figures``), read here if not given."""
    now = now or timezone.now()
    rule = tier.rule
    if not shop.is_trading:
        raise DomainError(
            _("Shop %(shop)s is %(status)s: no new ticket can be issued.")
            % {"shop": shop.shop_no, "status": shop.get_status_display()}
        )
    today = shanghai(now).date()
    if not (rule.effective_from <= today and (rule.effective_to is None or rule.effective_to >= today)):
        raise DomainError(_("Version %(v)d of this rule is not in effect today.") % {"v": rule.version})
    if not tier.points_min <= points <= tier.points_max:
        raise DomainError(
            _("This tier takes %(min)d to %(max)d points; %(points)d is outside that range.")
            % {"min": tier.points_min, "max": tier.points_max, "points": points}
        )
    if occurred_at > now:
        raise DomainError(_("A violation cannot have occurred in the future."))
    if shanghai(occurred_at).date() < EARLIEST_DAY:
        raise DomainError(_("A violation cannot have occurred before %(day)s.") % {"day": EARLIEST_DAY.isoformat()})
    products = list(products)
    if any(p.shop_id != shop.pk for p in products):
        raise DomainError(_("Every affected product must belong to the ticket's shop."))
    per_order = tier.deposit_per_order is not None
    year = point_year(now)
    if figures is None:
        figures = issuing_figures(shop=shop, tier=tier, points=points, year=year,
                                  occurred_at=occurred_at)
    own = rules.ticket_effect(tier, issued_at=now, occurred_at=occurred_at, order_count=order_count,
                              charged_today=figures.charged_today, ban_chosen=ban_chosen, clear_chosen=clear_chosen)
    # A rectification ticket may find nothing left on sale to delist; its
    # points still apply (SPEC §4), so the daily job does not require products.
    if (own.delist or own.ban) and not products and require_products:
        raise DomainError(_("This tier delists or bans products: choose the affected products."))
    if per_order and not order_count:
        raise DomainError(_("This tier is charged per confirmed order: enter the number of orders."))
    if not per_order and order_count:
        raise DomainError(_("This tier is not charged per order: leave the number of orders empty."))

    before = figures.total_before
    after = before + points
    reached = rules.nodes_reached(list(PointNode.objects.filter(violation_class=tier.violation_class,
                                                                 is_active=True, threshold__gt=before,
                                                                 threshold__lte=after)),
                                  tier.violation_class, before, after) if figures.reaches_node else []
    c = Consequences(
        shop=shop, tier=tier, violation_class=tier.violation_class, points=points, year=year,
        total_before=before, total_after=after, nodes=reached, issued_at=now, products=products,
        order_count=order_count, balance_before=shop.deposit_balance, deposit_day=own.deposit_day,
        warning=own.warning, delist=own.delist, ban=own.ban, freeze_proceeds=own.freeze_proceeds,
        alliance_close=own.alliance_close, clear=own.clear, suspend_ends_at=own.suspend_ends_at,
        suspend_days=tier.suspend_days if own.suspend_ends_at else None)
    if own.cap_room is not None:
        c.notes.append(_("The daily cap of ¥%(cap)s for %(day)s leaves ¥%(room)s to charge.") % {
            "cap": f"{tier.deposit_daily_cap:,.2f}", "day": own.deposit_day.isoformat(),
            "room": f"{own.cap_room:,.2f}"})
    # SPEC §6.4: never below zero — take what is there, record the shortfall.
    c.deposit_charged = own.charged(shop.deposit_balance)
    c.deposit_taken = min(c.deposit_charged, shop.deposit_balance)
    c.shortfall = c.deposit_charged - c.deposit_taken

    # SPEC §6.2: the strictest node reached applies in addition to the ticket's
    # own measures; its deduction is taken from what the ticket leaves.
    c.node = rules.strictest(reached)
    if c.node:
        effect = rules.node_effect(c.node, reached_at=now, ticket_clears=own.clear)
        left = shop.deposit_balance - c.deposit_taken
        c.node_effect = effect
        c.node_clear = effect.clear
        c.node_deposit_charged = effect.charged(left)
        c.node_suspend_ends_at = effect.suspend_ends_at
        c.node_deposit_taken = min(c.node_deposit_charged, left)
        c.node_shortfall = c.node_deposit_charged - c.node_deposit_taken
    return c
