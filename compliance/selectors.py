"""Reads shared by the admin, the portal and the jobs."""

import datetime
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from compliance.models import Measure, PointEntry, PointNode, ViolationClass
from compliance.services.assessment import point_year
from shops.models import Shop


# Measures that last (a warning or a deduction is done once it is taken).
ONGOING = [Measure.Kind.SUSPEND, Measure.Kind.DELIST, Measure.Kind.BAN, Measure.Kind.CLEAR,
           Measure.Kind.ALLIANCE_CLOSE, Measure.Kind.FREEZE_PROCEEDS]


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

    @property
    def deposit_short(self):
        return max(self.shop.required_deposit - self.shop.deposit_balance, 0)


def point_totals(shop: Shop, year: int) -> dict[str, int]:
    rows = (
        PointEntry.objects.filter(shop=shop, year=year)
        .values("violation_class")
        .annotate(total=Sum("points"))
        .values_list("violation_class", "total")
    )
    return {cls: 0 for cls in ViolationClass.values} | dict(rows)


def shop_standing(shop: Shop, *, now: datetime.datetime | None = None) -> Standing:
    """A and B points this year with the next node, the deposit against the
    required amount, and the measures in force. Four queries whatever the shop."""
    now = now or timezone.now()
    year = point_year(now)
    totals = point_totals(shop, year)
    nodes = list(PointNode.objects.filter(is_active=True).order_by("threshold"))
    classes = []
    for cls, label in ViolationClass.choices:
        upcoming = next((n for n in nodes if n.violation_class == cls and n.threshold > totals[cls]), None)
        classes.append(ClassStanding(cls, label, totals[cls], upcoming))
    measures = list(
        Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE, kind__in=ONGOING)
        .select_related("ticket", "node")
        .order_by("-created_at")
    )
    return Standing(shop=shop, year=year, classes=classes, measures=measures)


