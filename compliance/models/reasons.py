from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import EventSubject


class ReasonTemplate(models.Model):
    """A reason 常用理由 a reviewer inserts into a decision and edits before
    sending (SPEC §14): per queue and decision, for one rule or for every
    rule. Compliance admins write them; the merchant reads the final text.
    Retired, not deleted: a template no longer offered is inactive."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("approve")
        REJECT = "reject", _("reject")
        CONFIRM = "confirm", _("confirm")
        DISMISS = "dismiss", _("dismiss")

    QUEUES = [(s.value, s.label) for s in (EventSubject.APPEAL, EventSubject.WARNING, EventSubject.QUALIFICATION,
                                            EventSubject.ALLIANCE, EventSubject.PROVIDER_REQUEST)]

    queue = models.CharField(_("queue"), max_length=20, choices=QUEUES)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    rule_code = models.SlugField(_("rule code"), max_length=40, blank=True,
                                 help_text=_("Only for tickets or warnings under this rule; empty: every rule."))
    title = models.CharField(_("title"), max_length=40, help_text=_("What the reviewer picks from the list."))
    text = models.TextField(_("text"), max_length=2000, help_text=_("Inserted into the reason; the reviewer edits "
                                                                     "it before sending, and the merchant reads it."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("reason template")
        verbose_name_plural = _("reason templates")
        ordering = ["queue", "decision", "position", "id"]
        indexes = [models.Index(fields=["queue", "active"], name="reason_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(queue__in=["appeal", "warning", "qualification", "alliance",
                                                          "provider_request"]), name="reason_queue_allowed"),
            models.CheckConstraint(condition=Q(decision__in=["approve", "reject", "confirm", "dismiss"]),
                                   name="reason_decision_allowed"),
        ]

    def __str__(self):
        return self.title
