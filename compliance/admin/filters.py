"""List filters that stay fast on tables that grow without bound (STYLE §10):
their choices come from small tables or fixed periods, never from a
DISTINCT over the big table, and each filters through an index."""

import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.models import Rule
from compliance.calendar import shanghai_day_start
from shops.numbers import EARLIEST_DAY, whole_number_or_none

PERIODS = [("today", _("Today")), ("7d", _("Past 7 days")), ("30d", _("Past 30 days")),
           ("year", _("This year"))]


def period_filter(field: str, title):
    """A date filter by fixed periods (Shanghai days): a range on the
    indexed column, in place of the date hierarchy's DISTINCT date_trunc."""

    class PeriodFilter(admin.SimpleListFilter):
        parameter_name = "period"

        def lookups(self, request, model_admin):
            return PERIODS

        def queryset(self, request, queryset):
            start_of_today = shanghai_day_start(timezone.now())
            starts = {
                "today": start_of_today,
                "7d": start_of_today - datetime.timedelta(days=6),
                "30d": start_of_today - datetime.timedelta(days=29),
                "year": start_of_today.replace(month=1, day=1),
            }
            if self.value() in starts:
                return queryset.filter(**{f"{field}__gte": starts[self.value()]})
            return queryset

    PeriodFilter.title = title
    return PeriodFilter


def rule_filter(field: str = "rule"):
    """Rules by code, listed from the rule table (every version of a code
    together); filters with the ids of those versions."""

    class RuleFilter(admin.SimpleListFilter):
        title = _("rule")
        parameter_name = "rule"

        def lookups(self, request, model_admin):
            latest = {}
            for rule in Rule.objects.order_by("code", "-version"):
                latest.setdefault(rule.code, rule.name)
            return sorted(latest.items(), key=lambda item: item[1])

        def queryset(self, request, queryset):
            if not self.value():
                return queryset
            ids = list(Rule.objects.filter(code=self.value()).values_list("id", flat=True))
            return queryset.filter(**{f"{field}__in": ids})

    return RuleFilter


class IssuedByMeFilter(admin.SimpleListFilter):
    """A reviewer's own tickets (the dashboard links here)."""

    title = _("issued by")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", _("Me"))]

    def queryset(self, request, queryset):
        return queryset.filter(issued_by=request.user) if self.value() == "yes" else queryset


class YearFilter(admin.SimpleListFilter):
    """Point years: this year and the four before it, without a DISTINCT."""

    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        this_year = shanghai_day_start(timezone.now()).year
        return [(str(y), str(y)) for y in range(this_year, this_year - 5, -1)]

    def queryset(self, request, queryset):
        year = whole_number_or_none(self.value(), low=EARLIEST_DAY.year, high=9999)
        return queryset if year is None else queryset.filter(year=year)
