"""Policy insight in the admin (issue #14): decision quality, the change log,
and the preview every rule, node and policy edit offers before it is saved."""

import csv
import io

from django import forms
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.models import PolicyChange, PolicySettings
from compliance.selectors.insight import BY, decision_quality, quality_year
from compliance.wording import labelled, person
from shops.admin_base import truncated

from .base import ReadOnlyAdmin

INSIGHT = "compliance.view_insight"


class ChangeReasonMixin(forms.Form):
    """A change to a rule, node or policy figure says why (the change log)."""

    change_reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        help_text=gettext_lazy("Recorded in the change log with who changed what."))


def with_reason(model_form):
    """The admin's ModelForm with the reason field added."""
    return type(model_form.__name__, (model_form,), {
        "change_reason": ChangeReasonMixin.base_fields["change_reason"]})


def carried_fields(request) -> list[tuple[str, str]]:
    """The change form's data as submitted, to carry to its save."""
    return [(key, value) for key, values in request.POST.lists() if key not in ("csrfmiddlewaretoken", "_preview")
            for value in values]


def preview_page(request, model_admin, *, title, result, obj, save_url, extra=None):
    """The preview's page: the effect, the data as submitted (hidden) and a
    button that saves it to the change form's URL."""
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, "title": title,
               "result": result, "original": obj, "carried": carried_fields(request), "save_url": save_url,
               **(extra or {})}
    return TemplateResponse(request, "admin/compliance/insight/preview.html", context)


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_display", "kind", "what_display", "changes_display", "by_display", "reason_display")
    list_filter = ("kind",)
    list_select_related = ("changed_by",)
    search_fields = ("object_repr",)
    sortable_by = ("changed_display",)
    fields = readonly_fields = ("kind", "object_repr", "before", "after", "reason", "changed_by", "changed_at")

    @admin.display(description=gettext_lazy("changed at"), ordering="changed_at")
    def changed_display(self, obj):
        return timezone.localtime(obj.changed_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=gettext_lazy("what"))
    def what_display(self, obj):
        return truncated(obj.object_repr, "12em")

    @admin.display(description=gettext_lazy("figures changed"))
    def changes_display(self, obj):
        return truncated("; ".join(labelled(k, f"{a} → {b}") for k, a, b in obj.changes) or "—", "20em")

    @admin.display(description=gettext_lazy("by"))
    def by_display(self, obj):
        return person(obj.changed_by)

    @admin.display(description=gettext_lazy("reason"))
    def reason_display(self, obj):
        return truncated(obj.reason, "14em")


# Decision quality ----------------------------------------------------------------------------------

class Chart:
    """Bars of the overturn rate per row, with the overall rate as a line,
    drawn by the template as SVG."""

    WIDTH, ROW, LABEL = 580, 22, 180

    def __init__(self, quality):
        rows = quality.rows[:30]
        top = max([r.overturn_rate for r in rows] + [quality.total.overturn_rate, 0.01])
        scale = (self.WIDTH - self.LABEL - 60) / top
        self.height = self.ROW * len(rows) + 30
        self.bars = [{"row": r, "y": i * self.ROW + 4, "w": round(r.overturn_rate * scale, 1),
                      "text_x": self.LABEL + round(r.overturn_rate * scale, 1) + 6} for i, r in enumerate(rows)]
        self.overall_x = self.LABEL + round(quality.total.overturn_rate * scale, 1)
        self.label_x, self.width = self.LABEL, self.WIDTH


def quality_view(admin_site):
    def view(request):
        if not request.user.has_perm(INSIGHT):
            raise PermissionDenied
        by = request.GET.get("by") if request.GET.get("by") in BY else "rule"
        quality = cached_quality(quality_year(request.GET.get("year")), by, fresh=request.GET.get("fresh") == "1")
        if request.GET.get("format") == "csv":
            return _csv(quality)
        context = {**admin_site.each_context(request), "title": _("Decision quality"), "q": quality,
                   "chart": Chart(quality), "years": list(range(timezone.localdate().year, 2019, -1)),
                   "choices": [("rule", _("by rule")), ("reviewer", _("by reviewer")), ("month", _("by month"))]}
        return TemplateResponse(request, "admin/compliance/insight/quality.html", context)

    return view


QUALITY_SECONDS = 600


def cached_quality(year: int, by: str, *, fresh: bool = False):
    """The report aggregates a year of tickets (about 2 s at a million): it is
    kept for ten minutes and says when it was computed; ``fresh`` recomputes."""
    policy = PolicySettings.load()
    # Labels (rule names, months) are in the active language: the key names it.
    key = f"decision-quality:{year}:{by}:{policy.updated_at.timestamp()}:{get_language()}"
    quality = None if fresh else cache.get(key)
    if quality is None:
        quality = decision_quality(year=year, by=by)
        quality.computed_at = timezone.now()
        cache.set(key, quality, QUALITY_SECONDS)
    return quality


def _csv(quality) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([quality.by, "label", "issued", "appealed", "overturned", "revoked", "overturn_rate",
                     "appeals_decided", "decided_within_target", "median_hours_to_decision",
                     "p90_hours_to_decision", "flagged"])
    for row in [*quality.rows, quality.total]:
        writer.writerow([row.key, row.label, row.issued, row.appealed, row.overturned, row.revoked,
                         f"{row.overturn_rate:.4f}", row.decisions, row.within_target, row.median_hours,
                         row.p90_hours, int(row.flagged)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="decision-quality-{quality.year}-{quality.by}.csv"'
    return response
