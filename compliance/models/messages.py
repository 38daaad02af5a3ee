"""The merchant's message centre 站内信 (SPEC §11): every notice the product
sends a merchant is a message here; the e-mail is a copy of it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    class Kind(models.TextChoices):
        TICKET_ISSUED = "ticket_issued", _("Ticket issued")
        APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
        APPEAL_CLOSING = "appeal_closing", _("Appeal window closing")
        QUALIFICATION_REVIEWED = "qualification_reviewed", _("Certificate reviewed")
        NOTICES_OPENED = "notices_opened", _("Rectification notice")
        CERTIFICATES_EXPIRING = "certificates_expiring", _("Certificates expiring")
        ALLIANCE_DECIDED = "alliance_decided", _("Alliance application decided")
        ALLIANCE_CLOSED = "alliance_closed", _("Alliance membership closed")
        WARNINGS_OPENED = "warnings_opened", _("Violation warning")
        WARNING_CLOSING = "warning_closing", _("Warning deadline closing")
        WARNING_DISMISSED = "warning_dismissed", _("Warning dismissed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="messages",
                             verbose_name=_("recipient"))
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="messages", verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="message_inbox"),
            models.Index(fields=["user"], condition=models.Q(read_at=None), name="message_unread"),
        ]

    def __str__(self):
        return self.subject
