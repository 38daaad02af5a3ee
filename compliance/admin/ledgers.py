from django.contrib import admin
from django.utils.translation import gettext_lazy

from compliance.wording import money
from shops.admin_base import badge, shop_shapes, short_time

from ..models import DepositEntry, Event, Measure, NodeApplication, PointEntry
from .base import ReadOnlyAdmin
from .filters import YearFilter, period_filter

SEARCH_HELP = gettext_lazy("Ticket number (WG…) or shop ID, from the start; or words of the shop name.")


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnlyAdmin):
    list_display = ("time_display", "shop_display", "ticket_display", "violation_class", "year", "points")
    list_filter = ("violation_class", YearFilter)
    sortable_by = ()  # newest first by id; no other column is indexed for sorting
    list_select_related = ("shop", "ticket")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket")


@admin.register(DepositEntry)
class DepositEntryAdmin(ReadOnlyAdmin):
    @admin.display(description=gettext_lazy("amount (CNY)"))
    def amount_display(self, obj):
        return money(obj.amount)

    @admin.display(description=gettext_lazy("requested (CNY)"))
    def requested_display(self, obj):
        return money(obj.requested)

    @admin.display(description=gettext_lazy("shortfall (CNY)"))
    def shortfall_display(self, obj):
        return money(obj.shortfall)

    @admin.display(description=gettext_lazy("balance after (CNY)"))
    def balance_display(self, obj):
        return money(obj.balance_after)

    list_display = ("time_display", "shop_display", "kind", "amount_display", "requested_display", "shortfall_display",
                    "balance_display", "ticket_display")
    list_filter = ("kind",)
    sortable_by = ()  # newest first by id; no other column is indexed for sorting
    list_select_related = ("shop", "ticket")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "actor", "node_application")


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    @admin.display(description=gettext_lazy("ends at"))
    def ends_display(self, obj):
        return short_time(obj.ends_at) if obj.ends_at else ""

    @admin.display(description=gettext_lazy("amount (CNY)"))
    def measure_amount(self, obj):
        return money(obj.amount) if obj.amount is not None else ""

    list_display = ("time_display", "shop_display", "kind", "status", "ends_display", "measure_amount", "node",
                    "ticket_display")
    list_filter = ("kind", "status")
    sortable_by = ("time_display",)
    list_select_related = ("shop", "ticket", "node")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "node", "node_application")


@admin.register(NodeApplication)
class NodeApplicationAdmin(ReadOnlyAdmin):
    @admin.display(description=gettext_lazy("applied at"), ordering="applied_at")
    def applied_display(self, obj):
        return short_time(obj.applied_at)

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description=gettext_lazy("lifted at"))
    def lifted_display(self, obj):
        return short_time(obj.lifted_at) if obj.lifted_at else ""

    list_display = ("applied_display", "shop_display", "node", "year", "status_display", "total_reached",
                    "ticket_display", "lifted_display")
    list_filter = ("violation_class", "status", YearFilter)
    sortable_by = ("applied_display",)
    list_select_related = ("shop", "node", "ticket", "lifted_by")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "node", "ticket", "subsumed_by", "lifted_by")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    @admin.display(description=gettext_lazy("by"))
    def actor_display(self, obj):
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor_id else gettext_lazy("platform")

    list_display = ("time_display", "shop_display", "ticket_display", "action", "from_label", "to_label",
                    "actor_display")
    list_select_related = ("shop", "ticket", "actor")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "actor")
    list_filter = ("action", period_filter("created_at", gettext_lazy("time")))
    sortable_by = ("time_display",)
