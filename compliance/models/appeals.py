"""Merchants' appeals against tickets (SPEC §7)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.uploads import DocumentField, DocumentInfoMixin, PrivateUploadTo

from .base import EventAction, EventSubject, Workflow, transitions


# Pending appeals first: the appeal queue orders by this, and an index on the
# same expression serves that order.
QUEUE_ORDER = models.Case(models.When(status="pending", then=models.Value(0)), default=models.Value(1),
                          output_field=models.IntegerField())


class Appeal(Workflow, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS = transitions(((Status.PENDING, Status.APPROVED), EventAction.APPEAL_APPROVED),
                              ((Status.PENDING, Status.REJECTED), EventAction.APPEAL_REJECTED))
    EVENT_SUBJECT = EventSubject.APPEAL

    ticket = models.ForeignKey("compliance.Ticket", models.PROTECT, related_name="appeals", verbose_name=_("ticket"))
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    reason = models.CharField(_("reason"), max_length=200)
    statement = models.TextField(_("statement"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    due_at = models.DateTimeField(_("decision due"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-submitted_at", "-id"]
        permissions = [("decide_appeal", _("Can decide appeals"))]
        indexes = [
            models.Index(fields=["status", "due_at"], name="appeal_queue"),
            # The queue's order: pending first, then by decision date (admin.appeals.AppealAdmin).
            models.Index(QUEUE_ORDER, "due_at", "id", name="appeal_pending_first"),
        ]
        constraints = [
            # SPEC §7: one open appeal per ticket, guarded by the database.
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="pending"),
                                    name="appeal_one_open_per_ticket"),
            models.UniqueConstraint(fields=["ticket", "attempt"], name="appeal_ticket_attempt_unique"),
            models.CheckConstraint(condition=Q(status__in=["pending", "approved", "rejected"]),
                                   name="appeal_status_allowed"),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="appeal_decision_has_time_and_reason",
            ),
        ]

    def __str__(self):
        return f"{self.ticket.number} #{self.attempt}"


class AppealEvidence(DocumentInfoMixin, models.Model):
    appeal = models.ForeignKey(Appeal, models.PROTECT, related_name="evidence", verbose_name=_("appeal"))
    file = DocumentField(_("file"), upload_to=PrivateUploadTo("appeals"))
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appeal evidence")
        verbose_name_plural = _("appeal evidence")

    def __str__(self):
        return self.original_name or self.file.name.rsplit("/", 1)[-1]
