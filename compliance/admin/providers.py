"""Renewal assessment in the admin (SPEC §9): campaigns (data), results to
review and confirm, providers' requests."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.models import ProviderRequest, RenewalCampaign, RenewalResult
from compliance.services.providers import provider_request, provider_request_decide, renewal_confirm
from shops.admin_base import BaseModelAdmin, badge, per_request, time_column, truncated
from shops.formats import count

from .claims import ClaimFilter, ClaimQueueMixin
from shops.models import ServiceProvider

CONFIRM = "compliance.confirm_renewal"


@admin.register(RenewalCampaign)
class RenewalCampaignAdmin(BaseModelAdmin):
    list_display = ("name", "certified_before", "period_start", "period_end", "order_threshold", "deposit_required")
    list_select_related = ()
    sortable_by = ("name", "period_start")  # one campaign a year

    def has_delete_permission(self, request, obj=None):
        return False


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=gettext_lazy("I have checked the figures"), required=True)


@admin.register(RenewalResult)
class RenewalResultAdmin(BaseModelAdmin):
    list_display = ("provider_display", "campaign", "result_display", "orders_display", "deposit_ok",
                    "status_display", "confirmed_display")
    list_display_links = None
    list_filter = ("campaign", "passed", "status")
    list_select_related = ("provider", "campaign", "confirmed_by")
    raw_id_fields = ("provider", "campaign", "confirmed_by")
    search_fields = ("provider__name",)
    fields = readonly_fields = ("campaign", "provider", "orders_counted", "deposit_paid", "deposit_ok", "passed",
                                "explanation", "assessed_at", "status", "confirmed_by", "confirmed_at",
                                "published_at")
    confirmed_display = time_column("confirmed_at", gettext_lazy("confirmed at"))

    @admin.display(description=gettext_lazy("paid orders counted"), ordering="orders_counted")
    def orders_display(self, obj):
        return count(obj.orders_counted)

    @admin.display(description=gettext_lazy("provider"))
    @per_request
    def provider_display(self, obj, request):
        view = "confirm" if obj.status == RenewalResult.Status.ASSESSED and request.user.has_perm(CONFIRM) else "change"
        return format_html('<a href="{}">{}</a>', reverse(f"admin:compliance_renewalresult_{view}", args=[obj.pk]),
                           truncated(obj.provider.name, "14em"))

    @admin.display(description=gettext_lazy("result"))
    def result_display(self, obj):
        return badge("approved" if obj.passed else "rejected", _("passed") if obj.passed else _("failed"))

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, obj):
        return obj.get_status_display()

    def has_add_permission(self, request):
        return False  # assess_renewals writes them

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<int:pk>/confirm/", self.admin_site.admin_view(self.confirm_view),
                     name="compliance_renewalresult_confirm"), *super().get_urls()]

    def confirm_view(self, request, pk):
        if not request.user.has_perm(CONFIRM):
            raise PermissionDenied
        result = RenewalResult.objects.select_related("provider", "campaign").filter(pk=pk).first()
        if result is None:
            raise Http404
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                renewal_confirm(result=result, actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Result confirmed.") if result.passed else _(
                    "Failure confirmed: the certification is revoked, the agreement ended and the delisting notice "
                    "published."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_renewalresult_changelist"))
            result.refresh_from_db()
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": _("Confirm renewal result"),
                   "result": result, "form": form,
                   "bindings": result.provider.bindings.select_related("shop").order_by("-starts_on")[:50]}
        return TemplateResponse(request, "admin/compliance/renewalresult/confirm.html", context)


class RecordRequestForm(forms.Form):
    provider = forms.ModelChoiceField(label=gettext_lazy("Provider"), queryset=ServiceProvider.objects.order_by("name"))
    kind = forms.ChoiceField(label=gettext_lazy("Request"), choices=ProviderRequest.Kind.choices)
    special_case = forms.BooleanField(label=gettext_lazy("Special case"), required=False, help_text=gettext_lazy(
        "Accept a new application within the lock-out after a revocation."))
    note = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           max_length=2000)


class DecideRequestForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000, help_text=gettext_lazy("Required for a rejection."))


@admin.register(ProviderRequest)
class ProviderRequestAdmin(ClaimQueueMixin, BaseModelAdmin):
    claim_subject = ProviderRequest.EVENT_SUBJECT
    list_display = ("provider_display", "kind", "status", "special_case", "submitted_display", "holder_display")
    list_display_links = None
    list_filter = (ClaimFilter, "kind", "status")
    list_select_related = ("provider", "decided_by")
    raw_id_fields = ("provider", "decided_by")
    fields = readonly_fields = ("provider", "kind", "status", "special_case", "note", "submitted_at", "decided_by",
                                "decided_at", "decision_reason")
    submitted_display = time_column("submitted_at", gettext_lazy("submitted at"))

    @admin.display(description=gettext_lazy("provider"))
    def provider_display(self, obj):
        view = "decide" if obj.status == ProviderRequest.Status.PENDING else "change"
        return format_html('<a href="{}">{}</a>', reverse(f"admin:compliance_providerrequest_{view}", args=[obj.pk]),
                           truncated(obj.provider.name, "14em"))

    def has_add_permission(self, request):
        return False  # recorded through the record view, which applies the lock-out

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("record/", wrap(self.record_view), name="compliance_providerrequest_record"),
                path("<int:pk>/decide/", wrap(self.decide_view), name="compliance_providerrequest_decide"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"may_record": request.user.has_perm(CONFIRM)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def _page(self, request, title, form, **extra):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, "form": form, **extra}
        return TemplateResponse(request, "admin/compliance/providerrequest/form.html", context)

    def record_view(self, request):
        if not request.user.has_perm(CONFIRM):
            raise PermissionDenied
        form = RecordRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                provider_request(provider=data["provider"], kind=data["kind"], actor=request.user, note=data["note"],
                                 special_case=data["special_case"])
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Request recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_providerrequest_changelist"))
        return self._page(request, _("Record a provider's request"), form)

    def decide_view(self, request, pk):
        if not request.user.has_perm(CONFIRM):
            raise PermissionDenied
        item = ProviderRequest.objects.select_related("provider").filter(pk=pk).first()
        if item is None:
            raise Http404
        form = DecideRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                provider_request_decide(request=item, approve=form.cleaned_data["decision"] == "approve",
                                        reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Decision recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_providerrequest_changelist"))
        return self._page(request, _("Decide provider request"), form, item=item,
                          **self.decide_context(request, item.pk,
                                                waiting=item.status == ProviderRequest.Status.PENDING))
