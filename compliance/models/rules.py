"""The rule catalogue (SPEC §5) and point nodes (SPEC §6.2): data a compliance
admin edits, shipped by a data migration. No figure lives in code."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from compliance.wording import describe_measures

from .base import BilingualNameMixin, ViolationClass, bilingual


class RuleQuerySet(models.QuerySet):
    def effective_on(self, day: datetime.date):
        """The versions in effect on ``day`` (``Rule.is_effective_on``, asked of the database)."""
        return self.filter(Q(effective_from__lte=day), Q(effective_to__isnull=True) | Q(effective_to__gte=day))


class Rule(BilingualNameMixin, models.Model):
    """One version of a violation rule. A revision is a new row with the same
    code and a later ``effective_from``; tickets keep a snapshot of the
    version (and tier) they were issued under."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    alliance_serious = models.BooleanField(
        _("serious violation for the alliance"),
        default=False,
        help_text=_("Counts against Selected Alliance eligibility."),
    )
    is_qualification_rule = models.BooleanField(
        _("qualification rule"),
        default=False,
        help_text=_("The rule the platform issues when a rectification notice runs out."),
    )
    evidence_hint_zh = models.TextField(_("appeal evidence hint (Chinese)"), blank=True)
    evidence_hint_en = models.TextField(_("appeal evidence hint (English)"), blank=True)
    appeal_window_days = models.PositiveSmallIntegerField(
        _("appeal window (days)"), default=7, validators=[MinValueValidator(1)]
    )
    appeal_chances = models.PositiveSmallIntegerField(
        _("appeal chances"), default=2, validators=[MinValueValidator(1)]
    )
    warning_hours = models.PositiveSmallIntegerField(
        _("time to answer a warning (hours)"), default=48, validators=[MinValueValidator(1)],
        help_text=_("A detector's warning under this rule gives the merchant this long to answer or put it right."),
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="rule_code_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="rule_effective_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"

    def is_effective_on(self, day: datetime.date) -> bool:
        """In effect on ``day``: ``RuleQuerySet.effective_on`` for a version in hand."""
        return self.effective_from <= day and (self.effective_to is None or self.effective_to >= day)

    @property
    def evidence_hint(self) -> str:
        return bilingual(self.evidence_hint_zh, self.evidence_hint_en)

    def clean(self):
        if self.effective_from is None:
            return  # the field's own "required" error says what is missing
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("A rule cannot stop being effective before it starts.")})
        overlapping = (
            Rule.objects.filter(code=self.code)
            .exclude(pk=self.pk)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=self.effective_from))
        )
        if self.effective_to:
            overlapping = overlapping.filter(effective_from__lte=self.effective_to)
        if overlapping.exists():
            raise ValidationError(
                _("Another version of this rule is effective in the same period; end it first.")
            )


class Option(models.TextChoices):
    NEVER = "never", _("Never")
    ALWAYS = "always", _("Always")
    OPTIONAL = "optional", _("Reviewer chooses")


class RuleTier(BilingualNameMixin, models.Model):
    """A severity tier of a rule with its figures and measures (SPEC §5)."""

    rule = models.ForeignKey(Rule, models.CASCADE, related_name="tiers", verbose_name=_("rule"))
    code = models.SlugField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    violation_class = models.CharField(_("class"), max_length=1, choices=ViolationClass.choices)
    points_default = models.PositiveSmallIntegerField(_("points"), default=0)
    points_min = models.PositiveSmallIntegerField(_("fewest points"), default=0)
    points_max = models.PositiveSmallIntegerField(_("most points"), default=0)
    deposit_amount = models.DecimalField(
        _("deposit deducted (CNY)"), max_digits=12, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    deposit_all = models.BooleanField(_("deduct all remaining deposit"), default=False)
    deposit_per_order = models.DecimalField(
        _("deposit per confirmed order (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    deposit_daily_cap = models.DecimalField(
        _("deposit cap per shop per day (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Per calendar day in Asia/Shanghai, over all tickets of this rule."),
    )
    warning = models.BooleanField(_("warning"), default=False)
    delist_products = models.BooleanField(_("delist the affected products"), default=False)
    ban_products = models.CharField(_("ban the affected products"), max_length=10, choices=Option.choices,
                                    default=Option.NEVER)
    suspend_days = models.PositiveSmallIntegerField(_("suspension (days)"), null=True, blank=True)
    clear_shop = models.CharField(_("clear the shop"), max_length=10, choices=Option.choices, default=Option.NEVER)
    freeze_proceeds = models.BooleanField(_("freeze proceeds"), default=False)

    class Meta:
        verbose_name = _("rule tier")
        verbose_name_plural = _("rule tiers")
        ordering = ["rule", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "code"], name="ruletier_rule_code_unique"),
            models.CheckConstraint(
                condition=Q(points_min__lte=models.F("points_default"))
                & Q(points_default__lte=models.F("points_max")),
                name="ruletier_points_range",
            ),
        ]

    def __str__(self):
        return f"{self.rule.name} · {self.name}"

    @property
    def per_order(self) -> bool:
        return self.deposit_per_order is not None


class PointNode(models.Model):
    """When a ticket makes a shop's yearly total of a class reach or cross
    ``threshold``, these measures apply besides the ticket's own (SPEC §6.2)."""

    violation_class = models.CharField(_("class"), max_length=1, choices=ViolationClass.choices)
    threshold = models.PositiveSmallIntegerField(_("points total"), validators=[MinValueValidator(1)])
    suspend_days = models.PositiveSmallIntegerField(_("suspension (days)"), null=True, blank=True)
    deposit_amount = models.DecimalField(
        _("deposit deducted (CNY)"), max_digits=12, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    clear_shop = models.BooleanField(_("clear the shop"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    replaced_by = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("replaced by"),
        help_text=_("A changed node is a new version; this one stays with the shops that reached it."))

    class Meta:
        verbose_name = _("point node")
        verbose_name_plural = _("point nodes")
        ordering = ["violation_class", "threshold"]
        constraints = [
            # One active node per class and total; replaced versions keep their figures for the history.
            models.UniqueConstraint(fields=["violation_class", "threshold"], condition=Q(is_active=True),
                                    name="pointnode_active_class_threshold_unique")
        ]

    def __str__(self):
        return f"{self.violation_class} · {self.threshold}"

    def describe(self) -> str:
        return describe_measures(
            clear=self.clear_shop, suspend_days=self.suspend_days, deposit=self.deposit_amount
        )
