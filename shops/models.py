"""Who the platform governs: controllers, their shops, the merchants' accounts
on those shops, and the shops' products (SPEC §2–§3)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .identifiers import (
    IdentifierField,
    mask_identifier,
    validate_bank_card,
    validate_resident_id,
    validate_uscc,
)
from .uploads import DocumentField, PrivateUploadTo

VIEW_PERSONAL_DATA = "shops.view_personal_data"


class Controller(models.Model):
    """The actual controller 实际控制人: the person or company behind one or
    more shops. A clearance for serious violations bars it for good (§3)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    id_number = IdentifierField(
        _("resident ID number"), max_length=18, blank=True, validators=[validate_resident_id]
    )
    uscc = IdentifierField(
        _("unified social credit code"), max_length=18, blank=True, validators=[validate_uscc]
    )
    barred_at = models.DateTimeField(_("barred from re-entry at"), null=True, blank=True)
    barred_reason = models.CharField(_("reason for the bar"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("controller")
        verbose_name_plural = _("controllers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="controller_name"),
            models.Index(fields=["uscc"], name="controller_uscc_like", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~Q(id_number=""), name="controller_unique_id_number"
            ),
            models.UniqueConstraint(fields=["uscc"], condition=~Q(uscc=""), name="controller_unique_uscc"),
            models.CheckConstraint(
                condition=(Q(kind="person") & ~Q(id_number="") & Q(uscc=""))
                | (Q(kind="company") & ~Q(uscc="") & Q(id_number="")),
                name="controller_identifier_matches_kind",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == self.Kind.PERSON and not self.id_number:
            raise ValidationError({"id_number": _("A person is identified by a resident ID number.")})
        if self.kind == self.Kind.COMPANY and not self.uscc:
            raise ValidationError({"uscc": _("A company is identified by its unified social credit code.")})
        if self.kind == self.Kind.PERSON and self.uscc:
            raise ValidationError({"uscc": _("A person has no unified social credit code.")})
        if self.kind == self.Kind.COMPANY and self.id_number:
            raise ValidationError({"id_number": _("A company has no resident ID number.")})

    @property
    def identifier(self) -> str:
        return self.id_number or self.uscc

    @property
    def identifier_masked(self) -> str:
        return mask_identifier(self.identifier)

    @property
    def is_barred(self) -> bool:
        return self.barred_at is not None


class Shop(models.Model):
    class EntityType(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
        ENTERPRISE = "enterprise", _("Enterprise")

    class ShopType(models.TextChoices):
        FLAGSHIP = "flagship", _("Flagship store")
        EXCLUSIVE = "exclusive", _("Exclusive store")
        SPECIALTY = "specialty", _("Specialty store")
        ORDINARY = "ordinary", _("Ordinary store")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")
        CLEARED = "cleared", _("Cleared")
        EXITED = "exited", _("Exited")

    # Statuses of a shop still trading (``is_trading``); querysets filter on them.
    TRADING = (Status.OPEN, Status.SUSPENDED)

    class ExitKind(models.TextChoices):
        NONE = "", _("—")
        TERM_END = "term_end", _("Natural end of term")
        EARLY_TERMINATION = "early_termination", _("Early termination")

    shop_no = models.CharField(
        _("shop ID"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^\d{6,20}$", _("A shop ID is 6 to 20 digits."))],
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    controller = models.ForeignKey(
        Controller, models.PROTECT, related_name="shops", verbose_name=_("controller")
    )
    entity_type = models.CharField(_("entity type"), max_length=20, choices=EntityType.choices)
    shop_type = models.CharField(_("shop type"), max_length=20, choices=ShopType.choices)

    # Workflow state: written only by services (read-only in the admin).
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    suspended_until = models.DateTimeField(_("suspended until"), null=True, blank=True)
    ended_at = models.DateTimeField(
        _("ended at"), null=True, blank=True, help_text=_("When the shop was closed, cleared or exited.")
    )
    exit_kind = models.CharField(
        _("kind of exit"), max_length=20, choices=ExitKind.choices, blank=True, default=""
    )
    review_flagged_at = models.DateTimeField(
        _("flagged for review at"),
        null=True,
        blank=True,
        help_text=_("Set when another shop of the same controller was cleared."),
    )

    experience_score = models.DecimalField(
        _("experience score"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    required_deposit = models.DecimalField(
        _("required deposit (CNY)"), max_digits=12, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
    )
    # The deposit ledger (compliance.DepositEntry) is the truth; this is its
    # running sum, written only by compliance.services.deposits under the shop
    # row lock, so that lists can filter and sort by it (SPEC §6.4).
    deposit_balance = models.DecimalField(
        _("deposit balance (CNY)"), max_digits=12, decimal_places=2, default=0, editable=False
    )

    # Settlement data (SPEC §3). Individual: ID-card images and a personal bank
    # card. Individual business / enterprise: company name, USCC, term, address.
    id_card_number = IdentifierField(
        _("resident ID number"), max_length=18, blank=True, validators=[validate_resident_id]
    )
    id_card_front = DocumentField(_("ID card, front"), upload_to=PrivateUploadTo("idcards"), blank=True)
    id_card_back = DocumentField(_("ID card, back"), upload_to=PrivateUploadTo("idcards"), blank=True)
    bank_card_number = IdentifierField(
        _("bank card number"), max_length=19, blank=True, validators=[validate_bank_card]
    )
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    uscc = IdentifierField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True,
        validators=[validate_uscc],
    )
    business_term_start = models.DateField(_("business term from"), null=True, blank=True)
    business_term_end = models.DateField(
        _("business term to"), null=True, blank=True, help_text=_("Empty means long-term (长期).")
    )
    business_address = models.CharField(_("business address"), max_length=255, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["-id"]
        permissions = [("view_personal_data", _("Can view unmasked personal data"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(experience_score__isnull=True)
                | Q(experience_score__gte=0, experience_score__lte=100),
                name="shop_experience_score_range",
            ),
            models.CheckConstraint(condition=Q(required_deposit__gte=0), name="shop_required_deposit_non_negative"),
            models.CheckConstraint(condition=Q(deposit_balance__gte=0), name="shop_deposit_balance_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="suspended") | Q(suspended_until__isnull=False),
                name="shop_suspension_has_end",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "suspended", "closed", "cleared", "exited"]),
                name="shop_status_allowed",
            ),
        ]
        indexes = [
            models.Index(fields=["controller", "status"], name="shop_controller_status"),
            models.Index(fields=["shop_no"], name="shop_no_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["uscc"], name="shop_uscc_like", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.name} ({self.shop_no})"

    @property
    def is_trading(self) -> bool:
        """Still trading — open, or suspended for a while — as opposed to ended
        (closed, cleared, exited): the one definition every rule uses
        (tickets, warnings, notices, the certificate queue, the deposit)."""
        return self.status in self.TRADING

    @property
    def deposit_short(self):
        """How much the balance lacks of the required deposit (0 when it covers it)."""
        return max(self.required_deposit - self.deposit_balance, 0)

    @property
    def needs_deposit_top_up(self) -> bool:
        """SPEC §6.4: below the required amount; a shop that has ended (cleared,
        closed, exited) is not asked to top up."""
        return self.is_trading and self.deposit_balance < self.required_deposit

    @property
    def is_corporate(self) -> bool:
        return self.entity_type != self.EntityType.INDIVIDUAL

    def clean(self):
        errors = {}
        if self.is_corporate:
            for field in ("company_name", "uscc"):
                if not getattr(self, field):
                    errors[field] = _("Required for corporate settlement (individual business or enterprise).")
            if self.bank_card_number or self.id_card_number:
                errors["entity_type"] = _(
                    "Corporate settlement uses the company's data, not a personal ID card or bank card."
                )
        else:
            for field in ("id_card_number", "bank_card_number"):
                if not getattr(self, field):
                    errors[field] = _("Required for an individual (personal settlement).")
            if self.uscc or self.company_name:
                errors["entity_type"] = _("An individual has no company name or credit code; choose another entity type.")
        if (
            self.business_term_start
            and self.business_term_end
            and self.business_term_end < self.business_term_start
        ):
            errors["business_term_end"] = _("The business term cannot end before it starts.")
        if errors:
            raise ValidationError(errors)


class ShopMember(models.Model):
    """A merchant's account on a shop. Merchants are never staff (SPEC §1)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        OPERATOR = "operator", _("Operator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="shop_memberships", verbose_name=_("user")
    )
    shop = models.ForeignKey(Shop, models.PROTECT, related_name="members", verbose_name=_("shop"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.OWNER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop member")
        verbose_name_plural = _("shop members")
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="shopmember_unique")]

    def __str__(self):
        return f"{self.user} @ {self.shop}"

    def clean(self):
        if self.user_id and self.user.is_staff:
            raise ValidationError({"user": _("Staff accounts cannot be shop members; use a merchant account.")})


class Product(models.Model):
    class Status(models.TextChoices):
        ON_SALE = "on_sale", _("On sale")
        DELISTED = "delisted", _("Delisted")
        BANNED = "banned", _("Banned")

    shop = models.ForeignKey(Shop, models.PROTECT, related_name="products", verbose_name=_("shop"))
    product_no = models.CharField(
        _("product ID"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^\d{6,20}$", _("A product ID is 6 to 20 digits."))],
    )
    title = models.CharField(_("title"), max_length=200)
    brand = models.CharField(_("brand"), max_length=100, blank=True, db_index=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    price = models.DecimalField(
        _("price (CNY)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    # Workflow state: delisting and bans are measures of tickets (SPEC §6.3).
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ON_SALE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Whenever anything that decides which certificates it needs changes (its
    # category, brand, status): the daily missing-certificate check looks at
    # the shops of products changed since its last run. A bulk UPDATE sets it
    # too; rows written outside Django get the database's now().
    changed_at = models.DateTimeField(_("changed at"), auto_now=True, db_default=Now())

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["changed_at"], name="product_changed"),
            models.Index(fields=["shop", "status"], name="product_shop_status"),
            models.Index(fields=["product_no"], name="product_no_like", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
        ]

    def __str__(self):
        return f"{self.title} ({self.product_no})"


class ShopScore(models.Model):
    """The experience score 店铺体验分 of a shop on a day, as the platform's
    scoring system reported it (SPEC §3): the history, one row a shop and
    day. ``Shop.experience_score`` is the latest day's score."""

    shop = models.ForeignKey(Shop, models.PROTECT, related_name="scores", verbose_name=_("shop"))
    day = models.DateField(_("day"))
    score = models.DecimalField(_("experience score"), max_digits=5, decimal_places=2,
                                validators=[MinValueValidator(0), MaxValueValidator(100)])
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("experience score")
        verbose_name_plural = _("experience scores")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="shopscore_one_a_day"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="shopscore_range"),
        ]
        indexes = [models.Index(fields=["-day", "-id"], name="shopscore_day")]

    def __str__(self):
        return f"{self.shop_id} {self.day} {self.score}"


class ServiceProvider(models.Model):
    """An industry-belt service provider 产业带服务商 (SPEC §9): certified
    (转正) on a date, formally converted on another; its deposit; whether it
    is still certified."""

    class Status(models.TextChoices):
        CERTIFIED = "certified", _("Certified")
        REVOKED = "revoked", _("Certification revoked")
        EXITED = "exited", _("Exited")

    name = models.CharField(_("name"), max_length=100)
    certified_on = models.DateField(_("certified on"), help_text=_("转正: the day it became a certified provider."))
    converted_on = models.DateField(_("formally converted on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CERTIFIED)
    deposit_paid = models.DecimalField(_("deposit paid (CNY)"), max_digits=12, decimal_places=2, default=0,
                                       validators=[MinValueValidator(0)])
    deposit_paid_on = models.DateField(_("deposit paid in full on"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("certification revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(deposit_paid__gte=0), name="provider_deposit_non_negative"),
            models.CheckConstraint(condition=Q(status__in=["certified", "revoked", "exited"]),
                                   name="provider_status_allowed"),
        ]

    def __str__(self):
        return self.name


class ProviderBinding(models.Model):
    """A shop bound to a provider in the service market, from a day to a day
    (both included; open-ended while it lasts)."""

    provider = models.ForeignKey(ServiceProvider, models.PROTECT, related_name="bindings", verbose_name=_("provider"))
    shop = models.ForeignKey(Shop, models.PROTECT, related_name="provider_bindings", verbose_name=_("shop"))
    starts_on = models.DateField(_("bound from"))
    ends_on = models.DateField(_("bound until"), null=True, blank=True, help_text=_("Empty while still bound."))

    class Meta:
        verbose_name = _("provider binding")
        verbose_name_plural = _("provider bindings")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["provider", "starts_on"], name="binding_provider"),
                   models.Index(fields=["-starts_on", "-id"], name="binding_starts")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="binding_range"),
        ]

    def __str__(self):
        return f"{self.provider} ↔ {self.shop}"


class ShopDailyOrders(models.Model):
    """A shop's paid orders on a day, as the order system reported them
    (import_orders): ``paid_orders`` all of them, ``gift_orders`` how many of
    those were gifts (SPEC §9 counts ``paid_orders - gift_orders``)."""

    shop = models.ForeignKey(Shop, models.PROTECT, related_name="daily_orders", verbose_name=_("shop"))
    day = models.DateField(_("day"))
    paid_orders = models.PositiveIntegerField(_("paid orders"))
    gift_orders = models.PositiveIntegerField(_("gift orders"), default=0)

    class Meta:
        verbose_name = _("daily orders")
        verbose_name_plural = _("daily orders")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="dailyorders_one_a_day"),
            models.CheckConstraint(condition=Q(gift_orders__lte=models.F("paid_orders")),
                                   name="dailyorders_gifts_within_paid"),
        ]
        indexes = [models.Index(fields=["-day", "-id"], name="dailyorders_day")]

    def __str__(self):
        return f"{self.shop_id} {self.day} {self.paid_orders}"
