"""Renewal assessment of industry-belt service providers 产业带服务商续牌考核
(SPEC §9): campaigns as data, one result per provider, the public delisting
notice 摘牌公示, and providers' requests (re-application, exit)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.models import ServiceProvider

from .base import EventAction, EventSubject, Workflow, transitions


class RenewalCampaign(models.Model):
    """Who is assessed (certified and formally converted before the given
    days), over which period, against which order threshold and deposit."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    certified_before = models.DateField(_("certified before"))
    converted_before = models.DateField(_("formally converted before"), null=True, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"), help_text=_("Included."))
    order_threshold = models.PositiveIntegerField(
        _("paid orders required"), help_text=_("Bound shops' paid orders in the period, gift orders excluded."))
    deposit_required = models.DecimalField(_("deposit required (CNY)"), max_digits=12, decimal_places=2,
                                           validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("renewal campaign")
        verbose_name_plural = _("renewal campaigns")
        ordering = ["-period_start", "-id"]
        constraints = [models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                              name="campaign_period")]

    def __str__(self):
        return self.name


class RenewalResult(Workflow, models.Model):
    class Status(models.TextChoices):
        ASSESSED = "assessed", _("To review")
        CONFIRMED = "confirmed", _("Confirmed")

    TRANSITIONS = transitions(((Status.ASSESSED, Status.CONFIRMED), EventAction.RENEWAL_CONFIRMED))
    EVENT_SUBJECT = EventSubject.RENEWAL

    campaign = models.ForeignKey(RenewalCampaign, models.PROTECT, related_name="results", verbose_name=_("campaign"))
    provider = models.ForeignKey("shops.ServiceProvider", models.PROTECT, related_name="renewal_results",
                                 verbose_name=_("provider"))
    orders_counted = models.PositiveIntegerField(_("paid orders counted"))
    deposit_paid = models.DecimalField(_("deposit paid (CNY)"), max_digits=12, decimal_places=2)
    deposit_ok = models.BooleanField(_("deposit paid in full in time"))
    passed = models.BooleanField(_("passed"))
    explanation = models.TextField(_("explanation"))
    assessed_at = models.DateTimeField(_("assessed at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ASSESSED)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("delisting notice published at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("renewal result")
        verbose_name_plural = _("renewal results")
        ordering = ["-assessed_at", "-id"]
        permissions = [("confirm_renewal", _("Can confirm renewal results and decide provider requests"))]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "provider"], name="renewal_one_result"),
            models.CheckConstraint(condition=Q(status__in=["assessed", "confirmed"]), name="renewal_status_allowed"),
        ]

    def __str__(self):
        return f"{self.campaign} · {self.provider}"


class ProviderRequest(Workflow, models.Model):
    """A provider's request to the platform: to be certified again after a
    revocation, or to exit with its deposit refunded (SPEC §9)."""

    class Kind(models.TextChoices):
        APPLICATION = "application", _("Certification application")
        EXIT = "exit", _("Exit and deposit refund")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS = transitions(((Status.PENDING, Status.APPROVED), EventAction.PROVIDER_REQUEST_DECIDED),
                              ((Status.PENDING, Status.REJECTED), EventAction.PROVIDER_REQUEST_DECIDED))
    EVENT_SUBJECT = EventSubject.PROVIDER_REQUEST

    provider = models.ForeignKey("shops.ServiceProvider", models.PROTECT, related_name="requests",
                                 verbose_name=_("provider"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    special_case = models.BooleanField(_("special case"), default=False,
                                       help_text=_("Accepted within the lock-out after a revocation."))
    note = models.TextField(_("note"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("provider request")
        verbose_name_plural = _("provider requests")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "kind"], condition=Q(status="pending"),
                                    name="providerrequest_one_pending"),
        ]

    def __str__(self):
        return f"{self.provider} · {self.get_kind_display()}"


# A service provider's certification (SPEC §9; the model is in shops, which knows nothing of the
# journal): revoked by a failed renewal, certified again by an approved application, exited on request.
PROVIDER_TRANSITIONS = transitions(
    ((ServiceProvider.Status.CERTIFIED, ServiceProvider.Status.REVOKED), EventAction.PROVIDER_REVOKED),
    ((ServiceProvider.Status.REVOKED, ServiceProvider.Status.CERTIFIED), EventAction.PROVIDER_CERTIFIED),
    ((ServiceProvider.Status.EXITED, ServiceProvider.Status.CERTIFIED), EventAction.PROVIDER_CERTIFIED),
    ((ServiceProvider.Status.CERTIFIED, ServiceProvider.Status.EXITED), EventAction.PROVIDER_EXITED),
    ((ServiceProvider.Status.REVOKED, ServiceProvider.Status.EXITED), EventAction.PROVIDER_EXITED),
)
