"""A shop's standing (SPEC §6): its points this year against the point
nodes, the deposit against the required amount, the measures in force — the
portal's health page, the admin's shop page and the API read it here."""

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from compliance.calendar import point_year
from compliance.models import (
    Measure, MeasureProduct, NodeApplication, PointEntry, PointNode, PolicySettings, Ticket, ViolationClass,
    ViolationWarning,
)
from shops.models import Shop

from .tickets import appeal_days_left


def point_totals(shop: Shop, year: int) -> dict[str, int]:
    """A and B points of ``year`` from the ledger, both classes always present."""
    rows = (
        PointEntry.objects.filter(shop=shop, year=year)
        .values("violation_class")
        .annotate(total=Sum("points"))
        .values_list("violation_class", "total")
    )
    return {cls: 0 for cls in ViolationClass.values} | dict(rows)


@dataclass
class ClassStanding:
    violation_class: str
    label: str
    total: int
    next_node: PointNode | None

    @property
    def next_threshold(self) -> int | None:
        return self.next_node.threshold if self.next_node else None

    @property
    def next_measures(self) -> str:
        return self.next_node.describe() if self.next_node else ""

    @property
    def points_to_next(self) -> int | None:
        return self.next_node.threshold - self.total if self.next_node else None

    @property
    def percent(self) -> int:
        """How far to the next node, for a progress bar."""
        if not self.next_node:
            return 100
        return min(100, round(100 * self.total / self.next_node.threshold))


@dataclass
class Standing:
    shop: Shop
    year: int
    classes: list[ClassStanding]
    measures: list[Measure]
    nodes: list[NodeApplication]

    @property
    def deposit_short(self):
        return self.shop.deposit_short

    @property
    def resets_at(self) -> datetime.datetime:
        """SPEC §6.2: points reset when the Shanghai year ends."""
        return timezone.make_aware(datetime.datetime(self.year + 1, 1, 1), timezone.get_default_timezone())

    @property
    def suspension_cause(self) -> Measure | None:
        """The suspension the shop is closed until: a ticket's, or a node's."""
        suspensions = [m for m in self.measures if m.kind == Measure.Kind.SUSPEND and m.ends_at]
        return max(suspensions, key=lambda m: m.ends_at, default=None)


@dataclass
class MerchantHealth:
    """The portal's health page beyond the standing: what to do next, and
    which products are held by which ticket (SPEC §6.3)."""

    appealable: list
    held_products: list
    warnings: list
    alliance_min_score: object

    def as_of(self, now: datetime.datetime) -> "MerchantHealth":
        """The lists as they stand at ``now``: a window that has closed since
        the read drops out, and the days and hours left are counted from now."""
        self.appealable = [t for t in self.appealable if t.appeal_deadline >= now]
        for ticket in self.appealable:
            ticket.days_left = appeal_days_left(ticket, now=now)
        self.warnings = [w for w in self.warnings if w.deadline >= now]
        for warning in self.warnings:
            warning.hours_left = int((warning.deadline - now).total_seconds() // 3600)
        return self


def merchant_health(shop: Shop, *, now: datetime.datetime | None = None, policy=None) -> MerchantHealth:
    now = now or timezone.now()
    # Narrow reads throughout: the merchants' most-opened page (≤ 20 ms, bench/RESULTS.md).
    appealable = list(
        Ticket.objects.filter(shop=shop, status=Ticket.Status.ISSUED, appeal_deadline__gte=now)
        .only("number", "appeal_deadline").order_by("appeal_deadline")[:20]
    )
    held = list(
        MeasureProduct.objects.filter(measure__shop=shop, measure__status=Measure.Status.ACTIVE,
                                      measure__kind__in=[Measure.Kind.DELIST, Measure.Kind.BAN])
        .select_related("product", "measure__ticket", "measure__node")
        .only("product__title", "product__product_no", "measure__kind", "measure__ticket__number",
              "measure__node__violation_class", "measure__node__threshold")
        .order_by("product__title")[:50]
    )
    # Warnings the merchant can still answer (SPEC §11), soonest deadline first.
    warnings = list(ViolationWarning.objects.filter(shop=shop, status=ViolationWarning.Status.OPEN, deadline__gte=now)
                    .only("number", "summary", "deadline").order_by("deadline")[:20])
    policy = policy or PolicySettings.load()
    return MerchantHealth(appealable=appealable, held_products=held, warnings=warnings,
                          alliance_min_score=policy.alliance_min_score).as_of(now)


POINT_NODES_CACHE_KEY = "point-nodes"


def active_point_nodes() -> list:
    """The active point nodes for the standing pages (a handful of rows read
    on every page): cached for a minute, dropped when the service that saves a
    node commits (services.catalogue). Ticket issuance reads them from the
    database (services.assessment)."""
    return cache.get_or_set(POINT_NODES_CACHE_KEY,
                            lambda: list(PointNode.objects.filter(is_active=True).order_by("threshold")), 60)


def forget_point_nodes() -> None:
    cache.delete(POINT_NODES_CACHE_KEY)


def shop_standing(shop: Shop, *, now: datetime.datetime | None = None) -> Standing:
    """A and B points this year with the next node, the deposit against the
    required amount, and the measures in force. Four queries whatever the shop."""
    now = now or timezone.now()
    year = point_year(now)
    totals = point_totals(shop, year)
    nodes = active_point_nodes()
    classes = []
    for cls, label in ViolationClass.choices:
        upcoming = next((n for n in nodes if n.violation_class == cls and n.threshold > totals[cls]), None)
        classes.append(ClassStanding(cls, label, totals[cls], upcoming))
    measures = list(
        Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE, kind__in=Measure.LASTING)
        .select_related("ticket", "node")
        .only("kind", "status", "ends_at", "amount", "created_at", "ticket__number", "node__violation_class",
              "node__threshold", "node__suspend_days", "node_application")  # what the pages and the API show
        .order_by("-created_at")
    )
    # This year's nodes, in force or lifted, with why (SPEC §6.2).
    nodes = list(
        NodeApplication.objects.filter(shop=shop, year=year, subsumed_by=None)
        .select_related("node", "ticket", "lifted_by")
        .order_by("-applied_at", "-id")
    )
    return Standing(shop=shop, year=year, classes=classes, measures=measures, nodes=nodes)
