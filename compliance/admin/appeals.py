from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.models import Appeal, AppealEvidence
from compliance.models.appeals import QUEUE_ORDER
from compliance.selectors.tickets import appeal_due
from compliance.services.appeals import appeal_decide
from shops.admin_base import BaseModelAdmin, shop_label, status_column, ticket_shapes, time_column, time_left
from shops.uploads import attachment_response, preview_response

from .base import EvidenceInline
from .claims import ClaimFilter, ClaimQueueMixin
from .filters import rule_filter


class DueFilter(admin.SimpleListFilter):
    title = gettext_lazy("decision due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", gettext_lazy("Overdue")), ("today", gettext_lazy("Due today")),
                ("later", gettext_lazy("Due later"))]

    def queryset(self, request, queryset):
        due = appeal_due(timezone.now())
        if self.value() in due:
            return queryset.filter(due[self.value()], status=Appeal.Status.PENDING)
        return queryset


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", gettext_lazy("Approve: revoke the ticket and reverse its effects")),
        ("reject", gettext_lazy("Reject: the ticket stands")),
    ])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 4}),
                             max_length=2000, help_text=gettext_lazy("The merchant reads this reason."))


class AppealEvidenceInline(EvidenceInline):
    model = AppealEvidence

    def download_url(self, obj):
        return reverse("admin:compliance_appeal_evidence", args=[obj.appeal_id, obj.pk])


@admin.register(Appeal)
class AppealAdmin(ClaimQueueMixin, BaseModelAdmin):
    """The appeal reviewers' queue: pending first, soonest due first."""

    claim_subject = Appeal.EVENT_SUBJECT
    list_display = ("ticket_link", "status_display", "shop", "attempt", "submitted_display", "due_display",
                    "holder_display")
    list_display_links = None  # the first column links by itself: to the decide view while pending
    list_filter = (ClaimFilter, "status", DueFilter, rule_filter("ticket__rule"))
    list_select_related = ("ticket__shop", "decided_by")
    search_shapes = ticket_shapes("ticket__")
    search_help_text = gettext_lazy("Ticket number (WG…) or shop ID, from the start; or words of the shop name.")
    sortable_by = ("due_display",)
    raw_id_fields = ("ticket", "submitted_by", "decided_by")
    inlines = [AppealEvidenceInline]
    fields = readonly_fields = ("ticket_link", "shop", "attempt", "status", "reason", "statement", "submitted_by",
                                "submitted_at", "due_at", "decided_by", "decided_at", "decision_reason")

    def get_queryset(self, request):
        # Annotate before ordering: ModelAdmin.get_queryset would order by
        # "queue" before it exists.
        queryset = self.model._default_manager.get_queryset().annotate(queue=QUEUE_ORDER)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["queue", "due_at", "id"]

    def get_list_display(self, request):
        """A row opens the decide view while the appeal is pending (for those
        who decide), else the appeal's page: the first column is that link."""
        may_decide = self.can_decide(request)

        @admin.display(description=gettext_lazy("ticket"))
        def open_link(obj):
            pending = obj.status == Appeal.Status.PENDING and may_decide
            url = reverse("admin:compliance_appeal_decide" if pending else "admin:compliance_appeal_change",
                          args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, obj.ticket.number)

        return (open_link, *super().get_list_display(request)[1:])

    @admin.display(description=gettext_lazy("ticket"), ordering="ticket__number")
    def ticket_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:compliance_ticket_change", args=[obj.ticket_id]),
                           obj.ticket.number)

    submitted_display = time_column("submitted_at", gettext_lazy("submitted at"))
    status_display = status_column(gettext_lazy("status"))

    @admin.display(description=gettext_lazy("shop"))
    def shop(self, obj):
        return shop_label(obj.ticket.shop, "16em")

    @admin.display(description=gettext_lazy("decision due"), ordering="due_at")
    def due_display(self, obj):
        return time_left(obj.due_at, pending=obj.status == Appeal.Status.PENDING)

    def has_add_permission(self, request):
        return False  # merchants submit appeals in the portal

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the decide view

    def has_delete_permission(self, request, obj=None):
        return False

    def can_decide(self, request):
        return request.user.has_perm("compliance.decide_appeal")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", wrap(self.decide_view), name="compliance_appeal_decide"),
            path("<int:pk>/evidence/<int:evidence_pk>/", wrap(self.evidence_view), name="compliance_appeal_evidence"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        appeal = self.get_object(request, object_id)
        extra = {"may_decide": bool(appeal and appeal.status == Appeal.Status.PENDING and self.can_decide(request))}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def decide_view(self, request, pk):
        if not self.can_decide(request):
            raise PermissionDenied
        appeal = (Appeal.objects.select_related("ticket__shop", "ticket__issued_by", "ticket__rule", "submitted_by")
                  .prefetch_related("evidence", "ticket__evidence", "ticket__products").filter(pk=pk).first())
        if appeal is None:
            raise Http404
        form = DecideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                appeal_decide(appeal=appeal, approve=form.cleaned_data["decision"] == "approve",
                              reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Decision recorded; the merchant is told by e-mail."),
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_appeal_changelist"))
            appeal.refresh_from_db()
        ticket = appeal.ticket
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": _("Decide appeal"),
            "appeal": appeal, "ticket": ticket, "form": form,
            "own_ticket": ticket.issued_by_id == request.user.pk,
            **self.decide_context(request, appeal.pk, waiting=True, rule_code=ticket.rule.code),
            "earlier": ticket.appeals.exclude(pk=appeal.pk).order_by("attempt"),
        }
        return TemplateResponse(request, "admin/compliance/appeal/decide.html", context)

    def evidence_view(self, request, pk, evidence_pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = AppealEvidence.objects.select_related("appeal__ticket").filter(pk=evidence_pk, appeal_id=pk).first()
        if item is None:
            raise Http404
        serve = preview_response if request.GET.get("inline") == "1" else attachment_response
        return serve(item.file, download_stem=f"{item.appeal.ticket.number}-appeal-{item.pk}")
