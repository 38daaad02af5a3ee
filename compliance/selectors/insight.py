"""Policy insight (issue #14): what a change to a point node, a rule's tiers
or a policy figure would have done to this year's live tickets — before it
is saved — and how good the decisions have been.

The preview replays the year's live tickets of the shops the change can
touch, in the order they were issued, twice in one pass: under the data as
it stands and under the changed data, exactly as ``assess`` and
``nodes_apply`` would treat each ticket (SPEC §6.2: a node applies when a
ticket makes the total reach it; of nodes reached at once only the
strictest takes its measures; a clearance ends the shop's tickets). It reads
and never writes: nothing is saved until the admin saves the change.
"""

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, DateField, Q, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import rules
from compliance.calendar import point_year
from compliance.models import (
    AllianceMembership, Appeal, Option, PointEntry, PointNode, PolicySettings, Qualification, Rule, RuleTier, Ticket,
    ViolationWarning,
)
from compliance.wording import person
from shops.models import Shop
from shops.numbers import EARLIEST_DAY, whole_number_or_none

ZERO = Decimal("0")
SAMPLE = 20


@dataclass(frozen=True)
class Node:
    """A point node's figures, saved or not."""

    violation_class: str
    threshold: int
    suspend_days: int | None
    deposit_amount: Decimal
    clear_shop: bool
    is_active: bool = True
    pk: int | None = None

    @classmethod
    def of(cls, node: PointNode) -> "Node":
        return cls(node.violation_class, node.threshold, node.suspend_days, node.deposit_amount, node.clear_shop,
                   node.is_active, node.pk)

    @property
    def label(self) -> str:
        return f"{self.violation_class}{self.threshold}"

    @property
    def key(self):
        """The same node before and after a change of its figures."""
        return self.pk or self.label


@dataclass(frozen=True)
class Tier:
    """What a tier does to a ticket, saved or not."""

    violation_class: str
    points_default: int
    points_min: int
    points_max: int
    deposit_amount: Decimal
    deposit_all: bool
    deposit_per_order: Decimal | None
    deposit_daily_cap: Decimal | None
    suspend_days: int | None
    clear_shop: str
    warning: bool = False
    delist_products: bool = False
    ban_products: str = "never"
    freeze_proceeds: bool = False

    @classmethod
    def of(cls, tier: RuleTier) -> "Tier":
        return cls(tier.violation_class, tier.points_default, tier.points_min, tier.points_max, tier.deposit_amount,
                   tier.deposit_all, tier.deposit_per_order, tier.deposit_daily_cap, tier.suspend_days,
                   tier.clear_shop, tier.warning, tier.delist_products, tier.ban_products, tier.freeze_proceeds)


@dataclass
class Outcome:
    """One shop's year under one set of data."""

    totals: dict = field(default_factory=lambda: defaultdict(int))
    reached: set = field(default_factory=set)  # keys of the nodes the total reaches
    node_deposit: Decimal = ZERO  # charged by the nodes whose measures were taken
    ticket_deposit: Decimal = ZERO  # charged by the tickets themselves (all-deposit tickets aside)
    suspended_until: datetime.datetime | None = None
    cleared: bool = False

    def suspend(self, until: datetime.datetime) -> None:
        self.suspended_until = max(filter(None, [self.suspended_until, until]))

    @property
    def deposit(self) -> Decimal:
        return self.node_deposit + self.ticket_deposit


class Replay:
    """Tickets in issue order, one shop after another, under one set of data,
    with the SPEC's own functions (compliance.rules) — those ``assess`` issues
    with. Deposits are counted as charged: balances are not replayed."""

    def __init__(self, nodes: list[Node], tiers: dict[int, Tier], overridden: set[int]):
        self.nodes = defaultdict(list)  # per class, so that a ticket looks at its class's nodes only
        for node in nodes:
            if node.is_active:
                self.nodes[node.violation_class].append(node)
        self.tiers = tiers  # tier id -> figures for the overridden tiers
        self.overridden = overridden
        self.charged_per_day: dict = defaultdict(lambda: ZERO)
        self.outcomes: dict[int, Outcome] = defaultdict(Outcome)

    def ticket(self, row: "TicketRow") -> None:
        outcome = self.outcomes[row.shop_id]
        if outcome.cleared:
            return  # SPEC §6.5: a cleared shop gets no further ticket
        if row.tier_id in self.overridden:
            tier = self.tiers[row.tier_id]
            cls, points = tier.violation_class, _points_under(row, tier)
            day = (row.shop_id, row.rule_code, row.occurred_day)
            own = rules.ticket_effect(tier, issued_at=row.issued_at, occurred_day=row.occurred_day,
                                      order_count=row.order_count, charged_today=self.charged_per_day[day],
                                      clear_chosen=row.clear_chosen)
            if own.deposit_day is not None:
                self.charged_per_day[day] += own.deposit
            deposit_all, deposit, clear, suspend_ends_at = own.deposit_all, own.deposit, own.clear, own.suspend_ends_at
        else:  # as the ticket was issued
            cls, points, deposit, deposit_all, clear = (row.violation_class, row.points, row.deposit,
                                                        row.all_deposit, row.cleared)
            suspend_ends_at = row.issued_at + datetime.timedelta(days=row.suspend_days) if row.suspend_days else None
        if not deposit_all:
            outcome.ticket_deposit += deposit
        if clear:
            outcome.cleared = True
        elif suspend_ends_at:
            outcome.suspend(suspend_ends_at)
        before = outcome.totals[cls]
        after = outcome.totals[cls] = before + points
        crossed = rules.nodes_reached(self.nodes[cls], cls, before, after)
        if not crossed:
            return
        outcome.reached |= {n.key for n in crossed}
        node = rules.strictest(crossed)
        effect = rules.node_effect(node, reached_at=row.issued_at, ticket_clears=clear)
        if effect.clear:
            outcome.cleared = True
            return
        outcome.node_deposit += effect.deposit
        if effect.suspend_ends_at:
            outcome.suspend(effect.suspend_ends_at)


def _points_under(row, tier: Tier) -> int:
    """A ticket given the old default gets the new default; one given other
    points keeps them, inside the new range."""
    if row.points == row.tier_points_default:
        return tier.points_default
    return min(max(row.points, tier.points_min), tier.points_max)


@dataclass(slots=True)
class TicketRow:
    shop_id: int
    tier_id: int
    rule_code: str
    violation_class: str
    points: int
    deposit: Decimal
    order_count: int | None
    occurred_day: datetime.date  # the Shanghai day it occurred: a per-order charge's day
    issued_at: datetime.datetime
    suspend_days: int | None
    cleared: bool
    clear_chosen: bool
    all_deposit: bool
    tier_points_default: int


def _rows(year: int, shop_ids=None, *, tier_ids=None, with_day: bool = True):
    """The year's live tickets in issue order, with what each did. What a
    ticket's tier did is read from the tier it was issued under (a saved
    change to a rule is a new version with new tiers, so the tier row is the
    ticket's snapshot) — not from each ticket's JSON snapshot, which at a
    million tickets cost more than the rest of the replay. The Shanghai day
    a ticket occurred only ``with_day`` (a changed tier charges per order):
    nothing else reads it."""
    tickets = Ticket.objects.live().filter(point_year=year)
    if shop_ids is not None:
        tickets = tickets.filter(shop_id__in=shop_ids)
    if tier_ids is not None:
        tickets = tickets.filter(shop_id__in=Ticket.objects.live().filter(point_year=year, tier_id__in=tier_ids)
                                 .values("shop_id"))
    tiers = {t.pk: t for t in RuleTier.objects.select_related("rule")}
    optional = [pk for pk, t in tiers.items() if t.clear_shop == Option.OPTIONAL]
    # The reviewer's choice to clear, on the few tickets of tiers where it is one.
    chosen = set(tickets.filter(tier_id__in=optional, rule_snapshot__clear_chosen=True).values_list("id", flat=True))
    columns = ("id", "shop_id", "tier_id", "violation_class", "points", "deposit_amount", "order_count",
               "occurred_day", "issued_at")
    tickets = tickets.annotate(occurred_day=TruncDate("occurred_at", tzinfo=timezone.get_default_timezone())
                               if with_day else Value(None, output_field=DateField()))
    for pk, shop_id, tier_id, cls, points, deposit, orders, occurred_day, issued_at in (
            tickets.order_by("shop_id", "issued_at", "id").values_list(*columns).iterator(chunk_size=5000)):
        tier = tiers[tier_id]
        clear_chosen = pk in chosen
        cleared = tier.clear_shop == Option.ALWAYS or (tier.clear_shop == Option.OPTIONAL and clear_chosen)
        yield TicketRow(shop_id, tier_id, tier.rule.code, cls, points, deposit, orders, occurred_day, issued_at,
                        None if cleared else tier.suspend_days, cleared, clear_chosen, tier.deposit_all or cleared,
                        tier.points_default)


@dataclass
class NodeCount:
    label: str  # "A12", or "A12 → A9" for a node whose threshold changes
    violation_class: str
    threshold: int
    reach: int = 0  # shops that would newly reach it
    leave: int = 0  # shops that would no longer reach it


@dataclass
class ShopChange:
    shop_id: int
    shop_no: str = ""
    name: str = ""
    reached: list = field(default_factory=list)
    left: list = field(default_factory=list)
    deposit: Decimal = ZERO
    suspension: str = ""  # "starts", "stops" or ""
    clearance: str = ""


@dataclass
class Preview:
    """The effect of a change on this year's live tickets."""

    year: int
    shops_replayed: int
    tickets_replayed: int
    seconds: float
    nodes: list = field(default_factory=list)  # NodeCount per node of either set, by class and threshold
    suspensions_start: int = 0
    suspensions_stop: int = 0
    clearances_start: int = 0
    clearances_stop: int = 0
    deposit_more: Decimal = ZERO  # charged in addition
    deposit_less: Decimal = ZERO  # no longer charged (refunded)
    shops_changed: int = 0
    sample: list = field(default_factory=list)
    outcomes_before: dict = field(default_factory=dict)
    outcomes_after: dict = field(default_factory=dict)
    labels_before: dict = field(default_factory=dict)  # node key -> label
    labels_after: dict = field(default_factory=dict)

    @property
    def deposit_net(self) -> Decimal:
        return self.deposit_more - self.deposit_less

    @property
    def by_class(self) -> list[tuple[str, list]]:
        classes = sorted({n.violation_class for n in self.nodes})
        return [(c, [n for n in self.nodes if n.violation_class == c]) for c in classes]


def preview(*, nodes_after: list[Node] | None = None, tiers_after: dict[int, Tier] | None = None,
            shop_ids=None, now: datetime.datetime | None = None, progress=None) -> Preview:
    """Replay this year's live tickets under the saved data and under the
    changed data (``nodes_after`` in place of the saved nodes; the tiers of
    ``tiers_after`` in place of those tiers) and count what differs.
    ``progress(done, total)``, if given, hears of each shop replayed (a job's
    progress bar)."""
    started = time.perf_counter()
    now = now or timezone.now()
    year = point_year(now)
    nodes_before = [Node.of(n) for n in PointNode.objects.all()]
    nodes_after = nodes_before if nodes_after is None else nodes_after
    tiers_after = tiers_after or {}
    tier_ids = None
    if shop_ids is None:
        shop_ids, tier_ids = _shops_concerned(year, nodes_before, nodes_after, tiers_after)
    before = Replay(nodes_before, {}, set())
    after = Replay(nodes_after, tiers_after, set(tiers_after))
    tickets = 0
    per_order = any(tier.deposit_per_order is not None for tier in tiers_after.values())
    total = done = 0
    last_shop = None
    if progress is not None:
        total = len(shop_ids) if shop_ids is not None else (
            Ticket.objects.live().filter(point_year=year, tier_id__in=tier_ids).values("shop_id").distinct().count())
        progress(0, total)
    for row in _rows(year, shop_ids, tier_ids=tier_ids, with_day=per_order):
        before.ticket(row)
        after.ticket(row)
        tickets += 1
        if progress is not None and row.shop_id != last_shop:
            done, last_shop = done + 1, row.shop_id
            progress(done, total)
    result = Preview(year=year, shops_replayed=len(after.outcomes), tickets_replayed=tickets, seconds=0,
                     outcomes_before=dict(before.outcomes), outcomes_after=dict(after.outcomes),
                     labels_before={n.key: n.label for n in nodes_before},
                     labels_after={n.key: n.label for n in nodes_after})
    counts = {}
    active = {n.key for n in [*nodes_before, *nodes_after] if n.is_active}
    for n in sorted({*nodes_before, *nodes_after}, key=lambda n: (n.violation_class, n.threshold)):
        if n.key in counts or n.key not in active:
            continue
        old, new = result.labels_before.get(n.key), result.labels_after.get(n.key)
        label = f"{old} → {new}" if old and new and old != new else (new or old)
        counts[n.key] = NodeCount(label, n.violation_class, n.threshold)
    changes = []
    for shop_id, new in after.outcomes.items():
        old = before.outcomes[shop_id]
        change = ShopChange(shop_id=shop_id, reached=sorted(new.reached - old.reached, key=str),
                            left=sorted(old.reached - new.reached, key=str), deposit=new.deposit - old.deposit)
        for key in change.reached:
            counts[key].reach += 1
        for key in change.left:
            counts[key].leave += 1
        change.reached = [counts[k].label for k in change.reached]
        change.left = [counts[k].label for k in change.left]
        in_force_before = bool(old.suspended_until and old.suspended_until > now and not old.cleared)
        in_force_after = bool(new.suspended_until and new.suspended_until > now and not new.cleared)
        if in_force_after != in_force_before:
            change.suspension = "starts" if in_force_after else "stops"
        if new.cleared != old.cleared:
            change.clearance = "starts" if new.cleared else "stops"
        if change.deposit > 0:
            result.deposit_more += change.deposit
        else:
            result.deposit_less -= change.deposit
        result.suspensions_start += change.suspension == "starts"
        result.suspensions_stop += change.suspension == "stops"
        result.clearances_start += change.clearance == "starts"
        result.clearances_stop += change.clearance == "stops"
        if change.reached or change.left or change.deposit or change.suspension or change.clearance:
            changes.append(change)
    result.nodes = list(counts.values())
    result.shops_changed = len(changes)
    # The sample: the largest deposit movements first, then clearances and suspensions.
    changes.sort(key=lambda c: (bool(c.clearance), bool(c.suspension), abs(c.deposit), c.shop_id), reverse=True)
    result.sample = changes[:SAMPLE]
    names = dict((pk, (no, name)) for pk, no, name in Shop.objects.filter(
        pk__in=[c.shop_id for c in result.sample]).values_list("pk", "shop_no", "name"))
    for change in result.sample:
        change.shop_no, change.name = names.get(change.shop_id, ("", ""))
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def _shops_concerned(year, nodes_before, nodes_after, tiers_after):
    """Only shops the change can touch are replayed: for changed nodes, those
    whose total of the class reaches the lowest changed threshold; for
    changed tiers, those with a ticket of the tier this year."""
    changed = set(nodes_before) ^ set(nodes_after)
    shop_ids = set()
    if changed:
        lowest: dict[str, int] = {}
        for node in changed:
            lowest[node.violation_class] = min(lowest.get(node.violation_class, node.threshold), node.threshold)
        for cls, threshold in lowest.items():
            shop_ids |= set(PointEntry.objects.filter(year=year, violation_class=cls).values("shop_id")
                            .annotate(total=Sum("points")).filter(total__gte=threshold).values_list("shop_id",
                                                                                                    flat=True))
    if tiers_after:
        if not changed:
            return None, list(tiers_after)
        shop_ids |= set(Ticket.objects.live().filter(point_year=year, tier_id__in=list(tiers_after))
                        .values_list("shop_id", flat=True).distinct())
    return sorted(shop_ids), None


def node_change_preview(node: PointNode, *, now=None, progress=None) -> Preview:
    """The saved nodes with ``node`` (changed, unsaved, or new) in its place."""
    saved = [Node.of(n) for n in PointNode.objects.all()]
    changed = Node.of(node)
    after = [n for n in saved if n.pk != node.pk or node.pk is None] + [changed]
    return preview(nodes_after=after, now=now, progress=progress)


def tier_change_preview(rule_code: str, changed: list[RuleTier], *, now=None, progress=None) -> Preview:
    """This year's tickets of the changed tiers — of any version of the rule,
    matched by tier code — as if issued under the changed figures. ``changed``
    are the edited tiers, unsaved; those whose figures did not change, and
    new tiers (no ticket has them yet), change nothing."""
    saved = {t.pk: Tier.of(t) for t in RuleTier.objects.filter(pk__in=[t.pk for t in changed if t.pk])}
    figures = {t.code: Tier.of(t) for t in changed if t.pk in saved and saved[t.pk] != Tier.of(t)}
    ids = {pk: figures[code] for pk, code in RuleTier.objects.filter(rule__code=rule_code, code__in=figures)
           .values_list("pk", "code")}
    return preview(tiers_after=ids, now=now, progress=progress)


# Decision quality ----------------------------------------------------------------------------------

@dataclass
class QualityRow:
    """One rule, reviewer or month of a period."""

    key: str
    label: str
    issued: int = 0
    appealed: int = 0
    overturned: int = 0
    revoked: int = 0
    decisions: int = 0  # appeals decided
    within_target: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    flagged: bool = False

    @property
    def overturn_rate(self) -> float:
        return self.overturned / self.issued if self.issued else 0.0

    @property
    def within_target_rate(self) -> float | None:
        return self.within_target / self.decisions if self.decisions else None


@dataclass
class DetectorRow:
    name: str
    confirmed: int
    dismissed: int
    waiting: int

    @property
    def confirmed_rate(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


@dataclass
class Quality:
    year: int
    by: str  # "rule", "reviewer" or "month"
    rows: list
    total: QualityRow
    detectors: list
    flag_ratio: Decimal
    flag_min: int
    target_days: int
    computed_at: datetime.datetime | None = None


BY = ("rule", "reviewer", "month")


def quality_year(raw) -> int:
    """A report's year from a query string: this year unless a year from 2000 to now is given."""
    this_year = timezone.localdate().year
    return whole_number_or_none(raw, low=EARLIEST_DAY.year, high=this_year) or this_year


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = (len(values) - 1) * q
    low = int(index)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (index - low), 1)


def flag(rows, total, policy) -> None:
    """A group with enough tickets whose overturn rate is the policy's ratio
    (or more) times the overall rate is flagged for review."""
    for row in rows:
        row.flagged = (row.issued >= policy.overturn_flag_min_tickets and total.overturn_rate > 0
                       and row.overturn_rate >= float(policy.overturn_flag_ratio) * total.overturn_rate)


def decision_quality(*, year: int, by: str = "rule") -> Quality:
    """Tickets issued in ``year`` (Shanghai) grouped by rule, issuing
    reviewer or month: how many were appealed, overturned on appeal
    (approved), revoked; how fast their appeals were decided against the
    policy's working-day target; warnings confirmed and dismissed per
    detector. A group whose overturn rate is the policy's ratio above the
    overall rate, with enough tickets, is flagged."""
    if by not in BY:
        by = "rule"
    policy = PolicySettings.load()
    tz = timezone.get_default_timezone()
    start = datetime.datetime(year, 1, 1, tzinfo=tz)
    end = datetime.datetime(year + 1, 1, 1, tzinfo=tz)
    group = {"rule": "rule__code", "reviewer": "issued_by", "month": "month"}[by]
    tickets = Ticket.objects.filter(issued_at__gte=start, issued_at__lt=end)
    if by == "month":
        tickets = tickets.annotate(month=TruncMonth("issued_at", tzinfo=tz))
    counted = (tickets.values(group).annotate(
        issued=Count("id", distinct=True),
        revoked=Count("id", filter=Q(status=Ticket.Status.REVOKED), distinct=True),
        appealed=Count("id", filter=Q(appeals__isnull=False), distinct=True),
        overturned=Count("id", filter=Q(appeals__status=Appeal.Status.APPROVED), distinct=True),
    ).order_by(group))
    rows: dict = {}
    for item in counted:
        key = item[group]
        rows[key] = QualityRow(key=str(key), label="", issued=item["issued"], appealed=item["appealed"],
                               overturned=item["overturned"], revoked=item["revoked"])
    appeals = Appeal.objects.filter(ticket__issued_at__gte=start, ticket__issued_at__lt=end,
                                    decided_at__isnull=False)
    if by == "month":
        appeals = appeals.annotate(month=TruncMonth("ticket__issued_at", tzinfo=tz))
    durations: dict = defaultdict(list)
    key_path = {"rule": "ticket__rule__code", "reviewer": "ticket__issued_by", "month": "month"}[by]
    for key, submitted, decided, due in appeals.values_list(key_path, "submitted_at", "decided_at", "due_at"):
        row = rows.get(key)
        if row is None:
            continue
        row.decisions += 1
        row.within_target += decided <= due
        durations[key].append((decided - submitted).total_seconds() / 3600)
    for key, row in rows.items():
        row.median_hours = _percentile(durations[key], 0.5)
        row.p90_hours = _percentile(durations[key], 0.9)
    # Labels: rule names, reviewers' names, months.
    if by == "rule":
        names = {}
        for rule in Rule.objects.filter(code__in=list(rows)).order_by("code", "-version"):
            names.setdefault(rule.code, rule.name)
        for key, row in rows.items():
            row.label = names.get(key, key)
    elif by == "reviewer":
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=list(rows))}
        for key, row in rows.items():
            row.label = person(users.get(key)) or str(key)
    else:
        for key, row in rows.items():
            row.label = timezone.localtime(key, tz).strftime("%Y-%m") if key else "—"
            row.key = row.label
    everything = list(rows.values())
    total = QualityRow(key="total", label="", issued=sum(r.issued for r in everything),
                       appealed=sum(r.appealed for r in everything),
                       overturned=sum(r.overturned for r in everything), revoked=sum(r.revoked for r in everything),
                       decisions=sum(r.decisions for r in everything),
                       within_target=sum(r.within_target for r in everything))
    all_durations = [d for values in durations.values() for d in values]
    total.median_hours, total.p90_hours = _percentile(all_durations, 0.5), _percentile(all_durations, 0.9)
    if by != "month":
        flag(everything, total, policy)
    detectors = [DetectorRow(name, confirmed, dismissed, waiting) for name, confirmed, dismissed, waiting in
                 ViolationWarning.objects.filter(received_at__gte=start, received_at__lt=end)
                 .values("integration__name").annotate(
                     c=Count("id", filter=Q(status="confirmed")), d=Count("id", filter=Q(status="dismissed")),
                     w=Count("id", filter=~Q(status__in=["confirmed", "dismissed"])))
                 .order_by("integration__name").values_list("integration__name", "c", "d", "w")]
    ordered = sorted(everything, key=(lambda r: r.label) if by == "month" else (lambda r: (-r.issued, r.label)))
    return Quality(year=year, by=by, rows=ordered, total=total, detectors=detectors,
                   flag_ratio=policy.overturn_flag_ratio, flag_min=policy.overturn_flag_min_tickets,
                   target_days=policy.appeal_decision_working_days)


# Policy figures -------------------------------------------------------------------------------------

@dataclass
class FigureEffect:
    label: str
    before: object
    after: object
    effect: str


def policy_change_preview(saved, changed, *, now=None) -> list[FigureEffect]:
    """Each changed policy figure with what it would change in the data as it
    stands, where that can be counted; the others apply from now on."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    out, quality = [], None
    for model_field in PolicySettings._meta.concrete_fields:
        name = model_field.name
        if name in ("id", "updated_at") or getattr(saved, name) == getattr(changed, name):
            continue
        old, new = getattr(saved, name), getattr(changed, name)
        effect = _("Applies to what happens from now on; nothing already recorded changes.")
        if name == "alliance_min_score":
            low, high = sorted([old, new])
            members = AllianceMembership.objects.filter(status=AllianceMembership.Status.ACTIVE,
                                                        shop__experience_score__gt=low,
                                                        shop__experience_score__lte=high).count()
            if new > old:
                effect = _("%(n)d active members score above %(old)s but not above %(new)s: the next daily "
                           "re-check closes their memberships.") % {"n": members, "old": old, "new": new}
            else:
                others = AllianceMembership.objects.exclude(status=AllianceMembership.Status.ACTIVE).filter(
                    shop__experience_score__gt=low, shop__experience_score__lte=high).count()
                effect = _("%(n)d shops that are not members now meet the score criterion.") % {"n": others}
        elif name == "certificate_warning_days":
            window = lambda days: Q(expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=days))  # noqa: E731
            approved = Qualification.objects.filter(status=Qualification.Status.APPROVED)
            more = approved.filter(window(new)).exclude(window(old)).count() if new > old else 0
            fewer = approved.filter(window(old)).exclude(window(new)).count() if new < old else 0
            effect = (_("%(n)d more certificates enter the warning window; their merchants are reminded at the "
                        "next daily run.") % {"n": more} if more or new > old else
                      _("%(n)d certificates leave the warning window.") % {"n": fewer})
        elif name in ("overturn_flag_ratio", "overturn_flag_min_tickets"):
            # One report for both figures: flagged under the saved policy, then under the changed one.
            if quality is None:
                quality = decision_quality(year=today.year, by="rule")
                flagged_before = sum(r.flagged for r in quality.rows)
                flag(quality.rows, quality.total, changed)
                flagged_after = sum(r.flagged for r in quality.rows)
            effect = _("Rules flagged for review this year: %(before)d → %(after)d.") % {
                "before": flagged_before, "after": flagged_after}
        out.append(FigureEffect(str(model_field.verbose_name), old, new, effect))
    return out
