"""Detectors' violation warnings 违规预警 and the integrations that send them
(SPEC §11, §12). A warning is a suspicion the merchant can answer; only a
reviewer's confirmation turns it into a ticket."""

import hashlib

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.uploads import DocumentField, DocumentInfoMixin, PrivateUploadTo

from .base import AppendOnlyModel, EventAction, EventSubject, Workflow, transitions


class Scope(models.TextChoices):
    """What an integration's key may do (SPEC §12)."""

    WARNINGS = "warnings", _("Submit warnings and read their status")
    STANDING = "standing", _("Read a shop's standing")
    TICKETS = "tickets", _("Read a ticket's status")
    IMPORTS = "imports", _("Import daily orders and experience scores")
    INSIGHT = "insight", _("Read decision-quality statistics")
    WEBHOOKS = "webhooks", _("Subscribe to outbound events (webhooks)")


def hash_key(key: str) -> str:
    """Keys are 32 random bytes: a plain SHA-256 is as strong as a slow hash
    here, and lets each request find its key by one indexed lookup."""
    return hashlib.sha256(key.encode()).hexdigest()


class Integration(models.Model):
    """A system that talks to the product through the API, with its own key.
    The key is shown once when the integration is created; only its hash and
    its first characters (to tell keys apart) are kept."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    requests_per_minute = models.PositiveIntegerField(
        _("requests per minute"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Empty: the platform's default limit."))
    is_active = models.BooleanField(_("active"), default=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("created by"), editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"), editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]
        permissions = [("revoke_integration", _("Can revoke integration keys"))]

    def __str__(self):
        return self.name

    @property
    def rate_limit(self) -> int:
        return self.requests_per_minute or settings.API_REQUESTS_PER_MINUTE

    def allows(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class IntegrationCall(AppendOnlyModel):
    """Every API call, attributed to its integration (SPEC §12); the rate
    limit counts these rows."""

    integration = models.ForeignKey(Integration, models.PROTECT, related_name="calls",
                                    verbose_name=_("integration"))
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=300)
    status = models.PositiveSmallIntegerField(_("response status"))
    rows = models.PositiveIntegerField(_("rows sent"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["integration", "-created_at"], name="apicall_integration_time"),
                   models.Index(fields=["-created_at", "-id"], name="apicall_time"),
                   models.Index(fields=["status", "-created_at", "-id"], name="apicall_status_time")]

    def __str__(self):
        return f"{self.method} {self.path} → {self.status}"


# The reviewers' queue: answered (or put right) first, then expired, then open.
QUEUE_ORDER = models.Case(
    models.When(status__in=["answered", "put_right"], then=models.Value(0)),
    models.When(status="expired", then=models.Value(1)),
    models.When(status="open", then=models.Value(2)),
    default=models.Value(3), output_field=models.IntegerField())


class ViolationWarning(Workflow, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting the merchant")
        ANSWERED = "answered", _("Merchant answered")
        PUT_RIGHT = "put_right", _("Merchant put it right")
        EXPIRED = "expired", _("Not answered in time")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    # SPEC §11: the merchant answers or puts it right before the deadline, else it expires; a reviewer
    # confirms (a ticket) or dismisses what was answered or expired.
    TRANSITIONS = transitions(
        ((Status.OPEN, Status.ANSWERED), EventAction.WARNING_ANSWERED),
        ((Status.OPEN, Status.PUT_RIGHT), EventAction.WARNING_ANSWERED),
        ((Status.OPEN, Status.EXPIRED), EventAction.WARNING_EXPIRED),
        ((Status.ANSWERED, Status.CONFIRMED), EventAction.WARNING_CONFIRMED),
        ((Status.PUT_RIGHT, Status.CONFIRMED), EventAction.WARNING_CONFIRMED),
        ((Status.EXPIRED, Status.CONFIRMED), EventAction.WARNING_CONFIRMED),
        ((Status.ANSWERED, Status.DISMISSED), EventAction.WARNING_DISMISSED),
        ((Status.PUT_RIGHT, Status.DISMISSED), EventAction.WARNING_DISMISSED),
        ((Status.EXPIRED, Status.DISMISSED), EventAction.WARNING_DISMISSED),
    )
    EVENT_SUBJECT = EventSubject.WARNING

    OPEN_STATUSES = (Status.OPEN,)
    DECIDABLE = (Status.ANSWERED, Status.PUT_RIGHT, Status.EXPIRED)
    DECIDED = (Status.CONFIRMED, Status.DISMISSED)

    number = models.CharField(_("warning number"), max_length=24, unique=True, editable=False)
    # Shop, rule and detector have no index of their own: indexes of Meta lead with each — every
    # index is written again when a warning changes (bench/RESULTS.md).
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="warnings", db_index=False,
                             verbose_name=_("shop"))
    rule = models.ForeignKey("compliance.Rule", models.PROTECT, related_name="warnings", db_index=False,
                             verbose_name=_("rule"))
    tier = models.ForeignKey("compliance.RuleTier", models.PROTECT, related_name="warnings",
                             verbose_name=_("tier"))
    integration = models.ForeignKey(Integration, models.PROTECT, related_name="warnings", db_index=False,
                                    verbose_name=_("detector"))
    report_id = models.CharField(_("detector's report ID"), max_length=64)
    order_nos = models.JSONField(_("orders concerned"), default=list, blank=True)
    products = models.ManyToManyField("shops.Product", blank=True, related_name="warnings",
                                      verbose_name=_("products concerned"))
    evidence = models.JSONField(_("what the detector saw"), default=dict, blank=True)
    summary = models.CharField(_("summary"), max_length=300)
    detected_at = models.DateTimeField(_("detected at"))
    received_at = models.DateTimeField(_("received at"))
    deadline = models.DateTimeField(_("answer by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("merchant's answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("answered by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("reviewer"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    ticket = models.OneToOneField("compliance.Ticket", models.PROTECT, null=True, blank=True,
                                  related_name="warning", verbose_name=_("ticket"))
    reminded_at = models.DateTimeField(_("deadline reminder sent at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("violation warning")
        verbose_name_plural = _("violation warnings")
        ordering = ["-received_at", "-id"]
        permissions = [("decide_warning", _("Can confirm or dismiss warnings"))]
        indexes = [
            models.Index(QUEUE_ORDER, "deadline", "id", name="warning_queue"),
            # The queue filtered by status or by detector, in the queue's order (bench/RESULTS.md).
            models.Index(models.F("status"), QUEUE_ORDER, models.F("deadline"), models.F("id"),
                         name="warning_status_queue"),
            models.Index(models.F("integration"), QUEUE_ORDER, models.F("deadline"), models.F("id"),
                         name="warning_detector_queue"),
            # A shop's open warnings by deadline: the portal's to-do list and the count beside the tab.
            models.Index(fields=["shop", "status", "deadline"], name="warning_shop_open"),
            models.Index(fields=["shop", "-received_at"], name="warning_shop_received"),
            models.Index(fields=["status", "deadline"], name="warning_status_deadline"),
            models.Index(fields=["rule", "deadline"], name="warning_rule_deadline"),
        ]
        constraints = [
            # SPEC §11: a report the detector sends again changes nothing.
            models.UniqueConstraint(fields=["integration", "report_id"], name="warning_report_once"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "answered", "put_right", "expired", "confirmed", "dismissed"]),
                name="warning_status_allowed"),
            models.CheckConstraint(
                condition=~Q(status__in=["confirmed", "dismissed"])
                | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="warning_decision_has_time_and_reason"),
            models.CheckConstraint(condition=~Q(status="confirmed") | Q(ticket__isnull=False),
                                   name="warning_confirmed_has_ticket"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_decided(self) -> bool:
        return self.status in self.DECIDED

    def awaiting_merchant(self, now) -> bool:
        return self.status == self.Status.OPEN and now <= self.deadline

    def decidable(self, now) -> bool:
        """SPEC §11: after the deadline, or earlier on the merchant's answer."""
        return self.status in self.DECIDABLE or (self.status == self.Status.OPEN and now > self.deadline)

    def as_of(self, now) -> "ViolationWarning":
        """The deadline, not the daily job, expires a warning: past it, an open
        warning the job has not marked yet is expired as of ``now`` (in memory;
        its decision's one event then reads "expired → …", SPEC §11)."""
        if self.status == self.Status.OPEN and now > self.deadline:
            self.status = self.Status.EXPIRED
        return self


class WarningAnswerFile(DocumentInfoMixin, models.Model):
    warning = models.ForeignKey(ViolationWarning, models.PROTECT, related_name="files", verbose_name=_("warning"))
    file = DocumentField(_("file"), upload_to=PrivateUploadTo("warnings"))
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer file")
        verbose_name_plural = _("answer files")

    def __str__(self):
        return self.original_name or self.file.name.rsplit("/", 1)[-1]
