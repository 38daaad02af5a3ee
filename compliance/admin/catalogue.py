from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shops.admin_base import BaseModelAdmin, truncated

from ..models import PointNode, PolicySettings, Rule, RuleTier
from ..selectors import forget_point_nodes


@admin.register(PolicySettings)
class PolicySettingsAdmin(BaseModelAdmin):
    """One row, created by the migration; edited, never added or deleted."""

    list_display = ("__str__", "reentry_wait_months", "upload_max_mb", "appeal_decision_working_days",
                    "appeal_statement_max_chars", "updated_at")
    list_select_related = ()
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RuleTierInline(admin.StackedInline):
    model = RuleTier
    extra = 0
    can_delete = False
    fieldsets = (
        (None, {"fields": (("code", "position", "violation_class"), ("name_zh", "name_en"),
                           ("points_default", "points_min", "points_max"))}),
        (_("Deposit"), {"fields": (("deposit_amount", "deposit_all"), ("deposit_per_order", "deposit_daily_cap"))}),
        (_("Measures"), {"fields": (("warning", "delist_products", "ban_products"),
                                    ("suspend_days", "clear_shop", "freeze_proceeds"))}),
    )


@admin.register(Rule)
class RuleAdmin(BaseModelAdmin):
    list_display = ("code", "version", "name_zh_display", "name_en_display", "alliance_serious",
                    "appeal_window_days", "appeal_chances", "effective_display")
    list_filter = ("alliance_serious", "is_qualification_rule")
    list_select_related = ()
    search_fields = ("code", "name_zh", "name_en")
    inlines = [RuleTierInline]
    fieldsets = (
        (None, {"fields": (("code", "version"), ("name_zh", "name_en"), ("alliance_serious", "is_qualification_rule"),
                           ("effective_from", "effective_to"))}),
        (_("Appeals"), {"fields": (("appeal_window_days", "appeal_chances"), "evidence_hint_zh", "evidence_hint_en")}),
    )

    @admin.display(description=_("name (Chinese)"), ordering="name_zh")
    def name_zh_display(self, obj):
        return truncated(obj.name_zh, "10em")

    @admin.display(description=_("name (English)"), ordering="name_en")
    def name_en_display(self, obj):
        return truncated(obj.name_en, "12em")

    @admin.display(description=_("in effect"), ordering="effective_from")
    def effective_display(self, obj):
        end = obj.effective_to.isoformat() if obj.effective_to else ""
        return f"{obj.effective_from.isoformat()} – {end}"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PointNode)
class PointNodeAdmin(BaseModelAdmin):
    list_display = ("violation_class", "threshold", "suspend_days", "deposit_amount", "clear_shop", "is_active")
    list_filter = ("violation_class", "is_active")
    list_select_related = ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_point_nodes()  # the standing pages show the next node from the cache

    def has_delete_permission(self, request, obj=None):
        return False
