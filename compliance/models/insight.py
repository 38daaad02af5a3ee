"""Who changed a rule, a point node or a policy figure, what and why
(issue #14): the compliance admins' change log, append-only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from compliance.wording import labelled

from .base import AppendOnlyModel


class PolicyChange(AppendOnlyModel):
    class Kind(models.TextChoices):
        RULE = "rule", _("Rule (new version)")
        NODE = "node", _("Point node")
        POLICY = "policy", _("Policy figure")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object ID"))
    object_repr = models.CharField(_("what"), max_length=200)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("changed by"))
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("policy change")
        verbose_name_plural = _("policy changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return labelled(self.get_kind_display(), self.object_repr)

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each figure that differs."""
        keys = sorted(set(self.before) | set(self.after))
        return [(k, self.before.get(k), self.after.get(k)) for k in keys if self.before.get(k) != self.after.get(k)]
