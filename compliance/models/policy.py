from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shops.uploads import UploadLimits


class PolicySettings(models.Model):
    """The compliance admin's editable figures that belong to no rule or node
    (SPEC: every figure is data). One row, created by the migration with the
    spec's defaults; read with ``PolicySettings.load()``."""

    reentry_wait_months = models.PositiveSmallIntegerField(
        _("re-entry wait after voluntary exit (months)"),
        default=6,
        validators=[MinValueValidator(0), MaxValueValidator(120)],
        help_text=_("After a voluntary exit the controller may reopen after this many months."),
    )
    upload_max_mb = models.PositiveSmallIntegerField(
        _("largest upload (MB)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Certificates, ID-card images and appeal evidence larger than this are refused."),
    )
    upload_max_megapixels = models.PositiveSmallIntegerField(
        _("largest image (million pixels)"),
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("Images with more pixels than this are refused before they are opened."),
    )
    appeal_decision_working_days = models.PositiveSmallIntegerField(
        _("appeal decision target (working days)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("An appeal is due for decision this many working days (Monday to Friday) "
                    "after it was submitted."),
    )
    appeal_statement_max_chars = models.PositiveIntegerField(
        _("longest appeal statement (characters)"),
        default=2000,
        validators=[MinValueValidator(100), MaxValueValidator(20000)],
        help_text=_("A merchant's appeal statement may be at most this long."),
    )
    alliance_min_score = models.DecimalField(
        _("experience score the alliance requires (more than)"), max_digits=5, decimal_places=2, default=70,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A shop's experience score must be greater than this for the Selected Alliance."),
    )
    alliance_ticket_days = models.PositiveSmallIntegerField(
        _("alliance: no upheld ticket within (days)"), default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("A shop with an upheld ticket this recent is not eligible for the Selected Alliance; the same "
                    "look-back applies to serious violations of the controller's other shops."),
    )
    alliance_b_ticket_days = models.PositiveSmallIntegerField(
        _("alliance: no B-class ticket within (days)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    alliance_max_closures = models.PositiveSmallIntegerField(
        _("alliance: violation closures allowed"), default=3,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("After more closures for violations than this, the shop can never reopen its membership."),
    )
    alliance_review_working_days = models.PositiveSmallIntegerField(
        _("alliance: decision target (working days)"), default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    provider_reapply_days = models.PositiveSmallIntegerField(
        _("providers: no new application after a revocation (days)"), default=90,
        validators=[MinValueValidator(0), MaxValueValidator(3650)],
        help_text=_("A provider whose certification was revoked may not apply again within this many days, "
                    "unless a reviewer marks the application a special case."),
    )
    rectification_days = models.PositiveSmallIntegerField(
        _("rectification deadline (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Whole days (Asia/Shanghai) a shop has to replace a certificate that expired or was "
                    "withdrawn before a ticket is issued."),
    )
    first_minor_days = models.PositiveSmallIntegerField(
        _("first product-qualification case looks back (days)"),
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("A product-qualification case with no earlier such ticket in this many days is first "
                    "and minor: the products are delisted, no points."),
    )
    certificate_warning_days = models.PositiveSmallIntegerField(
        _("warn before a certificate expires (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Merchants are reminded, and their portal warns, this many days before expiry."),
    )
    overturn_flag_ratio = models.DecimalField(
        _("flag an overturn rate above (times the overall rate)"), max_digits=4, decimal_places=1, default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Decision quality: a rule or reviewer whose tickets are overturned on appeal this many times "
                    "as often as all tickets are is flagged for review."),
    )
    overturn_flag_min_tickets = models.PositiveIntegerField(
        _("flag only with at least (tickets)"), default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100000)],
        help_text=_("A rule or reviewer with fewer tickets in the period is never flagged: too few to tell."),
    )
    mail_max_attempts = models.PositiveSmallIntegerField(
        _("e-mail: attempts before giving up"), default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("An e-mail the mail server refuses this many times is marked undeliverable; compliance "
                    "admins see it and can send it again. The portal message is there either way."),
    )
    mail_retry_seconds = models.PositiveIntegerField(
        _("e-mail: first retry after (seconds)"), default=60,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
        help_text=_("Each further retry waits twice as long as the one before."),
    )
    mail_retry_max_seconds = models.PositiveIntegerField(
        _("e-mail: longest wait between attempts (seconds)"), default=6 * 3600,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 86400)],
    )
    claim_lease_minutes = models.PositiveSmallIntegerField(
        _("claims: a reviewer holds an item for (minutes)"), default=30,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
        help_text=_("A claimed queue item is the reviewer's alone this long, renewed while they keep it open; "
                    "after it, another reviewer may take it."),
    )
    certificate_review_working_days = models.PositiveSmallIntegerField(
        _("certificates: review target (working days)"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("A submitted certificate is due for review this many working days (Monday to Friday) after "
                    "it was submitted."),
    )
    webhook_retry_seconds = models.PositiveIntegerField(
        _("webhooks: first retry after (seconds)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
        help_text=_("Each further retry of a delivery waits twice as long as the one before."),
    )
    webhook_retry_max_seconds = models.PositiveIntegerField(
        _("webhooks: longest wait between attempts (seconds)"), default=3600,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
    )
    webhook_give_up_hours = models.PositiveSmallIntegerField(
        _("webhooks: give a delivery up after (hours)"), default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A delivery still refused this long after its first attempt is given up; compliance admins "
                    "can send it again, and receivers can catch up from the event feed."),
    )
    webhook_pause_hours = models.PositiveSmallIntegerField(
        _("webhooks: pause a subscription failing for (hours)"), default=72,
        validators=[MinValueValidator(1), MaxValueValidator(2160)],
        help_text=_("A subscription whose every delivery has failed this long is paused, and compliance admins "
                    "are told."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("policy settings")
        verbose_name_plural = _("policy settings")
        permissions = [("view_insight", _("Can see policy insight: previews of changes and decision quality"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="policysettings_singleton"),
        ]

    def __str__(self):
        return str(_("Policy settings"))

    @classmethod
    def load(cls) -> "PolicySettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def upload_max_bytes(self) -> int:
        return self.upload_max_mb * 1_000_000  # "10 MB" means 10,000,000 bytes in every message

    def mail_retry_delay(self, attempts: int) -> int:
        """Seconds to wait after the ``attempts``-th failed attempt: the first
        delay, doubled each time, never more than the longest wait."""
        return min(self.mail_retry_seconds * 2 ** min(attempts - 1, 30), self.mail_retry_max_seconds)

    def webhook_retry_delay(self, attempts: int) -> int:
        """Seconds before a delivery's next attempt after ``attempts`` failed ones."""
        return min(self.webhook_retry_seconds * 2 ** min(attempts - 1, 30), self.webhook_retry_max_seconds)

    def upload_limits(self):
        return UploadLimits(max_bytes=self.upload_max_bytes, max_pixels=self.upload_max_megapixels * 1_000_000)
