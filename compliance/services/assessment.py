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
from django.utils.translation import ngettext

from compliance.exceptions import DomainError
from compliance.models import Option, PointEntry, PointNode, RuleTier, Ticket, ViolationClass
from shops.models import Product, Shop

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


def describe_measures(*, clear=False, suspend_days=None, deposit=None, deposit_all=False) -> str:
    parts = []
    if clear:
        parts.append(_("clear the shop"))
    if suspend_days and not clear:
        parts.append(ngettext("suspension %(n)d day", "suspension %(n)d days", suspend_days) % {"n": suspend_days})
    if deposit_all or clear:
        parts.append(_("all remaining deposit"))
    elif deposit:
        parts.append(_("deposit ¥%(amount)s") % {"amount": f"{deposit:,.2f}"})
    return _(", ").join(parts) or _("no further measure")


@dataclass
class Consequences:
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
    deposit_charged: Decimal = ZERO
    deposit_source: PointNode | None = None
    balance_before: Decimal = ZERO
    deposit_taken: Decimal = ZERO
    shortfall: Decimal = ZERO
    warning: bool = False
    delist: bool = False
    ban: bool = False
    freeze_proceeds: bool = False
    alliance_close: bool = False
    clear: bool = False
    clear_source: PointNode | None = None
    suspend_days: int | None = None
    suspend_source: PointNode | None = None
    suspend_ends_at: datetime.datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def balance_after(self) -> Decimal:
        return self.balance_before - self.deposit_taken

    @property
    def suspension_extends(self) -> bool:
        current = self.shop.suspended_until if self.shop.status == Shop.Status.SUSPENDED else None
        return bool(self.suspend_ends_at) and (current is None or self.suspend_ends_at > current)


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
    products = list(products)
    if any(p.shop_id != shop.pk for p in products):
        raise DomainError(_("Every affected product must belong to the ticket's shop."))
    ban = tier.ban_products == Option.ALWAYS or (tier.ban_products == Option.OPTIONAL and ban_chosen)
    if (tier.delist_products or ban) and not products:
        raise DomainError(_("This tier delists or bans products: choose the affected products."))
    if tier.per_order and not order_count:
        raise DomainError(_("This tier is charged per confirmed order: enter the number of orders."))
    if not tier.per_order and order_count:
        raise DomainError(_("This tier is not charged per order: leave the number of orders empty."))

    year = point_year(now)
    before = point_totals(shop, year)[tier.violation_class]
    after = before + points
    nodes = nodes_crossed(tier.violation_class, before, after)
    c = Consequences(
        shop=shop, tier=tier, violation_class=tier.violation_class, points=points, year=year,
        total_before=before, total_after=after, nodes=nodes, issued_at=now, products=products,
        order_count=order_count, balance_before=shop.deposit_balance,
        warning=tier.warning, delist=tier.delist_products, ban=ban, freeze_proceeds=tier.freeze_proceeds,
        # SPEC §8: a B-class ticket closes the shop's alliance membership.
        alliance_close=tier.violation_class == "B",
    )

    # SPEC §6.2 strictest wins: one clearance, the longest suspension, the
    # largest deduction — whether it comes from the ticket or a node.
    clear_nodes = [n for n in nodes if n.clear_shop]
    tier_clears = tier.clear_shop == Option.ALWAYS or (tier.clear_shop == Option.OPTIONAL and clear_chosen)
    c.clear = tier_clears or bool(clear_nodes)
    if c.clear:
        c.clear_source = None if tier_clears else clear_nodes[0]
    else:
        candidates = [(tier.suspend_days or 0, None)] + [(n.suspend_days or 0, n) for n in nodes]
        days, source = max(candidates, key=lambda pair: pair[0])
        if days:
            c.suspend_days, c.suspend_source = days, source
            c.suspend_ends_at = now + datetime.timedelta(days=days)

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
        for node in nodes:
            if node.deposit_amount > c.deposit_charged:
                c.deposit_charged, c.deposit_source = node.deposit_amount, node
    c.deposit_charged = c.deposit_charged.quantize(Decimal("0.01"))
    # SPEC §6.4: never below zero — take what is there, record the shortfall.
    c.deposit_taken = min(c.deposit_charged, shop.deposit_balance)
    c.shortfall = c.deposit_charged - c.deposit_taken
    return c
