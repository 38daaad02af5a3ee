from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms import ModelForm
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from shops.admin_base import BaseModelAdmin, truncated
from compliance.wording import labelled

from ..exceptions import DomainError
from ..models import Job, PointNode, PolicyChange, PolicySettings, Rule, RuleTier
from ..services.catalogue import (
    node_create, node_revise, policy_change, record_change, rule_figures, rule_revise,
)
from ..selectors.insight import policy_change_preview
from ..services.jobs import PreviewJob, serialize_objects
from .base import start_job
from .insight import INSIGHT, carried_fields, preview_page, with_reason


class PreviewMixin:
    """A change form that offers "preview the effect" (issue #14): the
    button posts the form to ``preview/``, which checks it like the save
    would, computes the effect and saves nothing; its page carries the data
    to the change form's save. A reason is asked for every change."""

    preview_title = _("Effect of the change")
    change_form_template = "admin/compliance/insight/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("form", with_reason(self.form if self.form is not ModelForm else ModelForm))
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        named = [f for _name, opts in fieldsets for f in opts["fields"] for f in (f if isinstance(f, tuple) else (f,))]
        editable = self.has_change_permission(request, obj) if obj is not None else self.has_add_permission(request)
        if "change_reason" not in named and editable:  # a read-only page asks no reason (nor shows "None")
            fieldsets.append((_("Change"), {"fields": ["change_reason"]}))
        return fieldsets

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [path("preview/", self.admin_site.admin_view(require_POST(self.preview_view)),
                     name="%s_%s_preview" % info), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        info = self.opts.app_label, self.opts.model_name
        context["preview_url"] = reverse("admin:%s_%s_preview" % info) + (f"?pk={obj.pk}" if obj else "")
        context["may_preview"] = request.user.has_perm(INSIGHT)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # refused by the service after the form's checks
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def preview_view(self, request):
        if not request.user.has_perm(INSIGHT):
            raise PermissionDenied
        pk = request.GET.get("pk", "")
        obj = self.get_object(request, pk) if pk else None
        if pk and obj is None:
            raise Http404
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        valid = form.is_valid() or set(form.errors) == {"change_reason"}  # the reason is asked for on saving
        save_url = (reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]) if obj
                    else reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_add"))
        extra_valid, result = self.preview_effect(request, form, obj) if valid else (False, None)
        if valid and extra_valid and isinstance(result, PreviewJob):
            # A replay of the year takes seconds at platform scale: a job runs it (SPEC §10), its page
            # follows it and then shows the effect with the save button, as this page does.
            return start_job(request, kind=result.kind, title=str(obj or form.instance),
                             params={**result.params, "carried": carried_fields(request), "save_url": save_url,
                                     "reason": request.POST.get("change_reason", "")})
        errors = [] if valid and extra_valid else [labelled(form.fields[k].label if k in form.fields else k, ' '.join(v))
                                                   for k, v in form.errors.items() if k != "change_reason"]
        if valid and not extra_valid and not errors:
            errors = [gettext("Correct the tiers: some of their figures are not valid.")]
        return preview_page(request, self, title=self.preview_title, result=result, obj=obj, save_url=save_url,
                            extra={"errors": errors, "reason": request.POST.get("change_reason", ""),
                                   "kind": self.preview_kind})


@admin.register(PolicySettings)
class PolicySettingsAdmin(PreviewMixin, BaseModelAdmin):
    """One row, created by the migration; edited, never added or deleted."""

    list_display = ("__str__", "reentry_wait_months", "upload_max_mb", "appeal_decision_working_days",
                    "appeal_statement_max_chars", "updated_at")
    list_select_related = ()
    readonly_fields = ("updated_at",)
    preview_kind = "policy"

    def preview_effect(self, request, form, obj):
        return True, policy_change_preview(PolicySettings.objects.get(pk=obj.pk), form.instance)

    def save_model(self, request, obj, form, change):
        policy_change(changed=obj, actor=request.user, reason=form.cleaned_data["change_reason"])

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
class RuleAdmin(PreviewMixin, BaseModelAdmin):
    """A saved change is a new version of the rule (SPEC §5): tickets keep
    the version they were issued under."""

    preview_kind = "rule"

    list_display = ("code", "version", "name_zh_display", "name_en_display", "alliance_serious",
                    "appeal_window_days", "appeal_chances", "effective_display")
    list_filter = ("alliance_serious", "is_qualification_rule")
    list_select_related = ()
    sortable_by = ("code", "version", "name_zh_display", "name_en_display", "effective_display")  # a few dozen rows
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

    def preview_effect(self, request, form, obj):
        if obj is None:
            return True, None  # a new rule has no tickets yet
        formsets, _inlines = self._create_formsets(request, form.instance, change=True)
        if not all(formset.is_valid() for formset in formsets):
            return False, None
        return True, PreviewJob(Job.Kind.RULE_PREVIEW, {"rule_code": obj.code,
                                                         "objects": serialize_objects(self._tiers(formsets))})

    @staticmethod
    def _tiers(formsets) -> list:
        return [f.instance for formset in formsets for f in formset.forms
                if f.has_changed() or f.instance.pk]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        # A change is saved with the tiers, as a new version (save_related).

    def save_related(self, request, form, formsets, change):
        if not change:
            super().save_related(request, form, formsets, change)
            record_change(kind=PolicyChange.Kind.RULE, obj=form.instance, before={},
                          after=rule_figures(form.instance, form.instance.tiers.all()),
                          reason=form.cleaned_data["change_reason"], actor=request.user)
            return
        changed = [f for f in form.changed_data if f != "change_reason"]
        if not changed and not any(f.has_changed() for formset in formsets for f in formset.forms):
            return  # nothing to version
        saved = Rule.objects.get(pk=form.instance.pk)
        starts = form.cleaned_data.get("effective_from") if "effective_from" in changed else None
        # The new version is this request's (one admin instance serves every request).
        request.rule_revised = rule_revise(saved=saved, changed=form.instance, tiers=self._tiers(formsets),
                                           actor=request.user, reason=form.cleaned_data["change_reason"],
                                           effective_from=starts)

    def construct_change_message(self, request, form, formsets, add=False):
        # A change saved no tier in place (the new version has copies): describe the form only.
        return super().construct_change_message(request, form, formsets if add else [], add)

    def response_change(self, request, obj):
        new = getattr(request, "rule_revised", None)
        if new is None:
            return super().response_change(request, obj)
        self.message_user(request, gettext("Saved as version %(v)d, in effect from %(day)s; tickets already issued "
                                           "keep the version they were issued under.")
                          % {"v": new.version, "day": new.effective_from.isoformat()}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:compliance_rule_change", args=[new.pk]))


@admin.register(PointNode)
class PointNodeAdmin(PreviewMixin, BaseModelAdmin):
    list_display = ("violation_class", "threshold", "suspend_days", "deposit_amount", "clear_shop", "is_active",
                    "replaced_by")
    list_filter = ("violation_class", "is_active")
    list_select_related = ("replaced_by",)
    sortable_by = ("violation_class", "threshold")  # a handful of rows
    preview_kind = "node"

    def preview_effect(self, request, form, obj):
        return True, PreviewJob(Job.Kind.NODE_PREVIEW, {"pk": obj.pk if obj else None,
                                                         "objects": serialize_objects([form.instance])})

    readonly_fields = ("replaced_by",)

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data["change_reason"]
        if change:
            request.node_saved_as = node_revise(saved=PointNode.objects.get(pk=obj.pk), changed=obj,
                                                actor=request.user, reason=reason)
        else:
            node_create(node=obj, actor=request.user, reason=reason)

    def response_change(self, request, obj):
        saved = getattr(request, "node_saved_as", None)
        if saved is None or saved.pk == obj.pk:
            return super().response_change(request, obj)
        self.message_user(request, gettext("Saved as a new node; the old one stays with the shops that reached "
                                           "it and is no longer applied."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:compliance_pointnode_change", args=[saved.pk]))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("replaced_by")

    def has_delete_permission(self, request, obj=None):
        return False
