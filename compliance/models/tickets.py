"""Violation tickets and everything they cause (SPEC §6): point and deposit
ledgers, measures, and the append-only workflow log."""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.uploads import DocumentField, DocumentInfoMixin, PrivateUploadTo

from compliance.wording import labelled, node_label, node_lift_cause, node_lifted_text, node_reached_text

from .base import AppendOnlyModel, EventAction, EventSubject, ViolationClass, Workflow, bilingual, transitions


class TicketQuerySet(models.QuerySet):
    def live(self):
        """Tickets whose effects stand (not revoked)."""
        return self.exclude(status=Ticket.Status.REVOKED)


class Ticket(Workflow, models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        APPEALING = "appealing", _("Under appeal")
        REVOKED = "revoked", _("Revoked")
        FINAL = "final", _("Final")

    # SPEC §6.1: issued ──appeal──> appealing ──approve──> revoked; ──reject──> issued (or final when no
    # chance or time is left); appeal window over → final; a reviewer may revoke an issued ticket.
    TRANSITIONS = transitions(
        ((Status.ISSUED, Status.APPEALING), EventAction.APPEAL_SUBMITTED),
        ((Status.APPEALING, Status.ISSUED), EventAction.TICKET_REINSTATED),
        ((Status.APPEALING, Status.FINAL), EventAction.TICKET_FINAL),
        ((Status.ISSUED, Status.FINAL), EventAction.TICKET_FINAL),
        ((Status.ISSUED, Status.REVOKED), EventAction.TICKET_REVOKED),
        ((Status.APPEALING, Status.REVOKED), EventAction.TICKET_REVOKED),
    )
    EVENT_SUBJECT = EventSubject.TICKET

    number = models.CharField(_("ticket number"), max_length=24, unique=True, editable=False)
    # Unique by a constraint of Meta, not unique=True: on PostgreSQL that adds a second, pattern
    # (LIKE) index nothing uses, and every index is written at each status change.
    idempotency_key = models.CharField(max_length=64, editable=False)
    # No index of their own: (shop, issued_at) and (rule, issued_at) lead with them (Meta) — every
    # index is written again when a ticket is issued or changes status (bench/RESULTS.md).
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="tickets", db_index=False,
                             verbose_name=_("shop"))
    rule = models.ForeignKey("compliance.Rule", models.PROTECT, related_name="tickets", db_index=False,
                             verbose_name=_("rule"))
    tier = models.ForeignKey("compliance.RuleTier", models.PROTECT, related_name="tickets", verbose_name=_("tier"))
    rule_snapshot = models.JSONField(_("rule as issued"), editable=False)
    violation_class = models.CharField(_("class"), max_length=1, choices=ViolationClass.choices)
    points = models.PositiveSmallIntegerField(_("points"))
    point_year = models.PositiveSmallIntegerField(_("points year"))
    deposit_amount = models.DecimalField(
        _("deposit charged (CNY)"), max_digits=12, decimal_places=2,
        help_text=_("What the ticket charges; the deposit ledger shows what was actually taken."),
    )
    order_count = models.PositiveIntegerField(_("confirmed orders"), null=True, blank=True)
    deposit_day = models.DateField(
        _("day of the per-day cap"), null=True, blank=True,
        help_text=_("Shanghai calendar day whose deposit cap this ticket counts against."),
    )
    products = models.ManyToManyField("shops.Product", blank=True, related_name="tickets",
                                      verbose_name=_("affected products"))
    description = models.TextField(_("description"))
    occurred_at = models.DateTimeField(_("occurred at"))
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                  verbose_name=_("issued by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    appeal_deadline = models.DateTimeField(_("appeal deadline"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    appeal_reminded_at = models.DateTimeField(_("appeal reminder sent at"), null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-issued_at", "-id"]
        permissions = [("revoke_ticket", _("Can revoke tickets"))]
        indexes = [
            models.Index(fields=["shop", "-issued_at"], name="ticket_shop_issued"),
            # The shop last: a daily shard's claim (status, deadline, its range of shops) reads only its
            # own due tickets — with (status, deadline) alone it ANDed a bitmap of its quarter of all
            # tickets (~25 ms a batch at a million tickets; bench/RESULTS.md).
            models.Index(fields=["status", "appeal_deadline", "shop"], name="ticket_status_deadline_shop"),
            models.Index(fields=["shop", "rule", "deposit_day"], name="ticket_deposit_day"),
            # Scale (bench/RESULTS.md): each filter with the default order. (The search's prefix lookup
            # reads the index PostgreSQL gets with the unique number, varchar_pattern_ops.)
            models.Index(fields=["violation_class", "-issued_at"], name="ticket_class_issued"),
            models.Index(fields=["status", "-issued_at"], name="ticket_status_issued"),
            models.Index(fields=["rule", "-issued_at"], name="ticket_rule_issued"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ticket_idempotency_key_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["issued", "appealing", "revoked", "final"]), name="ticket_status_allowed"
            ),
            models.CheckConstraint(condition=Q(deposit_amount__gte=0), name="ticket_deposit_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="ticket_revoked_has_time"
            ),
        ]

    def __str__(self):
        return self.number

    # Names as issued (the rule may have been renamed since), in the active language.
    @property
    def rule_name(self) -> str:
        snap = self.rule_snapshot or {}
        return bilingual(snap.get("rule_name_zh", ""), snap.get("rule_name_en", "")) or str(self.rule)

    @property
    def tier_name(self) -> str:
        snap = self.rule_snapshot or {}
        return bilingual(snap.get("tier_name_zh", ""), snap.get("tier_name_en", "")) or str(self.tier)

    @property
    def evidence_hint(self) -> str:
        snap = self.rule_snapshot or {}
        return bilingual(snap.get("evidence_hint_zh", ""), snap.get("evidence_hint_en", ""))


class TicketEvidence(DocumentInfoMixin, models.Model):
    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="evidence", verbose_name=_("ticket"))
    file = DocumentField(_("file"), upload_to=PrivateUploadTo("evidence"))
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    label = models.CharField(_("label"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket evidence")
        verbose_name_plural = _("ticket evidence")

    def __str__(self):
        return self.label or self.original_name or self.file.name.rsplit("/", 1)[-1]


class PointEntry(AppendOnlyModel):
    """+points when a ticket is issued, the same −points when it is revoked,
    in the ticket's calendar year (Asia/Shanghai)."""

    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="point_entries", verbose_name=_("shop"))
    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="point_entries", verbose_name=_("ticket"))
    violation_class = models.CharField(_("class"), max_length=1, choices=ViolationClass.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    points = models.SmallIntegerField(_("points"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "violation_class", "year"], name="pointentry_total")]

    def __str__(self):
        return f"{self.shop_id} {self.violation_class}{self.year} {self.points:+d}"


class DepositEntry(AppendOnlyModel):
    """The deposit ledger: the balance is the sum of ``amount`` (SPEC §6.4)."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        DEDUCTION = "deduction", _("Deduction")
        REFUND = "refund", _("Refund")

    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="deposit_entries", verbose_name=_("shop"))
    ticket = models.ForeignKey(Ticket, models.PROTECT, null=True, blank=True, related_name="deposit_entries",
                               verbose_name=_("ticket"))
    node_application = models.ForeignKey(
        "compliance.NodeApplication", models.PROTECT, null=True, blank=True, related_name="deposit_entries",
        verbose_name=_("point node applied"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2,
                                 help_text=_("Negative for a deduction."))
    requested = models.DecimalField(_("requested (CNY)"), max_digits=12, decimal_places=2, default=0)
    shortfall = models.DecimalField(_("shortfall (CNY)"), max_digits=12, decimal_places=2, default=0)
    balance_after = models.DecimalField(_("balance after (CNY)"), max_digits=12, decimal_places=2)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("by"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deposit entry")
        verbose_name_plural = _("deposit entries")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="deposit_balance_never_negative"),
            models.CheckConstraint(condition=Q(shortfall__gte=0), name="deposit_shortfall_non_negative"),
            models.CheckConstraint(
                condition=(Q(kind="deduction") & Q(amount__lte=0)) | (~Q(kind="deduction") & Q(amount__gte=0)),
                name="deposit_sign_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class NodeApplicationQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(status=NodeApplication.Status.IN_FORCE)


class NodeApplication(Workflow, models.Model):
    """A point node in force for a shop, class and year (SPEC §6.2).

    A node follows the year's total, not the ticket that crossed it: it stays
    in force while the total reaches it, whichever ticket is revoked, and is
    lifted — its measures reversed, its deduction refunded — when a revocation
    drops the total below it. The database allows one in-force application per
    shop, node and year; crossing the node again after a lift applies it anew.

    When one ticket crosses several nodes only the strictest one's measures are
    taken; the others are in force with ``subsumed_by`` pointing at it, and
    take their own measures only if the strictest is lifted while they stay
    reached."""

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("In force")
        LIFTED = "lifted", _("Lifted")

    TRANSITIONS = transitions(((Status.IN_FORCE, Status.LIFTED), EventAction.NODE_LIFTED))
    EVENT_SUBJECT = EventSubject.NODE

    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="node_applications",
                             verbose_name=_("shop"))
    node = models.ForeignKey("compliance.PointNode", models.PROTECT, related_name="applications",
                             verbose_name=_("point node"))
    violation_class = models.CharField(_("class"), max_length=1, choices=ViolationClass.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="node_applications",
                               verbose_name=_("ticket that reached the node"))
    total_reached = models.PositiveSmallIntegerField(_("points total reached"))
    applied_at = models.DateTimeField(_("applied at"))
    subsumed_by = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="subsumes",
                                    verbose_name=_("measures taken by the stricter node"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(Ticket, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("revoked ticket that lifted it"))
    total_after_lift = models.PositiveSmallIntegerField(_("points total after the lift"), null=True, blank=True)

    objects = NodeApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("point node applied")
        verbose_name_plural = _("point nodes applied")
        ordering = ["-applied_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "violation_class", "year", "status"], name="nodeapp_shop_class_year"),
            models.Index(fields=["-applied_at", "-id"], name="nodeapp_applied"),
        ]
        constraints = [
            # SPEC §6.2: a node applies at most once per shop, class and year while in force.
            models.UniqueConstraint(fields=["shop", "node", "year"], condition=Q(status="in_force"),
                                    name="nodeapp_once_in_force"),
            models.CheckConstraint(condition=Q(status__in=["in_force", "lifted"]), name="nodeapp_status_allowed"),
            models.CheckConstraint(condition=~Q(status="lifted") | Q(lifted_at__isnull=False),
                                   name="nodeapp_lifted_has_time"),
        ]

    def __str__(self):
        return f"{self.violation_class}{self.node.threshold} · {self.year}"

    @property
    def label(self) -> str:
        return str(node_label(self.violation_class, self.node.threshold))

    @property
    def lift_reason(self) -> str:
        """Why the node was lifted, in the active language ("Lifted: …")."""
        return str(node_lifted_text(**self._lift_figures())) if self.status == self.Status.LIFTED else ""

    @property
    def lift_cause(self) -> str:
        """The same without "Lifted:", where a status beside it says so."""
        return str(node_lift_cause(**self._lift_figures())) if self.status == self.Status.LIFTED else ""

    def _lift_figures(self) -> dict:
        return {"number": self.lifted_by.number if self.lifted_by_id else "—", "violation_class": self.violation_class,
                "year": self.year, "total": self.total_after_lift or 0, "threshold": self.node.threshold}


# Measures that last until they end or are reversed (the others are done once taken).
LASTING_MEASURES = ("delist", "ban", "suspend", "alliance_close", "clear", "freeze_proceeds")


class Measure(models.Model):
    """One effect of a ticket, or of a point node it reached: SPEC §6.3.
    A ticket's own measures are reversed when it is revoked; a node's when the
    node is lifted. The shop's and products' state is recomputed from what is
    still in force, so an effect another measure causes stays."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        DEPOSIT = "deposit", _("Deposit deduction")
        DELIST = "delist", _("Delist products")
        BAN = "ban", _("Ban products")
        SUSPEND = "suspend", _("Suspension")
        ALLIANCE_CLOSE = "alliance_close", _("Alliance closure")
        CLEAR = "clear", _("Clearance")
        FREEZE_PROCEEDS = "freeze_proceeds", _("Freeze proceeds")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        ENDED = "ended", _("Ended")
        REVERSED = "reversed", _("Reversed")
        # A point node's measure that the ticket's own measure already takes
        # (SPEC §6.2: one clearance): recorded, never in force by itself.
        COVERED = "covered", _("Covered by the ticket's own")

    # A warning or a deduction is done once taken; the others last until they
    # end or are reversed.
    ONE_OFF = (Kind.WARNING, Kind.DEPOSIT)
    LASTING = LASTING_MEASURES

    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="measures", verbose_name=_("ticket"))
    shop = models.ForeignKey("shops.Shop", models.PROTECT, related_name="measures", verbose_name=_("shop"))
    node = models.ForeignKey("compliance.PointNode", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("point node"))
    node_application = models.ForeignKey(
        NodeApplication, models.PROTECT, null=True, blank=True, related_name="measures",
        verbose_name=_("point node applied"),
        help_text=_("Set for a node's measures: they follow the year's total, not the ticket."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    products = models.ManyToManyField("shops.Product", through="MeasureProduct", related_name="measures",
                                      blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("taken at"))
    closed_at = models.DateTimeField(_("ended or reversed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "kind", "status"], name="measure_shop_kind_status"),
            models.Index(fields=["kind", "status", "ends_at"], name="measure_due"),
            models.Index(fields=["-created_at", "-id"], name="measure_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.ticket})"

    @property
    def status_label(self) -> str:
        if self.status == self.Status.ACTIVE and self.kind in self.ONE_OFF:
            return str(_("taken"))
        return self.get_status_display()

    @property
    def source_label(self) -> str:
        """What the measure comes from: a point node, or the ticket itself."""
        if self.node_id:
            return str(node_label(self.node.violation_class, self.node.threshold))
        return str(_("ticket %(number)s") % {"number": self.ticket.number})

    @property
    def lift_reason(self) -> str:
        application = self.node_application
        return application.lift_reason if application else ""


class MeasureProduct(models.Model):
    """A product a delisting or ban measure changed, with its status before,
    so that revocation restores exactly what the measure took."""

    measure = models.ForeignKey(Measure, models.PROTECT, related_name="product_links")
    product = models.ForeignKey("shops.Product", models.PROTECT, related_name="+")
    previous_status = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["measure", "product"], name="measureproduct_unique")]


class Event(AppendOnlyModel):
    """The append-only workflow log: who moved what from which status to
    which, when and why (STYLE §2)."""

    Action = EventAction
    Subject = EventSubject

    # The journal's references are not checked by the database (db_constraint=False): tickets and
    # shops are never deleted (PROTECT keeps Django from it), every event is written by a service
    # from the row it holds locked, and the check cost a lookup and a share lock on the shop's and
    # the ticket's rows for every event at commit — a fifth of the daily job's journal (bench/RESULTS.md).
    ticket = models.ForeignKey(Ticket, models.PROTECT, null=True, blank=True, related_name="events",
                               db_constraint=False, verbose_name=_("ticket"))
    # Empty only for what concerns no shop (a service provider's workflow, SPEC §9).
    shop = models.ForeignKey("shops.Shop", models.PROTECT, null=True, blank=True, related_name="events",
                             db_constraint=False, verbose_name=_("shop"))
    # Whose status the event records: each transition writes one event (STYLE §20).
    subject = models.CharField(_("concerning"), max_length=20, choices=EventSubject.choices, blank=True)
    subject_id = models.PositiveBigIntegerField(_("subject ID"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("by"), help_text=_("Empty for the platform's daily job."))
    # Set when a system did it through the API (SPEC §12). Integrations are
    # never deleted, so the foreign key needs no index of its own.
    integration = models.ForeignKey("compliance.Integration", models.PROTECT, null=True, blank=True,
                                    related_name="+", db_index=False, verbose_name=_("integration"))
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "-created_at"], name="event_action_created"),
                   models.Index(fields=["subject", "subject_id"], name="event_subject")]

    def __str__(self):
        return labelled(self.get_action_display(), f"{self.from_label} → {self.to_label}")

    @property
    def summary(self) -> str:
        """The line the timeline shows under the action, in the active language."""
        data = self.data or {}
        if self.action == self.Action.NODE_APPLIED and "applied" in data:
            return str(node_reached_text(violation_class=data["class"], year=data["year"], total=data["total"],
                                         threshold=data["applied"]))
        if self.action == self.Action.NODE_LIFTED and "node" in data:
            return str(node_lifted_text(number=data["revoked"], violation_class=data["class"], year=data["year"],
                                        total=data["total"], threshold=data["node"]))
        return self.reason

    @property
    def from_label(self) -> str:
        return self._label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)

    def _label(self, value: str) -> str:
        """A status in the words of the workflow the event belongs to: the
        workflows share values ("open", "closed") with different meanings."""
        subject = self.subject or EventSubject.TICKET
        model = {EventSubject.TICKET: "compliance.Ticket", EventSubject.APPEAL: "compliance.Appeal",
                 EventSubject.WARNING: "compliance.ViolationWarning",
                 EventSubject.QUALIFICATION: "compliance.Qualification",
                 EventSubject.NOTICE: "compliance.RectificationNotice",
                 EventSubject.ALLIANCE: "compliance.AllianceMembership",
                 EventSubject.NODE: "compliance.NodeApplication", EventSubject.SHOP: "shops.Shop",
                 EventSubject.PROVIDER_REQUEST: "compliance.ProviderRequest",
                 EventSubject.RENEWAL: "compliance.RenewalResult",
                 EventSubject.PROVIDER: "shops.ServiceProvider", EventSubject.MEASURE: "compliance.Measure",
                 EventSubject.WEBHOOK: "compliance.WebhookSubscription",
                 EventSubject.DELIVERY: "compliance.WebhookDelivery",
                 EventSubject.CLAIM: "compliance.Claim"}.get(subject, "compliance.Ticket")
        return str(dict(apps.get_model(model).Status.choices).get(value, value))
