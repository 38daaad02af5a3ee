import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from compliance.wording import person
from shops.admin_base import money_column, shop_label, shop_shapes, status_column, time_column, truncated

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
    amount_display = money_column("amount", gettext_lazy("amount (CNY)"))
    requested_display = money_column("requested", gettext_lazy("requested (CNY)"))
    shortfall_display = money_column("shortfall", gettext_lazy("shortfall (CNY)"))
    balance_display = money_column("balance_after", gettext_lazy("balance after (CNY)"))

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
    ends_display = time_column("ends_at", gettext_lazy("ends at"), empty="")
    measure_amount = money_column("amount", gettext_lazy("amount (CNY)"), empty="")

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
    applied_display = time_column("applied_at", gettext_lazy("applied at"), ordering="applied_at")
    status_display = status_column(gettext_lazy("status"))
    lifted_display = time_column("lifted_at", gettext_lazy("lifted at"), empty="")

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
    # Labels of every workflow share these columns: each is cut to keep a row on one line.
    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        if obj.shop_id:
            return shop_label(obj.shop)
        # A service provider's workflow concerns no shop (SPEC §9): the provider names it.
        return truncated((obj.data or {}).get("provider") or obj.get_subject_display() or "—", "10em")

    @admin.display(description=gettext_lazy("action"))
    def action_display(self, obj):
        return truncated(obj.get_action_display(), "11em")

    @admin.display(description=gettext_lazy("from"))
    def from_display(self, obj):
        return truncated(obj.from_label, "6em")

    @admin.display(description=gettext_lazy("to"))
    def to_display(self, obj):
        return truncated(obj.to_label, "6em")

    @admin.display(description=gettext_lazy("by"))
    def actor_display(self, obj):
        if obj.integration_id:
            return truncated(obj.integration.name, "7em")
        return truncated(person(obj.actor) if obj.actor_id else gettext_lazy("platform"), "7em")

    list_display = ("time_display", "shop_display", "ticket_display", "action_display", "from_display",
                    "to_display", "actor_display")
    list_select_related = ("shop", "ticket", "actor", "integration")
    # The statuses in the words of their workflow, the data as the data it is (not raw values in a sentence).
    fields = readonly_fields = ("created_at", "shop", "ticket", "action", "subject", "subject_id", "from_display",
                                "to_display", "reason", "actor", "integration", "data_display")

    @admin.display(description=gettext_lazy("data"))
    def data_display(self, obj):
        return format_html('<pre class="event-data">{}</pre>', json.dumps(obj.data or {}, ensure_ascii=False,
                                                                            indent=1))
    search_shapes = shop_shapes()
    search_help_text = SEARCH_HELP
    raw_id_fields = ("shop", "ticket", "actor", "integration")
    list_filter = ("action", period_filter("created_at", gettext_lazy("time")))
    sortable_by = ("time_display",)
