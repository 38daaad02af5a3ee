"""The reason templates 常用理由 a decide page offers (SPEC §14)."""

from compliance.models import ReasonTemplate


def reason_templates(queue: str, rule_code: str = "") -> list[ReasonTemplate]:
    """The queue's active templates for the item's rule and for every rule:
    by decision, the rule's own first, then in the admins' order."""
    found = ReasonTemplate.objects.filter(queue=queue, active=True, rule_code__in={"", rule_code or ""})
    return sorted(found, key=lambda t: (t.decision, t.rule_code == "", t.position, t.pk))
