from django.contrib import admin

from ..models import DepositEntry, Event, Measure, NodeApplication, PointEntry
from .base import ReadOnlyAdmin


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "ticket", "violation_class", "year", "points")
    list_filter = ("violation_class", "year")
    list_select_related = ("shop", "ticket")
    identifier_search_fields = {"shop__shop_no": "prefix", "ticket__number": "prefix"}
    search_fields = ("shop__name",)
    raw_id_fields = ("shop", "ticket")


@admin.register(DepositEntry)
class DepositEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "kind", "amount", "requested", "shortfall", "balance_after", "ticket")
    list_filter = ("kind",)
    list_select_related = ("shop", "ticket")
    identifier_search_fields = {"shop__shop_no": "prefix", "ticket__number": "prefix"}
    search_fields = ("shop__name",)
    raw_id_fields = ("shop", "ticket", "actor", "node_application")


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "kind", "status", "ends_at", "amount", "node", "ticket")
    list_filter = ("kind", "status")
    list_select_related = ("shop", "ticket", "node")
    identifier_search_fields = {"shop__shop_no": "prefix", "ticket__number": "prefix"}
    search_fields = ("shop__name",)
    raw_id_fields = ("shop", "ticket", "node", "node_application")


@admin.register(NodeApplication)
class NodeApplicationAdmin(ReadOnlyAdmin):
    list_display = ("applied_at", "shop", "node", "year", "status", "total_reached", "ticket", "lifted_at",
                    "lifted_by")
    list_filter = ("violation_class", "status", "year")
    list_select_related = ("shop", "node", "ticket", "lifted_by")
    identifier_search_fields = {"shop__shop_no": "prefix", "ticket__number": "prefix"}
    search_fields = ("shop__name",)
    raw_id_fields = ("shop", "node", "ticket", "subsumed_by", "lifted_by")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "ticket", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)
    list_select_related = ("shop", "ticket", "actor")
    identifier_search_fields = {"shop__shop_no": "prefix", "ticket__number": "prefix"}
    search_fields = ("shop__name",)
    raw_id_fields = ("shop", "ticket", "actor")
    date_hierarchy = "created_at"
