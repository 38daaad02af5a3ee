"""Background work (SPEC §10): the e-mail outbox, the daily job's runs and
shards, and the workers' heartbeats. The task engine (Django's
Tasks API on the database backend) carries the work; these tables say what
the work is and how far it got, so that a task run twice changes nothing."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from compliance.wording import labelled

from .base import EventAction, EventSubject, Workflow, transitions


class OutboxEmail(Workflow, models.Model):
    """The e-mail copy of a portal message, written in the transaction that
    wrote the message (STYLE §21) and sent by a worker. A delivery that
    keeps failing is retried with growing delays (PolicySettings) and is dead
    after the last attempt; a compliance admin sends it again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        DEAD = "dead", _("undeliverable")

    # Sending is the row's own record (sent_at, attempts): an Event for each
    # of millions of e-mails would double the journal and tell a reviewer
    # nothing. Giving up and sending again are decisions: those are journalled.
    TRANSITIONS = transitions(
        ((Status.PENDING, Status.DEAD), EventAction.MAIL_DEAD),
        ((Status.DEAD, Status.PENDING), EventAction.MAIL_RESENT),
        ((Status.SENT, Status.PENDING), EventAction.MAIL_RESENT),
    )
    EVENT_SUBJECT = EventSubject.MAIL

    # Empty for an e-mail to the back office (notifications.notify_staff).
    shop = models.ForeignKey("shops.Shop", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=30)
    to = models.EmailField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("written at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # A worker that takes the row holds it until then; past it, another may.
    leased_until = models.DateTimeField(_("held by a worker until"), null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        permissions = [("resend_outboxemail", _("Can send an e-mail again"))]
        indexes = [
            # The workers' queue: only what is still to be sent.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="outbox_due"),
            # The list: newest first (the primary key), or one status newest first.
            models.Index(fields=["status", "-id"], name="outbox_list"),
        ]

    def __str__(self):
        return f"{self.to}: {self.subject}"


class DailyRun(models.Model):
    """One run of the daily job for a day (SPEC §10): its steps in order,
    each split into shards of shops that workers run as tasks."""

    day = models.DateField(_("day"))
    cutoff = models.DateTimeField(_("cut-off"))
    shards = models.PositiveSmallIntegerField(_("shards"))
    shop_max = models.BigIntegerField(_("highest shop ID"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    step = models.PositiveSmallIntegerField(_("current step"), default=0)

    class Meta:
        verbose_name = _("daily job run")
        verbose_name_plural = _("daily job runs")
        indexes = [models.Index(fields=["day", "-started_at"], name="dailyrun_day")]

    def __str__(self):
        return f"{self.day} #{self.pk}"


class DailyShard(models.Model):
    """One step of a run over one range of shop IDs ``[lo, hi)``."""

    run = models.ForeignKey(DailyRun, models.PROTECT, related_name="shard_rows")
    position = models.PositiveSmallIntegerField(_("step number"))
    step = models.CharField(_("step"), max_length=40)
    shard = models.PositiveSmallIntegerField(_("shard"))
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    task_id = models.UUIDField(null=True, blank=True)
    count = models.PositiveIntegerField(_("rows changed"), null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily job shard")
        verbose_name_plural = _("daily job shards")
        constraints = [models.UniqueConstraint(fields=["run", "position", "shard"], name="dailyshard_once")]


class Job(Workflow, models.Model):
    """Work a user started that runs as a task (SPEC §10): a preview, an
    export, an import. The page that started it follows its progress; its
    result stays for that user alone to open from "My jobs"."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Kind(models.TextChoices):
        NODE_PREVIEW = "node_preview", _("Preview of a point-node change")
        RULE_PREVIEW = "rule_preview", _("Preview of a rule change")
        TICKET_EXPORT = "ticket_export", _("Ticket export")
        SCORE_IMPORT = "score_import", _("Experience-score import")
        ORDER_IMPORT = "order_import", _("Daily-order import")
        WARNING_PREVIEW = "warning_preview", _("Preview of a bulk warning decision")
        WARNING_DECISION = "warning_decision", _("Bulk warning decision")
        MISSING_PREVIEW = "missing_preview", _("Preview of tickets for missing certificates")
        MISSING_ISSUE = "missing_issue", _("Tickets for missing certificates")

    # Who ran which preview, export or import is part of the audit trail.
    TRANSITIONS = transitions(
        ((Status.QUEUED, Status.RUNNING), EventAction.JOB_STARTED),
        ((Status.RUNNING, Status.DONE), EventAction.JOB_DONE),
        ((Status.RUNNING, Status.FAILED), EventAction.JOB_FAILED),
        ((Status.QUEUED, Status.FAILED), EventAction.JOB_FAILED),
    )
    EVENT_SUBJECT = EventSubject.JOB

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="jobs", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # What the job concerns, as data (a node, a rule, a file name): shown
    # after the kind's name, which follows the reader's language.
    title = models.CharField(_("concerning"), max_length=200, blank=True)
    params = models.JSONField(_("parameters"), default=dict, encoder=DjangoJSONEncoder)
    language = models.CharField(max_length=10)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("of"), default=0)
    created_at = models.DateTimeField(_("started at"))
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True, encoder=DjangoJSONEncoder)
    file = models.CharField(_("file"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        permissions = [("import_daily", _("Can import experience scores and daily orders"))]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="job_mine")]

    def __str__(self):
        kind = self.get_kind_display()
        return labelled(kind, self.title) if self.title else str(kind)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(self.done * 100 // self.total, 99) if self.total else 0


class WorkerBeat(models.Model):
    """A worker process's heartbeat (compliance/worker.py)."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
