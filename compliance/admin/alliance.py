"""Selected Alliance in the admin (SPEC §8): the application queue with the
criteria evaluated at decision time, closing a membership as unsuitable,
and the closures that count."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.models import AllianceClosure, AllianceMembership
from compliance.models.alliance import ALLIANCE_QUEUE_ORDER
from compliance.selectors.alliance import alliance_eligibility, counted_closures, materials_rows
from compliance.services.alliance import alliance_close, alliance_decide
from compliance.wording import person
from shops.admin_base import (
    BaseModelAdmin, SafeChangeList, per_request, shop_label, shop_shapes, status_column, time_column, time_left,
)

from .base import ReadOnlyAdmin
from .claims import ClaimFilter, ClaimQueueMixin

DECIDE = "compliance.decide_alliance"


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", gettext_lazy("Approve: the shop joins the Selected Alliance")),
        ("reject", gettext_lazy("Reject: the shop may apply again when it qualifies")),
    ])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000, help_text=gettext_lazy("Required for a rejection; the merchant reads it."))


class CloseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text=gettext_lazy("Why the shop is unsuitable for promotion; the merchant reads it."))


class ClosureCountingChangeList(SafeChangeList):
    """After the page is read, each row's closures that count: one query for
    the page, not one per row."""

    def get_results(self, request):
        super().get_results(request)
        counts = dict(AllianceClosure.objects.filter(membership__in=self.result_list, counted=True, voided_at=None)
                      .values("membership").annotate(n=Count("id")).values_list("membership", "n"))
        for membership in self.result_list:
            membership.counted = counts.get(membership.pk, 0)


@admin.register(AllianceMembership)
class AllianceMembershipAdmin(ClaimQueueMixin, BaseModelAdmin):
    """Applications first, soonest due first; then every membership."""

    claim_subject = AllianceMembership.EVENT_SUBJECT
    list_display = ("shop_display", "status_display", "score_display", "applied_display", "due_display",
                    "holder_display", "closures_display")
    list_display_links = None
    list_filter = (ClaimFilter, "status", "close_cause")
    list_select_related = ("shop", "decided_by")
    raw_id_fields = ("shop", "applied_by", "decided_by")
    search_shapes = shop_shapes()[1:]
    search_help_text = gettext_lazy("Shop ID from the start, or words of the shop name.")
    sortable_by = ("due_display",)
    fields = readonly_fields = ("shop", "status", "applied_at", "applied_by", "due_at", "materials", "decided_at",
                                "decided_by", "decision_reason", "activated_at", "closed_at", "close_cause",
                                "close_reason")
    status_display = status_column(gettext_lazy("status"), prefix="alliance-")
    applied_display = time_column("applied_at", gettext_lazy("submitted at"))

    def get_ordering(self, request):
        # An expression, not an annotation: other admins that show a membership order by this too.
        return [ALLIANCE_QUEUE_ORDER.asc(), "due_at", "-id"]

    @admin.display(description=gettext_lazy("shop"))
    @per_request
    def shop_display(self, obj, request):
        pending = obj.status == AllianceMembership.Status.APPLIED and request.user.has_perm(DECIDE)
        url = reverse("admin:compliance_alliancemembership_decide" if pending else
                      "admin:compliance_alliancemembership_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, shop_label(obj.shop, "14em"))

    @admin.display(description=gettext_lazy("experience score"))
    def score_display(self, obj):
        return obj.shop.experience_score if obj.shop.experience_score is not None else "—"

    @admin.display(description=gettext_lazy("decision due"), ordering="due_at")
    def due_display(self, obj):
        if obj.status != AllianceMembership.Status.APPLIED:
            return "—"
        return time_left(obj.due_at)

    @admin.display(description=gettext_lazy("closures for violations"))
    def closures_display(self, obj):
        return obj.counted

    def get_changelist(self, request, **kwargs):
        return ClosureCountingChangeList

    def has_add_permission(self, request):
        return False  # merchants apply in the portal

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        m = self.get_object(request, object_id)
        may = request.user.has_perm(DECIDE) and m is not None
        extra = {"may_decide": may and m.status == AllianceMembership.Status.APPLIED,
                 "may_close": may and m.status == AllianceMembership.Status.ACTIVE}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", wrap(self.decide_view), name="compliance_alliancemembership_decide"),
            path("<int:pk>/close/", wrap(self.close_view), name="compliance_alliancemembership_close"),
            *super().get_urls(),
        ]

    def _membership(self, request, pk):
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        membership = AllianceMembership.objects.select_related("shop__controller", "applied_by").filter(pk=pk).first()
        if membership is None:
            raise Http404
        return membership

    def _page(self, request, template, title, membership, form, **extra):
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": title, "m": membership,
            "form": form, "eligibility": alliance_eligibility(membership.shop, membership=membership),
            "closures": membership.closures.select_related("ticket", "actor").order_by("-created_at"),
            "counted": counted_closures(membership), "materials": materials_rows(membership.materials), **extra,
        }
        return TemplateResponse(request, f"admin/compliance/alliancemembership/{template}.html", context)

    def decide_view(self, request, pk):
        membership = self._membership(request, pk)
        form = DecideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                alliance_decide(membership=membership, approve=form.cleaned_data["decision"] == "approve",
                                reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Decision recorded; the merchant is told by e-mail."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_alliancemembership_changelist"))
            membership.refresh_from_db()
        return self._page(request, "decide", _("Decide alliance application"), membership, form,
                          **self.decide_context(request, membership.pk,
                                                waiting=membership.status == AllianceMembership.Status.APPLIED))

    def close_view(self, request, pk):
        membership = self._membership(request, pk)
        form = CloseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                alliance_close(shop=membership.shop, cause=AllianceMembership.Cause.UNSUITABLE,
                               reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Membership closed; the merchant is told by e-mail."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_alliancemembership_change", args=[pk]))
            membership.refresh_from_db()
        return self._page(request, "close", _("Close alliance membership"), membership, form)


@admin.register(AllianceClosure)
class AllianceClosureAdmin(ReadOnlyAdmin):
    list_display = ("shop_display", "cause", "counted_display", "ticket_display", "time_display", "actor_display")
    list_filter = ("cause", "counted")
    list_select_related = ("shop", "ticket", "actor")
    raw_id_fields = ("membership", "shop", "ticket", "actor")
    search_shapes = shop_shapes()
    search_help_text = gettext_lazy("Ticket number (WG…) or shop ID, from the start; or words of the shop name.")
    sortable_by = ("time_display",)

    @admin.display(description=gettext_lazy("counts towards the limit"), boolean=True)
    def counted_display(self, obj):
        return obj.counts

    @admin.display(description=gettext_lazy("by"))
    def actor_display(self, obj):
        return person(obj.actor) or _("Platform (automatic)")
