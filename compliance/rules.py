"""SPEC §5 and §6.2 written once, as pure functions over figures: what a
ticket of a tier does by itself, which point nodes a total reaches, the
strictest of them, and what a node does. No database: issuing
(selectors.assessment.assess), node re-evaluation (services.nodes) and the
policy preview's replay (selectors.insight) all call these, so none of them
can disagree with another (STYLE §22).

A tier or a node is anything with their figures as attributes: a saved
``RuleTier``/``PointNode``, or the changed, unsaved figures of a preview."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from compliance.calendar import shanghai

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Option values of a tier's ban and clear measures (models.Option).
ALWAYS, OPTIONAL = "always", "optional"


@dataclass(frozen=True)
class TicketEffect:
    """What a ticket does by itself (SPEC §5): its measures and its charge."""

    warning: bool
    delist: bool
    ban: bool
    freeze_proceeds: bool
    alliance_close: bool
    clear: bool
    suspend_ends_at: datetime.datetime | None
    # SPEC §5, §6.5: a clearance, or a tier that says so, takes all remaining deposit.
    deposit_all: bool
    deposit: Decimal  # charged otherwise: the tier's amount, or per confirmed order under the day's cap
    deposit_day: datetime.date | None = None  # the Shanghai day a per-order charge counts against
    cap_room: Decimal | None = None  # what the day's cap left, when it cut the charge

    def charged(self, balance: Decimal) -> Decimal:
        return balance if self.deposit_all else self.deposit


def charge_day(tier, occurred_at: datetime.datetime) -> datetime.date | None:
    """SPEC §5: the Shanghai day a per-order charge counts against (the
    day's cap) — the day the violation occurred; None for a tier that does
    not charge per order."""
    return shanghai(occurred_at).date() if tier.deposit_per_order is not None else None


def ticket_effect(tier, *, issued_at: datetime.datetime, occurred_at: datetime.datetime | None = None,
                  order_count: int | None = None, charged_today: Decimal = ZERO, ban_chosen: bool = False,
                  clear_chosen: bool = False, occurred_day: datetime.date | None = None) -> TicketEffect:
    """SPEC §5: the tier's own measures; ``charged_today`` is what the shop's
    tickets of the same rule already charged on the ticket's Shanghai day —
    the day of ``occurred_at``, or ``occurred_day`` when the caller has it
    (the replay reads it from the database, a million times cheaper to
    load than the moment)."""
    clear = tier.clear_shop == ALWAYS or (tier.clear_shop == OPTIONAL and clear_chosen)
    deposit, day, room = tier.deposit_amount, None, None
    if tier.deposit_per_order is not None and not (clear or tier.deposit_all):
        day = occurred_day if occurred_day is not None else charge_day(tier, occurred_at)
        deposit = tier.deposit_per_order * (order_count or 0)
        if tier.deposit_daily_cap is not None:
            left = max(tier.deposit_daily_cap - charged_today, ZERO)
            if deposit > left:
                room = left
            deposit = min(deposit, left)
    return TicketEffect(
        warning=tier.warning, delist=tier.delist_products,
        ban=tier.ban_products == ALWAYS or (tier.ban_products == OPTIONAL and ban_chosen),
        freeze_proceeds=tier.freeze_proceeds,
        # SPEC §8: a B-class ticket closes the shop's alliance membership; a clearance for good.
        alliance_close=tier.violation_class == "B" or clear, clear=clear,
        suspend_ends_at=issued_at + datetime.timedelta(days=tier.suspend_days) if tier.suspend_days and not clear
        else None,
        deposit_all=clear or tier.deposit_all, deposit=Decimal(deposit).quantize(CENT), deposit_day=day,
        cap_room=room)


def nodes_reached(nodes, violation_class: str, before: int, after: int) -> list:
    """SPEC §6.2: the active nodes of the class a total reaches or crosses
    going from ``before`` to ``after``, lowest first."""
    if after <= before:
        return []  # no point added: nothing is reached
    reached = [n for n in nodes if before < n.threshold <= after and n.violation_class == violation_class
               and n.is_active]
    if len(reached) > 1:  # most totals reach none (the replay asks a million times)
        reached.sort(key=lambda n: n.threshold)
    return reached


def strictest(nodes):
    """SPEC §6.2: of nodes reached at once only the strictest applies — a
    clearance, else the longest suspension, else the largest deduction."""
    if not nodes:
        return None
    return max(nodes, key=lambda n: (n.clear_shop, n.suspend_days or 0, n.deposit_amount, n.threshold))


@dataclass(frozen=True)
class NodeEffect:
    """What a point node does on top of the ticket that reached it."""

    node: object
    clear: bool
    deposit_all: bool  # a clearance takes all that is left
    deposit: Decimal
    suspend_ends_at: datetime.datetime | None
    # The ticket clears the shop itself: the node's clearance is that one (SPEC §6.2: one clearance).
    covered: bool = False

    def charged(self, balance_left: Decimal) -> Decimal:
        return ZERO if self.covered else balance_left if self.deposit_all else self.deposit


def node_effect(node, *, reached_at: datetime.datetime, ticket_clears: bool = False) -> NodeEffect:
    """A node's measures, its suspension counted from when the total reached
    it (a node that takes over from a lifted stricter one starts no fresh
    suspension)."""
    clear = bool(node.clear_shop)
    return NodeEffect(
        node=node, clear=clear, deposit_all=clear, deposit=ZERO if clear else node.deposit_amount,
        suspend_ends_at=reached_at + datetime.timedelta(days=node.suspend_days) if node.suspend_days and not clear
        else None,
        covered=clear and ticket_clears)


def alliance_closed_for_good(counted_closures: int, limit: int) -> bool:
    """SPEC §8: a membership closed for violations more often than the policy
    allows (``counted_closures`` includes the closure being made) is closed
    for good."""
    return counted_closures > limit
