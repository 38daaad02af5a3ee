from shops.admin_base import BaseModelAdmin


class ReadOnlyAdmin(BaseModelAdmin):
    """Ledgers, measures and events: visible, never added, edited or deleted
    in the admin — only services write them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
