from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from compliance.services.jobs import job_start

from shops.admin_base import BaseModelAdmin, shop_label, time_column


class ReadOnlyAdmin(BaseModelAdmin):
    """Ledgers, measures and events: visible, never added, edited or deleted
    in the admin — only services write them. Their lists share compact
    columns (one line a row at 1280 px)."""

    time_display = time_column("created_at", gettext_lazy("time"), ordering="created_at")

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop)

    @admin.display(description=gettext_lazy("ticket"))
    def ticket_display(self, obj):
        return obj.ticket.number if obj.ticket_id else "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SendAgainMixin:
    """An outbox's "send the selected again" (e-mails, webhook deliveries):
    ``send_again`` is the service's resend, ``resend_permission`` the
    permission it needs; the messages say what was queued and why nothing was."""

    send_again = None  # the service's resend(rows, *, actor) -> int, as a staticmethod
    resend_permission = ""
    sent_again_message = ""  # lazy: "%(n)d … queued to be sent again."
    not_sent_again_message = ""  # lazy: why none of the selected rows could be

    def has_resend_permission(self, request):
        return request.user.has_perm(self.resend_permission)

    @admin.action(description=gettext_lazy("Send the selected %(verbose_name_plural)s again"),
                  permissions=["resend"])
    def resend_selected(self, request, queryset):
        count = self.send_again(list(queryset[:1000]), actor=request.user)
        if count:
            self.message_user(request, self.sent_again_message % {"n": count}, messages.SUCCESS)
        else:
            self.message_user(request, str(self.not_sent_again_message), messages.WARNING)


class EvidenceInline(admin.TabularInline):
    """Files attached to a ticket or an appeal: listed with a link to the
    permission-checked download view named by ``download_url``."""

    extra = 0
    can_delete = False
    fields = readonly_fields = ("download", "kind_and_size", "uploaded_at")

    def download_url(self, obj) -> str:
        raise NotImplementedError

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', self.download_url(obj), obj.display_name)

    @admin.display(description=gettext_lazy("type and size"))
    def kind_and_size(self, obj):
        return f"{obj.kind_label} · {obj.size_label}"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def start_job(request, *, kind: str, title: str, params: dict) -> HttpResponseRedirect:
    """Work too long for a request (SPEC §10): the job is queued for the
    user and the browser goes to its page, which follows it."""
    job = job_start(user=request.user, kind=kind, title=title, params=params)
    return HttpResponseRedirect(reverse("admin:job", args=[job.pk]))
