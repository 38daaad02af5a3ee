"""Selected Alliance 精选联盟 (SPEC §8): a shop's membership, its application
and decision, and the closures that count against reopening it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import EventAction, EventSubject, Workflow, transitions

# Applications first, by due date: the reviewers' queue order.
ALLIANCE_QUEUE_ORDER = models.Case(models.When(status="applied", then=models.Value(0)), default=models.Value(1),
                                   output_field=models.IntegerField())


class AllianceMembership(Workflow, models.Model):
    class Status(models.TextChoices):
        NOT_APPLIED = "not_applied", _("Not applied")
        APPLIED = "applied", _("Application under review")
        ACTIVE = "active", _("Member")
        REJECTED = "rejected", _("Application rejected")
        # Not the shop's "Closed" (关店): the membership is closed, the shop trades on.
        CLOSED = "closed", pgettext_lazy("alliance membership", "Closed")
        CLOSED_FOR_GOOD = "closed_for_good", _("Closed for good")

    class Cause(models.TextChoices):
        NONE = "", _("—")
        B_TICKET = "b_ticket", _("B-class ticket")
        CLEARED = "cleared", _("Shop cleared")
        SCORE = "score", _("Experience score too low")
        BRAND_LAPSED = "brand_lapsed", _("Brand qualification lapsed")
        CONTROLLER_VIOLATION = "controller_violation", _("Serious violation of another shop of the controller")
        UNSUITABLE = "unsuitable", _("Unsuitable for promotion")

    # Closures caused by violations count towards the limit (SPEC §8: "违规超过三次").
    COUNTED = (Cause.B_TICKET, Cause.CLEARED, Cause.CONTROLLER_VIOLATION)

    # SPEC §8: not applied | rejected | closed → applied → active | rejected; active → closed, or closed
    # for good past the limit; a revoked ticket's closure stops counting and may bring it back to closed.
    TRANSITIONS = transitions(
        ((Status.NOT_APPLIED, Status.APPLIED), EventAction.ALLIANCE_APPLIED),
        ((Status.REJECTED, Status.APPLIED), EventAction.ALLIANCE_APPLIED),
        ((Status.CLOSED, Status.APPLIED), EventAction.ALLIANCE_APPLIED),
        ((Status.APPLIED, Status.ACTIVE), EventAction.ALLIANCE_DECIDED),
        ((Status.APPLIED, Status.REJECTED), EventAction.ALLIANCE_DECIDED),
        ((Status.ACTIVE, Status.CLOSED), EventAction.ALLIANCE_CLOSED),
        ((Status.ACTIVE, Status.CLOSED_FOR_GOOD), EventAction.ALLIANCE_CLOSED),
        ((Status.CLOSED_FOR_GOOD, Status.CLOSED), EventAction.ALLIANCE_CLOSURE_VOIDED),
    )
    EVENT_SUBJECT = EventSubject.ALLIANCE

    shop = models.OneToOneField("shops.Shop", models.PROTECT, related_name="alliance", verbose_name=_("shop"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NOT_APPLIED)
    applied_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("applied by"))
    due_at = models.DateTimeField(_("decision due"), null=True, blank=True)
    materials = models.JSONField(_("settlement materials"), default=dict, blank=True,
                                 help_text=_("The settlement data on file when the shop applied (SPEC §3)."))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    activated_at = models.DateTimeField(_("member since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_cause = models.CharField(_("closed because"), max_length=24, choices=Cause.choices, blank=True, default="")
    close_reason = models.TextField(_("reason for the closure"), blank=True)

    class Meta:
        verbose_name = _("alliance membership")
        verbose_name_plural = _("alliance memberships")
        ordering = ["-id"]
        permissions = [("decide_alliance", _("Can decide alliance applications and close memberships"))]
        indexes = [
            models.Index(ALLIANCE_QUEUE_ORDER, "due_at", "id", name="alliance_queue"),
            models.Index(fields=["status", "due_at"], name="alliance_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["not_applied", "applied", "active", "rejected", "closed", "closed_for_good"]),
                name="alliance_status_allowed"),
            models.CheckConstraint(condition=~Q(status="applied") | Q(applied_at__isnull=False, due_at__isnull=False),
                                   name="alliance_applied_has_dates"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(decision_reason=""),
                                   name="alliance_rejection_has_reason"),
        ]

    def __str__(self):
        return f"{self.shop} · {self.get_status_display()}"


class AllianceClosure(models.Model):
    """One closure of a membership, with its cause. A closure caused by a
    ticket stops counting when that ticket is revoked (``voided_at``); the
    membership stays closed (SPEC §8)."""

    membership = models.ForeignKey(AllianceMembership, models.PROTECT, related_name="closures",
                                   verbose_name=_("membership"))
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="alliance_closures", verbose_name=_("shop"))
    cause = models.CharField(_("cause"), max_length=24, choices=AllianceMembership.Cause.choices)
    counted = models.BooleanField(_("counts towards the limit"))
    ticket = models.ForeignKey("compliance.Ticket", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("ticket"))
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("by"), help_text=_("Empty for the platform."))
    created_at = models.DateTimeField(_("closed at"))
    voided_at = models.DateTimeField(_("no longer counts since"), null=True, blank=True)

    class Meta:
        verbose_name = _("alliance closure")
        verbose_name_plural = _("alliance closures")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="allianceclosure_created")]

    def __str__(self):
        return f"{self.shop_id} {self.get_cause_display()}"

    @property
    def counts(self) -> bool:
        return self.counted and self.voided_at is None
