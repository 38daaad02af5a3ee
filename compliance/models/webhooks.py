"""Outbound events' subscriptions (SPEC §13): an integration's receiver URL,
the event types it wants and the secret its deliveries are signed with."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import EventAction, EventSubject, Workflow, transitions
from .warnings import Integration

# The event types of SPEC §13, in its order: what a subscription may ask for.
EVENT_TYPE_LABELS = {
    "ticket.issued": _("Ticket issued"),
    "ticket.final": _("Ticket became final"),
    "ticket.revoked": _("Ticket revoked"),
    "measure.started": _("Measure started (delisting, suspension, clearance …)"),
    "measure.lifted": _("Measure lifted"),
    "deposit.deducted": _("Deposit deducted"),
    "deposit.refunded": _("Deposit refunded"),
    "appeal.submitted": _("Appeal submitted"),
    "appeal.decided": _("Appeal decided"),
    "warning.opened": _("Violation warning opened"),
    "warning.confirmed": _("Violation warning confirmed"),
    "warning.dismissed": _("Violation warning dismissed"),
    "certificate.expired": _("Certificate expired"),
    "notice.overdue": _("Rectification notice overdue"),
    "alliance.activated": _("Selected Alliance membership activated"),
    "alliance.closed": _("Selected Alliance membership closed"),
    "provider.delisted": _("Service provider delisted"),
}
EVENT_TYPES = list(EVENT_TYPE_LABELS)
# After a rotation the old secret still signs, beside the new one, this long.
ROTATION_OVERLAP = datetime.timedelta(hours=24)


class WebhookSubscription(Workflow, models.Model):
    """Where an integration (scope ``webhooks``) wants the product's events
    sent. The secret is shown once, when the subscription is made or the
    secret replaced; it is kept to sign with and never shown again."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        DELETED = "deleted", _("deleted")

    TRANSITIONS = transitions(
        ((Status.ACTIVE, Status.PAUSED), EventAction.WEBHOOK_PAUSED),
        ((Status.PAUSED, Status.ACTIVE), EventAction.WEBHOOK_RESUMED),
        ((Status.ACTIVE, Status.DELETED), EventAction.WEBHOOK_DELETED),
        ((Status.PAUSED, Status.DELETED), EventAction.WEBHOOK_DELETED),
    )
    EVENT_SUBJECT = EventSubject.WEBHOOK

    integration = models.ForeignKey(Integration, models.PROTECT, related_name="webhooks",
                                    verbose_name=_("integration"))
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("event types"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    secret = models.CharField(max_length=64, editable=False)
    previous_secret = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(_("old secret signs until"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["integration", "status"], name="webhook_integration")]

    def __str__(self):
        return self.url

    def signing_secrets(self, now: datetime.datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and
        the one it replaced for ``ROTATION_OVERLAP`` after the rotation."""
        honoured = self.previous_secret and self.previous_secret_until and now < self.previous_secret_until
        return [self.secret, self.previous_secret] if honoured else [self.secret]
