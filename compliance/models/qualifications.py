"""Qualification certificates 资质 (SPEC §4): what a category or shop type
requires (data a compliance admin edits), the certificates merchants submit,
and the rectification notices that follow a lapse."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shops.models import Shop
from shops.uploads import DocumentField, DocumentInfoMixin, PrivateUploadTo

from .base import BilingualNameMixin, EventAction, EventSubject, Workflow, transitions


class QualificationKind(models.TextChoices):
    SUBJECT = "subject", _("Subject qualification")
    BRAND = "brand", _("Brand qualification")
    INDUSTRY = "industry", _("Industry qualification")
    PRODUCT = "product", _("Product qualification")


class QualificationType(BilingualNameMixin, models.Model):
    """A kind of certificate: business licence, trademark registration, food
    business licence, CCC … (SPEC §4). Shipped by a data migration."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=QualificationKind.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive types can no longer be submitted."))

    class Meta:
        verbose_name = _("certificate type")
        verbose_name_plural = _("certificate types")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class QualificationRequirement(models.Model):
    """SPEC §4: a product category, or a shop type, needs a certificate of one
    of ``accepted_types``; ``per_brand`` asks for one per brand sold."""

    category = models.CharField(_("product category"), max_length=100, blank=True, db_index=True,
                                help_text=_("Products of exactly this category need the certificate."))
    shop_type = models.CharField(_("shop type"), max_length=20, blank=True,
                                 choices=[("", "—"), *Shop.ShopType.choices],
                                 help_text=_("Every product of shops of this type needs the certificate."))
    accepted_types = models.ManyToManyField(QualificationType, related_name="requirements",
                                            verbose_name=_("accepted certificate types"),
                                            help_text=_("A certificate of any one of these types is enough."))
    per_brand = models.BooleanField(_("one per brand"), default=False,
                                    help_text=_("The certificate must name the product's brand."))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("qualification requirement")
        verbose_name_plural = _("qualification requirements")
        ordering = ["shop_type", "category", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(category="") & Q(shop_type="")) | (Q(category="") & ~Q(shop_type="")),
                name="qualreq_category_or_shop_type",
            ),
        ]

    def __str__(self):
        return self.category or self.get_shop_type_display()


# Submitted first, then by submission time: the review queue's order.
REVIEW_ORDER = models.Case(models.When(status="submitted", then=models.Value(0)), default=models.Value(1),
                           output_field=models.IntegerField())


class Qualification(Workflow, models.Model):
    """One certificate as the merchant submitted it. A renewal is a new row
    that ``renews`` the old one; approving it supersedes the old one. Rows are
    never deleted (SPEC §4)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", pgettext_lazy("certificate status", "Revoked")
        INVALIDATED = "invalidated", _("Invalidated")
        SUPERSEDED = "superseded", _("Superseded")

    # Lapsed: an approved certificate that no longer counts and needs rectifying.
    LAPSED = (Status.EXPIRED, Status.REVOKED, Status.INVALIDATED)

    # SPEC §4: submitted → approved | rejected; approved → expired | revoked | invalidated | superseded.
    TRANSITIONS = transitions(
        ((Status.SUBMITTED, Status.APPROVED), EventAction.QUALIFICATION_REVIEWED),
        ((Status.SUBMITTED, Status.REJECTED), EventAction.QUALIFICATION_REVIEWED),
        ((Status.APPROVED, Status.EXPIRED), EventAction.QUALIFICATION_LAPSED),
        ((Status.APPROVED, Status.REVOKED), EventAction.QUALIFICATION_LAPSED),
        ((Status.APPROVED, Status.INVALIDATED), EventAction.QUALIFICATION_LAPSED),
        ((Status.APPROVED, Status.SUPERSEDED), EventAction.QUALIFICATION_SUPERSEDED),
    )
    EVENT_SUBJECT = EventSubject.QUALIFICATION

    # No index of its own: (shop, status) leads with it (Meta).
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="qualifications", db_index=False,
                             verbose_name=_("shop"))
    qualification_type = models.ForeignKey(QualificationType, models.PROTECT, related_name="qualifications",
                                           verbose_name=_("certificate type"))
    # Copied from the type when submitted, so that lists filter by an index.
    kind = models.CharField(_("kind"), max_length=10, choices=QualificationKind.choices, editable=False)
    number = models.CharField(_("certificate number"), max_length=64)
    holder = models.CharField(_("holder"), max_length=200)
    authority = models.CharField(_("issuing authority"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("valid until"), null=True, blank=True,
                                  help_text=_("Empty for a permanent certificate."))
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    products = models.ManyToManyField("shops.Product", blank=True, related_name="qualifications",
                                      verbose_name=_("products covered"),
                                      help_text=_("Empty: the certificate covers the whole shop."))
    renews = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="renewals",
                               verbose_name=_("renews"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    # SPEC §14: the review target, working days after submission (PolicySettings), set when submitted.
    due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.TextField(_("reason for the decision"), blank=True)
    lapsed_at = models.DateTimeField(_("no longer valid since"), null=True, blank=True)
    lapsed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("withdrawn by"))
    lapse_reason = models.TextField(_("why it is no longer valid"), blank=True)
    expiry_reminded_at = models.DateTimeField(_("expiry reminder sent at"), null=True, blank=True)
    event_ticket = models.ForeignKey("compliance.Ticket", models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("trademark event ticket"))

    class Meta:
        verbose_name = _("qualification certificate")
        verbose_name_plural = _("qualification certificates")
        ordering = ["-submitted_at", "-id"]
        permissions = [("review_qualification", _("Can review qualification certificates"))]
        indexes = [
            models.Index(REVIEW_ORDER, "submitted_at", "id", name="qual_review_queue"),
            models.Index(fields=["submitted_at", "-id"], name="qual_submitted"),  # the list sorted by it
            models.Index(fields=["status", "expires_on"], name="qual_status_expiry"),
            models.Index(fields=["shop", "status"], name="qual_shop_status"),
            # "Has this shop a valid certificate of these types?" — the probe of every
            # missing-certificate check (selectors.qualifications._satisfied), once per product.
            models.Index(fields=["shop", "qualification_type"], condition=models.Q(status="approved"),
                         name="qual_approved_shop_type"),
            models.Index(fields=["kind", "status"], name="qual_kind_status"),
            models.Index(fields=["due_at"], condition=models.Q(status="submitted"), name="qual_review_due"),
            models.Index(fields=["number"], name="qual_number_like", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "approved", "rejected", "expired", "revoked", "invalidated",
                                        "superseded"]),
                name="qual_status_allowed",
            ),
            models.CheckConstraint(condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                                   name="qual_expiry_after_issue"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(review_reason=""),
                                   name="qual_rejection_has_reason"),
            models.CheckConstraint(condition=~Q(kind="brand") | ~Q(brand=""), name="qual_brand_names_brand"),
            # One renewal under review per certificate.
            models.UniqueConstraint(fields=["renews"], condition=Q(status="submitted"),
                                    name="qual_one_pending_renewal"),
        ]

    def __str__(self):
        return f"{self.qualification_type} {self.number}"

    @property
    def is_permanent(self) -> bool:
        return self.expires_on is None


class QualificationDocument(DocumentInfoMixin, models.Model):
    qualification = models.ForeignKey(Qualification, models.PROTECT, related_name="documents",
                                      verbose_name=_("certificate"))
    file = DocumentField(_("file"), upload_to=PrivateUploadTo("certificates"))
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("certificate document")
        verbose_name_plural = _("certificate documents")

    def __str__(self):
        return self.original_name or self.file.name.rsplit("/", 1)[-1]


class RectificationNotice(Workflow, models.Model):
    """SPEC §4: an approved certificate expired or was withdrawn; the shop has
    until ``deadline`` to get a replacement approved, else a ticket follows."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting rectification")
        CLOSED = "closed", _("Notice closed")

    TRANSITIONS = transitions(((Status.OPEN, Status.CLOSED), EventAction.NOTICE_CLOSED))
    EVENT_SUBJECT = EventSubject.NOTICE

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        REPLACED = "replaced", _("Replacement approved in time")
        TICKETED = "ticketed", _("Deadline passed: ticket issued")
        VOID = "void", _("Shop no longer trading")

    qualification = models.OneToOneField(Qualification, models.PROTECT, related_name="notice",
                                         verbose_name=_("certificate"))
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="rectification_notices",
                             verbose_name=_("shop"))
    cause = models.CharField(_("cause"), max_length=12, choices=[
        (status, label) for status, label in Qualification.Status.choices if status in Qualification.LAPSED])
    opened_at = models.DateTimeField(_("opened at"))
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    ticket = models.ForeignKey("compliance.Ticket", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("ticket"))
    replacement = models.ForeignKey(Qualification, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("replacement"))
    relisted_at = models.DateTimeField(_("products relisted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification notice")
        verbose_name_plural = _("rectification notices")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="notice_due"),
            models.Index(fields=["shop", "status"], name="notice_shop_status"),
            models.Index(fields=["-opened_at", "-id"], name="notice_opened"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="notice_status_allowed"),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True) & Q(outcome=""))
                | (Q(status="closed") & Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="notice_closed_has_time_and_outcome",
            ),
            models.CheckConstraint(condition=~Q(outcome="ticketed") | Q(ticket__isnull=False),
                                   name="notice_ticketed_has_ticket"),
        ]

    def __str__(self):
        return f"{self.qualification} · {self.get_status_display()}"



class QualificationGapQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at=None)


class QualificationGap(models.Model):
    """A product on sale without a certificate its category or shop type
    requires (商品资质缺失, SPEC §4), as the last check found it: opened when
    a check finds the product lacking, resolved when a later check does not.
    The checks are one set-based query (services.qualifications.gaps_refresh),
    run by the daily job for everything and at once for a shop whose
    certificates change; the queue reads this table, so it stays fast however
    many products there are."""

    product = models.ForeignKey("shops.Product", models.PROTECT, related_name="qualification_gaps",
                                verbose_name=_("product"))
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="qualification_gaps", verbose_name=_("shop"))
    found_at = models.DateTimeField(_("found at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    ticket = models.ForeignKey("compliance.Ticket", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("ticket"))

    objects = QualificationGapQuerySet.as_manager()

    class Meta:
        verbose_name = _("product missing a qualification")
        verbose_name_plural = _("products missing a qualification")
        ordering = ["-found_at", "-id"]
        indexes = [
            models.Index(fields=["-found_at", "-id"], condition=Q(resolved_at=None), name="gap_open_found"),
            models.Index(fields=["shop", "resolved_at"], name="gap_shop"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product"], condition=Q(resolved_at=None), name="gap_one_open_per_product"),
        ]

    def __str__(self):
        return str(self.product)
