from django.contrib import admin
from django.utils.translation import gettext_lazy

from shops.admin_base import shop_shapes

from ..models import DepositEntry, Event, Measure, NodeApplication, PointEntry
from .base import ReadOnlyAdmin
from .filters import YearFilter, period_filter

SEARCH_HELP = gettext_lazy("Ticket number (WG…) or shop ID, from the start; or words of the shop name.")


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "ticket", "violation_class", "year", "points")
    list_filter = ("violation_class", YearFilter)
    sortable_by = ()  # newest first by id; no other column is indexed for sorting
    list_select_related = ("shop", "ticket")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket")


@admin.register(DepositEntry)
class DepositEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "kind", "amount", "requested", "shortfall", "balance_after", "ticket")
    list_filter = ("kind",)
    sortable_by = ()  # newest first by id; no other column is indexed for sorting
    list_select_related = ("shop", "ticket")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "actor", "node_application")


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "kind", "status", "ends_at", "amount", "node", "ticket")
    list_filter = ("kind", "status")
    sortable_by = ("created_at",)
    list_select_related = ("shop", "ticket", "node")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "node", "node_application")


@admin.register(NodeApplication)
class NodeApplicationAdmin(ReadOnlyAdmin):
    list_display = ("applied_at", "shop", "node", "year", "status", "total_reached", "ticket", "lifted_at",
                    "lifted_by")
    list_filter = ("violation_class", "status", YearFilter)
    sortable_by = ("applied_at",)
    list_select_related = ("shop", "node", "ticket", "lifted_by")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "node", "ticket", "subsumed_by", "lifted_by")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "ticket", "action", "from_status", "to_status", "actor")
    list_select_related = ("shop", "ticket", "actor")
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "actor")
    list_filter = ("action", period_filter("created_at", gettext_lazy("time")))
    sortable_by = ("created_at",)
