"""The webhook delivery log (SPEC §13): every event on its way to a
subscription — its attempts, answer codes and times, the body sent — and a
compliance admin's "send again". A subscription's page links to its own log
(``?subscription=<id>``)."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from compliance.services.deliveries import body_of, resend
from shops.admin_base import short_time, status_column, truncated

from ..models import WebhookAttempt, WebhookDelivery
from .base import ReadOnlyAdmin, SendAgainMixin


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at_display", "code", "ms", "error_display", "answer_display")
    ordering = ("id",)
    verbose_name_plural = gettext_lazy("attempt log")

    @admin.display(description=gettext_lazy("time"))
    def at_display(self, obj):
        return short_time(obj.at)

    @admin.display(description=gettext_lazy("error"))
    def error_display(self, obj):
        return obj.error or "—"

    @admin.display(description=gettext_lazy("answer"))
    def answer_display(self, obj):
        return truncated(obj.answer, "20em") if obj.answer else "—"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("compliance.view_webhookdelivery")  # part of the delivery's record

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SendAgainMixin, ReadOnlyAdmin):
    send_again = staticmethod(resend)
    resend_permission = "compliance.resend_webhookdelivery"
    sent_again_message = gettext_lazy("%(n)d deliveries queued to be sent again.")
    not_sent_again_message = gettext_lazy("Only given-up or delivered deliveries can be sent again; the others are "
                                          "still being tried.")

    list_display = ("time_display", "type_display", "shop_display", "sequence", "status_display", "attempts",
                    "code_display", "ms_display", "next_display")
    list_filter = ("status", "subscription")
    list_select_related = ("event__shop", "subscription")
    raw_id_fields = ("subscription", "event")
    sortable_by = ()  # newest first: the primary key, or a subscription's (subscription, status, id) index
    actions = ["resend_selected"]
    inlines = [AttemptInline]
    status_display = status_column(gettext_lazy("status"), prefix="delivery-")

    fields = ("subscription", "event_display", "shop_display", "sequence", "status", "created_at", "attempts",
              "first_attempt_at", "next_display", "delivered_at", "last_code", "last_ms", "last_error",
              "body_display")
    empty_value_display = "—"
    readonly_fields = fields

    @admin.display(description=gettext_lazy("type"))
    def type_display(self, obj):
        return obj.event.type

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return obj.event.shop.shop_no if obj.event.shop_id else "—"

    @admin.display(description=gettext_lazy("outbound event"))
    def event_display(self, obj):
        return f"{obj.event.type} · {obj.event.uuid}"

    @admin.display(description=gettext_lazy("answer code"))
    def code_display(self, obj):
        return obj.last_code or "—"

    @admin.display(description=gettext_lazy("answer time (ms)"))
    def ms_display(self, obj):
        return "—" if obj.last_ms is None else obj.last_ms

    @admin.display(description=gettext_lazy("next attempt"))
    def next_display(self, obj):
        return short_time(obj.next_attempt_at) if obj.status == WebhookDelivery.Status.PENDING else "—"

    @admin.display(description=gettext_lazy("body sent"))
    def body_display(self, obj):
        # The exact bytes POSTed and signed.
        return format_html('<pre class="delivery-body">{}</pre>', body_of(obj.event).decode())

    def get_ordering(self, request):
        return ["-id"]  # queued in order: the newest has the highest ID
