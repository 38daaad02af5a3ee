"""Violation warnings and integrations in the admin (SPEC §11, §12): the
reviewers' queue with one decision or many after a preview, and the
compliance admins' API keys."""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.models import Integration, IntegrationCall, Job, Scope, ViolationWarning, WarningAnswerFile
from compliance.models.warnings import QUEUE_ORDER
from compliance.selectors.warnings import warnings_to_decide
from compliance.services.integrations import integration_revoke, key_issue
from compliance.services.warnings import (
    warning_decide, warnings_decide_many, warnings_decision_preview, warnings_preview,
)
from shops.admin_base import (
    BaseModelAdmin, SearchShape, per_request, shop_label, shops_named, status_column, time_column, time_left, truncated,
    valid_pk,
)
from shops.uploads import attachment_response, preview_response
from compliance.wording import labelled

from .base import EvidenceInline, ReadOnlyAdmin, start_job
from .claims import ClaimFilter, ClaimQueueMixin
from .filters import rule_filter

DECIDE = "compliance.decide_warning"
MAX_BATCH = 100


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("confirm", gettext_lazy("Confirm: issue the ticket")),
        ("dismiss", gettext_lazy("Dismiss: no ticket")),
    ])
    orders = forms.MultipleChoiceField(label=gettext_lazy("Confirmed orders"), required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=gettext_lazy("Each confirmed order is charged (SPEC §11)."))
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000, help_text=gettext_lazy("Required to dismiss; the merchant reads it."))

    def __init__(self, *args, warning, **kwargs):
        super().__init__(*args, **kwargs)
        if warning.tier.per_order and warning.order_nos:
            self.fields["orders"].choices = [(n, n) for n in warning.order_nos]
            self.fields["orders"].initial = list(warning.order_nos)
        else:
            del self.fields["orders"]


class ManyForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000)

    def __init__(self, *args, confirm: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = (
            gettext_lazy("Optional: recorded with each confirmation.") if confirm
            else gettext_lazy("Required to dismiss; every merchant concerned reads it."))


class AnswerFileInline(EvidenceInline):
    model = WarningAnswerFile
    verbose_name_plural = gettext_lazy("the merchant's files")

    def download_url(self, obj):
        return reverse("admin:compliance_violationwarning_file", args=[obj.warning_id, obj.pk])


@admin.register(ViolationWarning)
class ViolationWarningAdmin(ClaimQueueMixin, BaseModelAdmin):
    """Answered (or put right) first, then those whose time is up, then
    those the merchant can still answer; soonest deadline first."""

    claim_subject = ViolationWarning.EVENT_SUBJECT
    # The detector is a filter (and on the warning's page): the row keeps its width for the deadline,
    # who handles it and when it came in (1280 px, issue #23).
    list_display = ("number_link", "status_display", "shop_display", "rule_display", "deadline_display",
                    "holder_display", "received_display")
    list_display_links = None
    list_filter = (ClaimFilter, "status", rule_filter("rule"), "integration")
    list_select_related = ("shop", "rule", "integration", "decided_by")
    search_shapes = (
        SearchShape(r"YJ[0-9A-Z]*", ("number__startswith",)),
        SearchShape(r"\d{1,20}", ("shop__shop_no__startswith",)),
        SearchShape(r".+", (shops_named("shop"),), normalise=False),
    )
    search_help_text = gettext_lazy("Warning number (YJ…) or shop ID, from the start; or words of the shop name.")
    sortable_by = ()  # the queue's own order (deadline within each group) is the useful one
    raw_id_fields = ("shop", "rule", "tier", "integration", "answered_by", "decided_by", "ticket")
    inlines = [AnswerFileInline]
    actions = ["confirm_selected", "dismiss_selected"]
    fields = readonly_fields = (
        "number", "shop", "rule", "tier", "integration", "report_id", "summary", "detected_at", "received_at",
        "deadline", "status", "answer", "answered_by", "answered_at", "decided_by", "decided_at", "decision_reason",
        "ticket")
    status_display = status_column(gettext_lazy("status"), prefix="warning-")
    received_display = time_column("received_at", gettext_lazy("received at"))

    def get_queryset(self, request):
        queryset = self.model._default_manager.get_queryset().annotate(queue=QUEUE_ORDER)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["queue", "deadline", "id"]

    @admin.display(description=gettext_lazy("warning number"))
    @per_request
    def number_link(self, obj, request):
        decide = request.user.has_perm(DECIDE) and obj.decidable(timezone.now())
        url = reverse("admin:compliance_violationwarning_decide" if decide else
                      "admin:compliance_violationwarning_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop, "9em")

    @admin.display(description=gettext_lazy("rule"))
    def rule_display(self, obj):
        return truncated(obj.rule.name, "9em")

    @admin.display(description=gettext_lazy("answer by"))
    def deadline_display(self, obj):
        # SPEC §14: the queue's target is the merchant's deadline, as the time left while it runs.
        return time_left(obj.deadline, pending=obj.status == ViolationWarning.Status.OPEN)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(DECIDE):
            actions.pop("confirm_selected", None)
            actions.pop("dismiss_selected", None)
        return actions

    def _many(self, queryset, decision):
        ids = list(queryset.values_list("pk", flat=True)[:MAX_BATCH + 1])
        if len(ids) > MAX_BATCH:
            return None
        url = reverse("admin:compliance_violationwarning_decide_many")
        return HttpResponseRedirect(url + "?" + urlencode({"ids": ",".join(map(str, ids)), "decision": decision}))

    @admin.action(description=gettext_lazy("Confirm the selected warnings (preview first)"))
    def confirm_selected(self, request, queryset):
        return self._many(queryset, "confirm") or self.message_user(
            request, _("Choose at most %(n)d warnings at a time.") % {"n": MAX_BATCH}, messages.ERROR)

    @admin.action(description=gettext_lazy("Dismiss the selected warnings (preview first)"))
    def dismiss_selected(self, request, queryset):
        return self._many(queryset, "dismiss") or self.message_user(
            request, _("Choose at most %(n)d warnings at a time.") % {"n": MAX_BATCH}, messages.ERROR)

    def has_add_permission(self, request):
        return False  # detectors send warnings through the API

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the decide views

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("decide/", wrap(self.decide_many_view), name="compliance_violationwarning_decide_many"),
            path("<int:pk>/decide/", wrap(self.decide_view), name="compliance_violationwarning_decide"),
            path("<int:pk>/file/<int:file_pk>/", wrap(self.file_view), name="compliance_violationwarning_file"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        warning = self.get_object(request, object_id)
        extra = {"may_decide": bool(warning and request.user.has_perm(DECIDE)
                                    and warning.decidable(timezone.now())),
                 "w": warning}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _warning(self, request, pk):
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        warning = (ViolationWarning.objects.select_related("shop__controller", "rule", "tier", "integration",
                                                           "answered_by", "decided_by", "ticket")
                   .filter(pk=pk).first())
        if warning is None:
            raise Http404
        return warning

    def decide_view(self, request, pk):
        warning = self._warning(request, pk)
        form = DecideForm(request.POST or None, warning=warning)
        if request.method == "POST" and form.is_valid():
            confirm = form.cleaned_data["decision"] == "confirm"
            try:
                warning = warning_decide(warning=warning, actor=request.user, confirm=confirm,
                                         reason=form.cleaned_data["reason"],
                                         order_nos=form.cleaned_data.get("orders") if "orders" in form.fields else None)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                if confirm:
                    self.message_user(request, _("Warning confirmed: ticket %(number)s issued; the merchant is told.")
                                      % {"number": warning.ticket.number}, messages.SUCCESS)
                else:
                    self.message_user(request, _("Warning dismissed; the merchant is told."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_violationwarning_changelist"))
            warning = self._warning(request, pk)
        now = timezone.now()
        preview = warnings_preview(warnings=[warning], actor=request.user, now=now) if warning.decidable(now) else []
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": _("Decide warning %(number)s")
            % {"number": warning.number}, "w": warning, "form": form, "effects": preview,
            "decidable": warning.decidable(now), "files": warning.files.all(), "products": warning.products.all(),
            **self.decide_context(request, warning.pk, waiting=warning.decidable(now), rule_code=warning.rule.code),
        }
        return TemplateResponse(request, "admin/compliance/violationwarning/decide.html", context,
                                status=400 if request.method == "POST" else 200)

    def decide_many_view(self, request):
        """The preview of a bulk decision, per shop, then one submission."""
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        params = request.POST if request.method == "POST" else request.GET
        raw = [v for v in params.get("ids", "").split(",") if v.strip()]
        decision = params.get("decision")
        changelist = reverse("admin:compliance_violationwarning_changelist")
        if (decision not in ("confirm", "dismiss") or not raw or len(raw) > MAX_BATCH
                or not all(valid_pk(ViolationWarning, v) for v in raw)):
            self.message_user(request, _("Choose the warnings again (at most %(n)d).") % {"n": MAX_BATCH},
                              messages.ERROR)
            return HttpResponseRedirect(changelist)
        warnings = warnings_to_decide(raw)
        confirm = decision == "confirm"
        form = ManyForm(request.POST or None, confirm=confirm)
        # More than a page should wait for (~30 statements a warning): the preview and the decision are jobs.
        as_job = len(warnings) > settings.BULK_IN_REQUEST_ITEMS
        if request.method == "POST" and form.is_valid():
            if not confirm and not form.cleaned_data["reason"].strip():
                form.add_error("reason", _("Give a reason for dismissing the warnings: the merchants read it."))
            elif as_job:
                return start_job(request, kind=Job.Kind.WARNING_DECISION, title=str(len(warnings)),
                                 params={"ids": [w.pk for w in warnings], "decision": decision,
                                         "reason": form.cleaned_data["reason"]})
            else:
                done, refused = warnings_decide_many(warnings=warnings, actor=request.user, confirm=confirm,
                                                     reason=form.cleaned_data["reason"])
                for warning, message in refused:
                    self.message_user(request, labelled(warning.number, message), messages.ERROR)
                if done:
                    text = (_("%(n)d warnings confirmed; tickets issued.") if confirm
                            else _("%(n)d warnings dismissed.")) % {"n": len(done)}
                    self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(changelist)
        if as_job and request.method == "POST":
            # The form came from a preview job's page: back to it, with what is missing.
            for errors in form.errors.values():
                self.message_user(request, " ".join(errors), messages.ERROR)
            own = Job.objects.filter(pk=request.POST.get("job") if valid_pk(Job, request.POST.get("job", ""))
                                     else None, user=request.user).first()
            return HttpResponseRedirect(reverse("admin:job", args=[own.pk]) if own else changelist)
        if as_job:
            return start_job(request, kind=Job.Kind.WARNING_PREVIEW, title=str(len(warnings)),
                             params={"ids": [w.pk for w in warnings], "decision": decision})
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form,
            "title": _("Confirm warnings") if confirm else _("Dismiss warnings"),
            "ids": ",".join(str(w.pk) for w in warnings), "decision": decision,
            **warnings_decision_preview(warnings=warnings, actor=request.user, confirm=confirm, now=timezone.now()),
        }
        return TemplateResponse(request, "admin/compliance/violationwarning/decide_many.html", context,
                                status=400 if request.method == "POST" else 200)

    def file_view(self, request, pk, file_pk):
        if not request.user.has_perm("compliance.view_warninganswerfile"):
            raise PermissionDenied
        item = WarningAnswerFile.objects.filter(pk=file_pk, warning_id=pk).first()
        if item is None:
            raise Http404
        serve = preview_response if request.GET.get("inline") == "1" else attachment_response
        return serve(item.file, download_stem=f"{item.warning.number}-{item.pk}")


# Integrations --------------------------------------------------------------------------------------

class IntegrationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=capfirst(gettext_lazy("scopes")), choices=Scope.choices,
                                       widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = Integration
        fields = ("name", "description", "scopes", "requests_per_minute")


@admin.register(Integration)
class IntegrationAdmin(BaseModelAdmin):
    """Keys are made here and shown once; a key is revoked, never deleted
    (its calls and warnings keep naming it)."""

    form = IntegrationForm
    list_display = ("name", "active_display", "key_display", "scopes_display", "limit_display", "created_display")
    list_filter = ("is_active",)
    list_select_related = ()
    sortable_by = ("name",)  # unique: indexed
    search_fields = ("name",)
    readonly_fields = ("key_display", "active_display", "created_by", "created_at", "revoked_by", "revoked_at")
    created_display = time_column("created_at", gettext_lazy("created at"))

    @admin.display(description=gettext_lazy("active"), boolean=True)
    def active_display(self, obj):
        return obj.is_active

    @admin.display(description=gettext_lazy("key starts with"))
    def key_display(self, obj):
        return f"{obj.key_prefix}…" if obj.key_prefix else "—"

    @admin.display(description=gettext_lazy("scopes"))
    def scopes_display(self, obj):
        labels = dict(Scope.choices)
        return truncated(_(", ").join(str(labels.get(s, s)) for s in obj.scopes or []) or "—", "22em")

    @admin.display(description=gettext_lazy("requests per minute"))
    def limit_display(self, obj):
        return obj.rate_limit

    def get_fields(self, request, obj=None):
        fields = ["name", "description", "scopes", "requests_per_minute"]
        return fields if obj is None else fields + list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            # Kept on this request only (one admin instance serves every request).
            request.issued_api_key = key_issue(obj, actor=request.user)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        """The key once, on this page; it is not stored and not sent anywhere."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": _("API key created"),
                   "integration": obj, "key": request.issued_api_key}
        return TemplateResponse(request, "admin/compliance/integration/key.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        integration = self.get_object(request, object_id)
        extra = {"may_revoke": bool(integration and integration.is_active
                                    and request.user.has_perm("compliance.revoke_integration"))}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        return [path("<int:pk>/revoke/", self.admin_site.admin_view(self.revoke_view),
                     name="compliance_integration_revoke"), *super().get_urls()]

    def revoke_view(self, request, pk):
        if not request.user.has_perm("compliance.revoke_integration"):
            raise PermissionDenied
        integration = Integration.objects.filter(pk=pk).first()
        if integration is None:
            raise Http404
        if request.method == "POST":
            if integration_revoke(integration=integration, actor=request.user):
                self.message_user(request, _("Key of %(name)s revoked: calls with it are refused from now on.")
                                  % {"name": integration.name}, messages.SUCCESS)
            else:
                self.message_user(request, _("This key was already revoked."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:compliance_integration_change", args=[pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "integration": integration,
                   "title": _("Revoke the key of %(name)s") % {"name": integration.name},
                   "recent": integration.calls.order_by("-created_at")[:1]}
        return TemplateResponse(request, "admin/compliance/integration/revoke.html", context)


class CallOutcomeFilter(admin.SimpleListFilter):
    """Fixed choices: a DISTINCT over the call log would read all of it."""

    title = gettext_lazy("outcome")
    parameter_name = "outcome"
    RANGES = {"ok": (200, 299), "throttled": (429, 429)}

    def lookups(self, request, model_admin):
        return [("ok", gettext_lazy("Succeeded (2xx)")), ("refused", gettext_lazy("Refused (4xx)")),
                ("throttled", gettext_lazy("Over the rate limit (429)"))]

    def queryset(self, request, queryset):
        if self.value() == "refused":
            return queryset.filter(status__gte=400, status__lte=499).exclude(status=429)
        if self.value() in ("ok", "throttled"):
            low, high = self.RANGES[self.value()]
            return queryset.filter(status__gte=low, status__lte=high)
        return queryset


@admin.register(IntegrationCall)
class IntegrationCallAdmin(ReadOnlyAdmin):
    list_display = ("time_display", "integration", "method", "path_display", "status", "rows", "rows_rejected")
    list_filter = ("integration", CallOutcomeFilter)
    list_select_related = ("integration",)
    raw_id_fields = ("integration",)
    sortable_by = ("time_display",)

    @admin.display(description=gettext_lazy("path"))
    def path_display(self, obj):
        return truncated(obj.path, "20em")

    def get_ordering(self, request):
        return ["-created_at", "-id"]


