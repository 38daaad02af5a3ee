from django.contrib import admin

from shops.admin_base import BaseModelAdmin

from .models import PolicySettings


@admin.register(PolicySettings)
class PolicySettingsAdmin(BaseModelAdmin):
    """One row, created by the migration; edited, never added or deleted."""

    list_display = ("__str__", "reentry_wait_months", "upload_max_mb", "updated_at")
    list_select_related = ()
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
