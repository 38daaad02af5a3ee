"""What a ticket would do, computed without writing anything.

The admin's confirmation step shows exactly this, and ``ticket_issue`` applies
exactly this, so the preview cannot drift from what really happens.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError
from compliance.models import Option, PointEntry, PointNode, RuleTier, Ticket, ViolationClass
from shops.models import Product, Shop
from shops.numbers import EARLIEST_DAY

ZERO = Decimal("0.00")


def shanghai(moment: datetime.datetime) -> datetime.datetime:
    """The platform's calendar (SPEC §1: Asia/Shanghai, settings.TIME_ZONE)."""
    return timezone.localtime(moment, timezone.get_default_timezone())


def point_year(moment: datetime.datetime) -> int:
    # SPEC §6.2: points reset at 23:59:59 on 31 December, Shanghai time.
    return shanghai(moment).year


def shanghai_day_start(moment: datetime.datetime) -> datetime.datetime:
    """Midnight that begins ``moment``'s calendar day in Shanghai."""
    return shanghai(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def shanghai_midnight_after(day: datetime.date) -> datetime.datetime:
    """The Shanghai midnight that ends ``day``: when a certificate valid until
    that day expires, and the cut-off of the daily job's run for it."""
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)), timezone.get_default_timezone())
    return shanghai_day_start(noon) + datetime.timedelta(days=1)


def point_totals(shop: Shop, year: int) -> dict[str, int]:
    """A and B points of ``year`` from the ledger, both classes always present."""
    rows = (
        PointEntry.objects.filter(shop=shop, year=year)
        .values("violation_class")
        .annotate(total=Sum("points"))
        .values_list("violation_class", "total")
    )
    return {cls: 0 for cls in ViolationClass.values} | dict(rows)


def nodes_crossed(violation_class: str, before: int, after: int) -> list[PointNode]:
    """Nodes a total reaches or crosses going from ``before`` to ``after``."""
    return list(
        PointNode.objects.filter(
            violation_class=violation_class, is_active=True, threshold__gt=before, threshold__lte=after
        ).order_by("threshold")
    )


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


def strictest(nodes: list[PointNode]) -> PointNode | None:
    """SPEC §6.2: of nodes reached at once only the strictest applies — a
    clearance, else the longest suspension, else the largest deduction."""
    return max(nodes, key=lambda n: (n.clear_shop, n.suspend_days or 0, n.deposit_amount, n.threshold),
               default=None)


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
) -> Consequences:
    """Validate a prospective ticket and compute its consequences (SPEC §6).
    Raises DomainError with a message for the reviewer when it cannot be issued.
    Callers that write hold the shop's row lock while calling this."""
    now = now or timezone.now()
    rule = tier.rule
    if shop.status not in (Shop.Status.OPEN, Shop.Status.SUSPENDED):
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
    ban = tier.ban_products == Option.ALWAYS or (tier.ban_products == Option.OPTIONAL and ban_chosen)
    # A rectification ticket may find nothing left on sale to delist; its
    # points still apply (SPEC §4), so the daily job does not require products.
    if (tier.delist_products or ban) and not products and require_products:
        raise DomainError(_("This tier delists or bans products: choose the affected products."))
    if tier.per_order and not order_count:
        raise DomainError(_("This tier is charged per confirmed order: enter the number of orders."))
    if not tier.per_order and order_count:
        raise DomainError(_("This tier is not charged per order: leave the number of orders empty."))

    year = point_year(now)
    before = point_totals(shop, year)[tier.violation_class]
    after = before + points
    nodes = nodes_crossed(tier.violation_class, before, after) if points else []
    c = Consequences(
        shop=shop, tier=tier, violation_class=tier.violation_class, points=points, year=year,
        total_before=before, total_after=after, nodes=nodes, issued_at=now, products=products,
        order_count=order_count, balance_before=shop.deposit_balance,
        warning=tier.warning, delist=tier.delist_products, ban=ban, freeze_proceeds=tier.freeze_proceeds,
        # SPEC §8: a B-class ticket closes the shop's alliance membership.
        alliance_close=tier.violation_class == "B",
    )

    # The ticket's own measures (SPEC §5).
    c.clear = tier.clear_shop == Option.ALWAYS or (tier.clear_shop == Option.OPTIONAL and clear_chosen)
    if tier.suspend_days and not c.clear:
        c.suspend_days = tier.suspend_days
        c.suspend_ends_at = now + datetime.timedelta(days=tier.suspend_days)
    if c.clear or tier.deposit_all:
        c.deposit_charged = shop.deposit_balance  # all remaining deposit (SPEC §5, §6.5)
    else:
        own = tier.deposit_amount
        if tier.per_order:
            c.deposit_day = shanghai(occurred_at).date()
            charged_today = (
                Ticket.objects.live()
                .filter(shop=shop, rule__code=rule.code, deposit_day=c.deposit_day)
                .aggregate(total=Sum("deposit_amount"))["total"]
                or ZERO
            )
            cap = tier.deposit_daily_cap
            own = tier.deposit_per_order * order_count
            if cap is not None:
                room = max(cap - charged_today, ZERO)
                if own > room:
                    c.notes.append(
                        _("The daily cap of ¥%(cap)s for %(day)s leaves ¥%(room)s to charge.")
                        % {"cap": f"{cap:,.2f}", "day": c.deposit_day.isoformat(), "room": f"{room:,.2f}"}
                    )
                own = min(own, room)
        c.deposit_charged = own
    c.deposit_charged = c.deposit_charged.quantize(Decimal("0.01"))
    # SPEC §6.4: never below zero — take what is there, record the shortfall.
    c.deposit_taken = min(c.deposit_charged, shop.deposit_balance)
    c.shortfall = c.deposit_charged - c.deposit_taken

    # SPEC §6.2: the strictest node reached applies in addition to the ticket's
    # own measures; its deduction is taken from what the ticket leaves.
    c.node = strictest(nodes)
    if c.node:
        left = shop.deposit_balance - c.deposit_taken
        c.node_clear = c.node.clear_shop
        c.node_deposit_charged = left if c.node_clear else c.node.deposit_amount
        if c.node.suspend_days and not c.node_clear:
            c.node_suspend_ends_at = now + datetime.timedelta(days=c.node.suspend_days)
        c.node_deposit_taken = min(c.node_deposit_charged, left)
        c.node_shortfall = c.node_deposit_charged - c.node_deposit_taken
    return c


def appeal_deadline(issued_at: datetime.datetime, window_days: int) -> datetime.datetime:
    """SPEC §7: whole Shanghai calendar days — a ticket issued at any time on
    1 May with a 7-day window may be appealed until 23:59:59 on 8 May."""
    last_day = shanghai_day_start(issued_at) + datetime.timedelta(days=window_days + 1)
    return shanghai(last_day - datetime.timedelta(microseconds=1))


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """``days`` working days (Monday–Friday, Shanghai calendar) after ``start``,
    at the same time of day. Public holidays are not modelled."""
    moment = shanghai(start)
    while days > 0:
        moment += datetime.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment
