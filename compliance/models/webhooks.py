"""Outbound events' subscriptions (SPEC §13): an integration's receiver URL,
the event types it wants and the secret its deliveries are signed with."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from compliance.calendar import shanghai

from .base import EventAction, EventSubject, Workflow, transitions
from .warnings import Integration

A = EventAction

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
# A compliance admin's "send a test event": to one subscription, in no shop's
# sequence (0) and not in the feed.
TEST_EVENT_TYPE = "webhook.test"

# The one place that says which steps of the journal (Event) are published
# and as what: (action, the status it moved to, or "" for any) → the event
# types it publishes. A step publishes its own object's type and, for a
# ticket or a point node, the measures and deposit entries it took or gave
# back (services.outbound reads them from the rows the step wrote).
PUBLISHED = {
    (A.TICKET_ISSUED, ""): ("ticket.issued", "measure.started", "deposit.deducted"),
    (A.TICKET_FINAL, ""): ("ticket.final",),
    (A.TICKET_REVOKED, ""): ("ticket.revoked", "measure.lifted", "deposit.refunded"),
    (A.NODE_APPLIED, ""): ("measure.started", "deposit.deducted"),
    (A.NODE_LIFTED, ""): ("measure.lifted", "deposit.refunded"),
    (A.MEASURE_ENDED, ""): ("measure.lifted",),
    (A.APPEAL_SUBMITTED, ""): ("appeal.submitted",),
    (A.APPEAL_APPROVED, ""): ("appeal.decided",),
    (A.APPEAL_REJECTED, ""): ("appeal.decided",),
    (A.WARNING_RECEIVED, ""): ("warning.opened",),
    (A.WARNING_CONFIRMED, ""): ("warning.confirmed",),
    (A.WARNING_DISMISSED, ""): ("warning.dismissed",),
    (A.QUALIFICATION_LAPSED, "expired"): ("certificate.expired",),
    # A notice closes when replaced in time, or when its deadline passed ("outcome").
    (A.NOTICE_CLOSED, "ticketed"): ("notice.overdue",),
    (A.NOTICE_CLOSED, "void"): ("notice.overdue",),
    (A.ALLIANCE_DECIDED, "active"): ("alliance.activated",),
    (A.ALLIANCE_CLOSED, ""): ("alliance.closed",),
    (A.PROVIDER_REVOKED, ""): ("provider.delisted",),
    (A.PROVIDER_EXITED, ""): ("provider.delisted",),
}
assert {t for types in PUBLISHED.values() for t in types} == set(EVENT_TYPES), "every event type has its step"


def published_types(action: str, to_status: str = "", outcome: str = "") -> tuple[str, ...]:
    """The event types a journal step publishes (none for most): by the
    status it moved to, or its ``outcome`` where the status says too little."""
    for key in (outcome, to_status, ""):
        if types := PUBLISHED.get((str(action), str(key))):
            return types
    return ()
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
    # Since when every attempt has failed (empty while deliveries succeed):
    # past the policy's limit the subscription is paused.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)

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


class Publication(models.Model):
    """A journal step to publish (``PUBLISHED``), written with the Event in
    the step's own transaction: a rolled-back step leaves none, a committed
    one is published even if the process dies the moment after. The relay
    (services.outbound.publish) turns it into the outbound events and marks
    it published."""

    action = models.CharField(max_length=40)
    types = models.CharField(max_length=200)  # what it publishes (PUBLISHED), comma-separated
    subject = models.CharField(max_length=20, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True)
    shop_id = models.BigIntegerField(null=True)
    data = models.JSONField(default=dict)  # the Event's details
    occurred_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["id"], condition=models.Q(published_at=None), name="publication_due")]


class OutboundEvent(models.Model):
    """An event as receivers get it (SPEC §13): its id, type, time, shop,
    the shop's sequence number and the object as the API shows it. Numbered
    by the relay in the order the steps committed: ``position`` across all
    shops (the feed's cursor), ``sequence`` within the shop."""

    uuid = models.UUIDField(_("event ID"), unique=True)
    type = models.CharField(_("type"), max_length=30)
    shop = models.ForeignKey("shops.Shop", models.PROTECT, null=True, blank=True, related_name="+",
                             db_index=False, verbose_name=_("shop"))
    sequence = models.PositiveBigIntegerField(_("sequence in the shop"))
    position = models.PositiveBigIntegerField(_("position"), unique=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    published_at = models.DateTimeField(_("published at"))
    data = models.JSONField(_("object"), default=dict)

    class Meta:
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")
        constraints = [models.UniqueConstraint(fields=["shop", "sequence"], name="outbound_shop_sequence")]

    def __str__(self):
        return f"{self.type} #{self.position}"

    def envelope(self) -> dict:
        """The event as receivers get it: a delivery's body, an item of the feed."""
        return {"id": str(self.uuid), "type": self.type,
                "occurred_at": shanghai(self.occurred_at).isoformat(timespec="seconds"),
                "shop": self.shop.shop_no if self.shop_id else None, "sequence": self.sequence, "data": self.data}


class PublishState(models.Model):
    """The relay's one row: the last position given out. Locked while the
    relay numbers a batch, so batches are numbered one after another."""

    position = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="publishstate_singleton")]


class WebhookDelivery(Workflow, models.Model):
    """One event on its way to one subscription. A shop's deliveries to a
    subscription go out in sequence: a delivery is sent only when none of
    the same shop with a lower sequence is still pending (``stream``: the
    shop, 0 for events of no shop; a test event: minus the subscription's
    ID). Retried with growing delays, given up (dead) after the policy's
    time; a compliance admin sends it again. Workers take streams, not
    deliveries (``DeliveryStream``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be delivered")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("given up")

    # Delivering is the row's own record (its attempts); giving up and
    # sending again are decisions, and journalled.
    TRANSITIONS = transitions(
        ((Status.PENDING, Status.DEAD), EventAction.DELIVERY_DEAD),
        ((Status.DEAD, Status.PENDING), EventAction.DELIVERY_RESENT),
        ((Status.DELIVERED, Status.PENDING), EventAction.DELIVERY_RESENT),
    )
    EVENT_SUBJECT = EventSubject.DELIVERY

    subscription = models.ForeignKey(WebhookSubscription, models.PROTECT, related_name="deliveries",
                                     verbose_name=_("subscription"))
    event = models.ForeignKey(OutboundEvent, models.PROTECT, related_name="deliveries", db_index=False,
                              verbose_name=_("event"))
    stream = models.BigIntegerField()
    sequence = models.PositiveBigIntegerField(_("sequence in the shop"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("queued at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_code = models.PositiveSmallIntegerField(_("answer code"), null=True, blank=True)
    last_ms = models.PositiveIntegerField(_("answer time (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        permissions = [("resend_webhookdelivery", _("Can send a webhook delivery again"))]
        indexes = [
            # A stream's first pending delivery (its head), and the order of the rest.
            models.Index(fields=["subscription", "stream", "sequence"], condition=models.Q(status="pending"),
                         name="delivery_stream"),
            # A subscription's log, newest first, or one status of it; one status of every log
            # (the given-up ones: 0.03 % of a million, 212 ms without it — bench/RESULTS.md).
            models.Index(fields=["subscription", "-id"], name="delivery_log"),
            models.Index(fields=["subscription", "status", "-id"], name="delivery_log_status"),
            models.Index(fields=["status", "-id"], name="delivery_status"),
        ]

    def __str__(self):
        return str(_("delivery %(id)s") % {"id": self.pk})


class DeliveryStream(models.Model):
    """A shop's deliveries to one subscription, as the workers' queue sees
    them: due when its first pending delivery (its head) is —
    ``next_attempt_at`` is the head's — and empty (NULL) when none is
    pending. Workers lease streams, not deliveries, so SPEC §13's order is
    the queue's own shape: a failing delivery holds back its stream only,
    and a worker never reads past the deliveries held back behind it to
    find one it may send (after a receiver's outage, every shop's
    deliveries but the first are; bench/RESULTS.md). Kept by
    services.deliveries, never deleted."""

    subscription = models.ForeignKey(WebhookSubscription, models.PROTECT, related_name="streams")
    stream = models.BigIntegerField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "stream"], name="deliverystream_unique")]
        indexes = [
            # The workers' queue: the streams with something to deliver.
            models.Index(fields=["next_attempt_at", "id"], condition=models.Q(next_attempt_at__isnull=False),
                         name="deliverystream_due"),
        ]


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, the answer's code and time, and what
    went wrong (the log compliance admins read)."""

    delivery = models.ForeignKey(WebhookDelivery, models.PROTECT, related_name="attempt_log",
                                 verbose_name=_("delivery"))
    at = models.DateTimeField(_("time"))
    code = models.PositiveSmallIntegerField(_("answer code"), null=True, blank=True)
    ms = models.PositiveIntegerField(_("answer time (ms)"))
    error = models.TextField(_("error"), blank=True)
    answer = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self):
        return ""  # a row of its delivery's attempt log, whose columns say it all
