"""The e-mail outbox (SPEC §10): what waits to be sent, what the mail server
refused for good, and a compliance admin's "send again"."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from compliance.services.outbox import resend
from shops.admin_base import short_time, status_column, truncated

from ..models import OutboxEmail
from .base import ReadOnlyAdmin, SendAgainMixin


@admin.register(OutboxEmail)
class OutboxEmailAdmin(SendAgainMixin, ReadOnlyAdmin):
    send_again = staticmethod(resend)
    resend_permission = "compliance.resend_outboxemail"
    sent_again_message = gettext_lazy("%(n)d e-mail(s) queued to be sent again.")
    not_sent_again_message = gettext_lazy("Only undeliverable or sent e-mails can be sent again; the others are "
                                          "still being tried.")

    list_display = ("time_display", "shop_display", "to_display", "subject_display", "status_display", "attempts",
                    "next_display", "error_display")
    list_filter = ("status",)
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)
    sortable_by = ()  # newest first: the primary key, or the (status, id) index
    actions = ["resend_selected"]
    status_display = status_column(gettext_lazy("status"), prefix="mail-")

    fields = ("shop", "kind", "to", "subject", "body", "status", "created_at", "attempts", "next_attempt_at",
              "sent_at", "last_error")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("recipient"))
    def to_display(self, obj):
        return truncated(obj.to, "11em")

    @admin.display(description=gettext_lazy("subject"))
    def subject_display(self, obj):
        return truncated(obj.subject, "13em")

    @admin.display(description=gettext_lazy("next attempt"))
    def next_display(self, obj):
        return short_time(obj.next_attempt_at) if obj.status == OutboxEmail.Status.PENDING else "—"

    @admin.display(description=gettext_lazy("error"))
    def error_display(self, obj):
        return truncated(obj.last_error, "8em") if obj.last_error else "—"

    def get_ordering(self, request):
        return ["-id"]  # written in order: the newest has the highest ID
