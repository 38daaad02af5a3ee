from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Ledgers and the audit log: rows are added, never changed or removed.
    Corrections are new rows (a refund, a negative point entry)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only and cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only and cannot be deleted.")


class ViolationClass(models.TextChoices):
    A = "A", _("A · General violation")
    B = "B", _("B · Serious violation")


def in_chinese() -> bool:
    """Whether the active language is Chinese (the default when none is)."""
    return (get_language() or "zh-hans").lower().startswith("zh")


def bilingual(zh: str, en: str) -> str:
    return zh if in_chinese() or not en else en


class BilingualNameMixin:
    """``name`` in the active language, from ``name_zh`` / ``name_en``."""

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


class EventAction(models.TextChoices):
    """What an Event records (the journal, SPEC §13's source). Used as
    ``Event.Action``; every action is named by its constant, never a string."""

    TICKET_ISSUED = "ticket_issued", _("Ticket issued")
    TICKET_REVOKED = "ticket_revoked", _("Ticket revoked")
    TICKET_FINAL = "ticket_final", _("Ticket became final")
    TICKET_REINSTATED = "ticket_reinstated", _("Appeal rejected: the ticket stands")
    SHOP_CREATED = "shop_created", _("Shop opened")
    SHOP_STATUS = "shop_status", _("Shop status changed")
    SHOP_CLEARED = "shop_cleared", _("Shop cleared")
    CONTROLLER_BARRED = "controller_barred", _("Shop cleared, controller barred")
    APPEAL_SUBMITTED = "appeal_submitted", _("Appeal submitted")
    APPEAL_APPROVED = "appeal_approved", _("Appeal approved")
    APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")
    NODE_APPLIED = "node_applied", _("Point node reached")
    NODE_LIFTED = "node_lifted", _("Point node lifted")
    QUALIFICATION_SUBMITTED = "qualification_submitted", _("Certificate submitted")
    QUALIFICATION_REVIEWED = "qualification_reviewed", _("Certificate reviewed")
    QUALIFICATION_LAPSED = "qualification_lapsed", _("Certificate no longer valid")
    QUALIFICATION_SUPERSEDED = "qualification_superseded", _("Certificate superseded")
    NOTICE_OPENED = "notice_opened", _("Rectification notice opened")
    NOTICE_CLOSED = "notice_closed", _("Rectification notice closed")
    PRODUCTS_RELISTED = "products_relisted", _("Products relisted")
    ALLIANCE_APPLIED = "alliance_applied", _("Applied to the Selected Alliance")
    ALLIANCE_DECIDED = "alliance_decided", _("Alliance application decided")
    ALLIANCE_CLOSED = "alliance_closed", _("Alliance membership closed")
    ALLIANCE_CLOSURE_VOIDED = "alliance_closure_voided", _("Alliance closure no longer counts")
    WARNING_RECEIVED = "warning_received", _("Warning received")
    WARNING_ANSWERED = "warning_answered", _("Warning answered")
    WARNING_EXPIRED = "warning_expired", _("Warning not answered in time")
    WARNING_CONFIRMED = "warning_confirmed", _("Warning confirmed")
    WARNING_DISMISSED = "warning_dismissed", _("Warning dismissed")
    PROVIDER_REQUEST_RECORDED = "provider_request_recorded", _("Provider request recorded")
    PROVIDER_REQUEST_DECIDED = "provider_request_decided", _("Provider request decided")
    RENEWAL_ASSESSED = "renewal_assessed", _("Renewal assessed")
    RENEWAL_CONFIRMED = "renewal_confirmed", _("Renewal result confirmed")
    PROVIDER_REVOKED = "provider_revoked", _("Provider's certification revoked")
    PROVIDER_CERTIFIED = "provider_certified", _("Provider certified")
    PROVIDER_EXITED = "provider_exited", _("Provider exited")


class EventSubject(models.TextChoices):
    """Whose status an Event records (each transition writes one Event)."""

    TICKET = "ticket", _("ticket")
    APPEAL = "appeal", _("appeal")
    WARNING = "warning", _("violation warning")
    QUALIFICATION = "qualification", _("qualification certificate")
    NOTICE = "notice", _("rectification notice")
    ALLIANCE = "alliance", _("alliance membership")
    NODE = "node", _("point node applied")
    SHOP = "shop", _("shop")
    PROVIDER_REQUEST = "provider_request", _("provider request")
    RENEWAL = "renewal", _("renewal result")
    PROVIDER = "provider", _("service provider")


def transitions(*pairs) -> dict[tuple[str, str], frozenset]:
    """A model's declared status changes (STYLE §20, django-oscar's
    ``pipeline``): ``((from, to), action or actions)`` pairs → map."""
    table = {}
    for (source, target), actions in pairs:
        table[(str(source), str(target))] = frozenset(
            str(a) for a in (actions if isinstance(actions, (set, frozenset, tuple, list)) else [actions]))
    return table


class Workflow:
    """A model whose ``status`` changes only through its declared
    transitions, each writing one Event (services.transitions)."""

    TRANSITIONS: dict = {}
    EVENT_SUBJECT = ""

    @classmethod
    def allows(cls, source, target, action=None) -> bool:
        actions = cls.TRANSITIONS.get((str(source), str(target)))
        return actions is not None and (action is None or str(action) in actions)

    @classmethod
    def sources_of(cls, target) -> set[str]:
        """The statuses from which ``target`` can be reached."""
        return {source for source, to in cls.TRANSITIONS if to == str(target)}
