"""Reason templates 常用理由 (SPEC §14): compliance admins write them; each
decide page offers its queue's, to insert into the reason and edit."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from compliance.models import ReasonTemplate
from compliance.selectors.reasons import reason_templates
from shops.admin_base import BaseModelAdmin, truncated


@admin.register(ReasonTemplate)
class ReasonTemplateAdmin(BaseModelAdmin):
    list_display = ("title", "queue", "decision", "rule_display", "text_display", "position", "active")
    list_filter = ("queue", "decision", "active")
    list_select_related = ()
    sortable_by = ()
    fields = ("queue", "decision", "rule_code", "title", "text", "position", "active")

    @admin.display(description=gettext_lazy("rule"))
    def rule_display(self, obj):
        return obj.rule_code or gettext_lazy("every rule")

    @admin.display(description=gettext_lazy("text"))
    def text_display(self, obj):
        return truncated(obj.text, "24em")

    def has_delete_permission(self, request, obj=None):
        return False  # retired by unticking "offered": decisions made with it stay explained


def reasons_context(queue: str, rule_code: str = "") -> dict:
    """A decide page's templates (``admin/compliance/_reasons.html``)."""
    return {"reason_templates": reason_templates(queue, rule_code)}
