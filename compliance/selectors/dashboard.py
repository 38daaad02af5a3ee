"""The admin index: each role's queues with their counts, and the month's
tickets per day."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from compliance.calendar import shanghai_day_start
from compliance.models import Ticket
from config.db_router import read_alias
from shops.models import Shop

from .claims import queue_counts


@dataclass
class ChartBar:
    x: float
    day: datetime.date
    a: int
    b: int
    a_y: float
    a_h: float
    b_y: float
    b_h: float


@dataclass
class Dashboard:
    queues: list  # the queues the user decides in (selectors.claims.QueueCount), first on the page
    bars: list[ChartBar]
    chart_max: int
    chart_width: int
    chart_height: int
    tickets_total: int
    # A reviewer's own work (None for roles that do not issue tickets).
    my_under_appeal: int | None = None
    issued_today: int | None = None
    shops_flagged: int | None = None

    @property
    def y_ticks(self) -> list[tuple[int, float]]:
        """(value, y) for 0, half and the top of the chart."""
        values = sorted({0, self.chart_max // 2, self.chart_max})
        return [(v, round(self.chart_height - self.chart_height * v / max(self.chart_max, 1), 1)) for v in values]

    @property
    def week_ticks(self) -> list[ChartBar]:
        """Every seventh day, counted back from today."""
        return [bar for i, bar in enumerate(reversed(self.bars)) if i % 7 == 0][::-1]


def dashboard(user, *, now: datetime.datetime | None = None, days: int = 30) -> Dashboard:
    """The admin index: the reviewer's queues with counts, and tickets issued
    per day by class over the last ``days`` days (drawn as SVG, no script)."""
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    start_of_today = shanghai_day_start(now)

    first_day = (start_of_today - datetime.timedelta(days=days - 1)).date()
    per_day = {first_day + datetime.timedelta(days=i): {"A": 0, "B": 0} for i in range(days)}
    if user.has_perm("compliance.view_ticket"):
        def counts_per_day():
            rows = (
                Ticket.objects.using(read_alias())
                .filter(issued_at__gte=start_of_today - datetime.timedelta(days=days - 1))
                .annotate(day=TruncDate("issued_at", tzinfo=tz))
                .values("day", "violation_class")
                .annotate(n=Count("id"))
            )
            return [(row["day"], row["violation_class"], row["n"]) for row in rows]

        # A month of tickets is tens of thousands of rows on a large platform:
        # the chart is computed at most once a minute (settings.DASHBOARD_CHART_SECONDS).
        key = f"dashboard-chart:{first_day.isoformat()}:{days}:{now.replace(second=0, microsecond=0).isoformat()}"
        for day, cls, n in cache.get_or_set(key, counts_per_day, settings.DASHBOARD_CHART_SECONDS):
            if day in per_day:
                per_day[day][cls] = n
    width, height, gap = 600, 160, 2
    top = max([v["A"] + v["B"] for v in per_day.values()] + [1])
    slot = width / days
    bars = []
    for i, (day, v) in enumerate(sorted(per_day.items())):
        a_h = height * v["A"] / top
        b_h = height * v["B"] / top
        bars.append(ChartBar(x=round(i * slot + gap / 2, 1), day=day, a=v["A"], b=v["B"],
                             a_y=round(height - a_h, 1), a_h=round(a_h, 1),
                             b_y=round(height - a_h - b_h, 1), b_h=round(b_h, 1)))
    mine = {}
    if user.has_perm("compliance.add_ticket"):
        mine = dict(
            my_under_appeal=Ticket.objects.filter(issued_by=user, status=Ticket.Status.APPEALING).count(),
            issued_today=Ticket.objects.filter(issued_at__gte=start_of_today).count(),
            shops_flagged=Shop.objects.filter(review_flagged_at__isnull=False).count(),
        )
    return Dashboard(queue_counts(user, now), bars, top, width, height,
                     tickets_total=sum(v["A"] + v["B"] for v in per_day.values()), **mine)
