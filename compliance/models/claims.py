from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import EventAction, EventSubject, Workflow, transitions


class Claim(Workflow, models.Model):
    """A reviewer's hold 领取 on one item of a queue (SPEC §14): an appeal, a
    warning, a certificate, an alliance application, a product missing a
    qualification, a provider request — ``subject`` and ``subject_id``, as
    in the journal. Held for a lease renewed while the reviewer keeps the
    item open; while it runs, nobody else decides the item. Ended when the
    holder releases it, decides the item, a compliance admin hands it to
    someone else, or another reviewer takes it after the lease ran out.
    Rows are never deleted: the history of who held what."""

    class Status(models.TextChoices):
        HELD = "held", _("held")
        RELEASED = "released", _("released")
        DONE = "done", _("decided")
        REASSIGNED = "reassigned", _("handed over")
        LAPSED = "lapsed", _("lease ran out")

    TRANSITIONS = transitions(
        ((Status.HELD, Status.RELEASED), EventAction.CLAIM_RELEASED),
        ((Status.HELD, Status.DONE), EventAction.CLAIM_DONE),
        ((Status.HELD, Status.REASSIGNED), EventAction.CLAIM_REASSIGNED),
        ((Status.HELD, Status.LAPSED), EventAction.CLAIM_LAPSED),
    )
    EVENT_SUBJECT = EventSubject.CLAIM

    subject = models.CharField(_("queue item"), max_length=20, choices=EventSubject.choices)
    subject_id = models.BigIntegerField(_("item ID"))
    # The item's shop (a provider request has none): the journal's and the lists' shop.
    shop = models.ForeignKey("shops.Shop", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("shop"))
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                               verbose_name=_("held by"))
    claimed_at = models.DateTimeField(_("claimed at"))
    leased_until = models.DateTimeField(_("held until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.HELD)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("ended by"))

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        permissions = [("reassign_claim", _("Can hand claimed queue items to another reviewer"))]
        indexes = [
            # A reviewer's "mine" view: the items they hold.
            models.Index(fields=["holder", "subject"], condition=Q(status="held"), name="claim_held_by"),
        ]
        constraints = [
            # One holder at a time: two reviewers claiming at once, the second insert fails (SPEC §14).
            models.UniqueConstraint(fields=["subject", "subject_id"], condition=Q(status="held"),
                                    name="claim_one_holder"),
            models.CheckConstraint(condition=Q(status__in=["held", "released", "done", "reassigned", "lapsed"]),
                                   name="claim_status_allowed"),
            models.CheckConstraint(condition=Q(status="held") | Q(ended_at__isnull=False), name="claim_ended_at"),
        ]

    def __str__(self):
        return f"{self.get_subject_display()} {self.subject_id}"

    def running(self, now) -> bool:
        """Held and the lease not run out: nobody else may decide the item."""
        return self.status == self.Status.HELD and self.leased_until > now
