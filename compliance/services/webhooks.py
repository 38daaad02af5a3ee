"""Webhook subscriptions (SPEC §13): made, changed, paused and deleted by
their integration through the API (or by a compliance admin), each change
journalled. The secret is returned once by ``webhook_subscribe`` and
``webhook_rotate_secret`` and never again; after a rotation the old secret
still signs, beside the new one, for ``ROTATION_OVERLAP``."""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError
from compliance.models import EVENT_TYPES, Event, WebhookSubscription
from compliance.models.webhooks import ROTATION_OVERLAP
from compliance.webhooks import check_url

from .events import record_event, transition

Status = WebhookSubscription.Status
SECRET_PREFIX = "whsec_"


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _event_types(events) -> list[str]:
    """The types asked for, each once, in SPEC §13's order; refuses others."""
    wanted = {str(e) for e in events}
    unknown = sorted(wanted - set(EVENT_TYPES))
    if unknown:
        raise ValidationError({"events": [_("Unknown event type: %(type)s.") % {"type": unknown[0]}]})
    if not wanted:
        raise ValidationError({"events": [_("Choose one or more of: %(types)s.") % {"types": ", ".join(EVENT_TYPES)}]})
    return [t for t in EVENT_TYPES if t in wanted]


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc
    return url


def webhook_subscribe(*, integration, url: str, events, actor=None,
                      now: datetime.datetime | None = None) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its secret, to be shown once."""
    now = now or timezone.now()
    url, events = _checked_url(url), _event_types(events)
    secret = _new_secret()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(integration=integration, url=url, events=events,
                                                          secret=secret, created_at=now, created_by=actor)
        record_event(shop=None, action=Event.Action.WEBHOOK_SUBSCRIBED, at=now, actor=actor,
                     integration=integration, subject=Event.Subject.WEBHOOK, subject_id=subscription.pk,
                     to_status=subscription.status, data={"url": url, "events": events})
    return subscription, secret


def _locked(subscription: WebhookSubscription) -> WebhookSubscription:
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.status == Status.DELETED:
        raise DomainError(_("This subscription was deleted."))
    return locked


def webhook_change(subscription: WebhookSubscription, *, url: str | None = None, events=None,
                   active: bool | None = None, actor=None, integration=None,
                   now: datetime.datetime | None = None) -> WebhookSubscription:
    """Change the URL or the event types (checked as when made), and pause or
    resume it; each change journalled. Returns the subscription as saved."""
    now = now or timezone.now()
    url = _checked_url(url) if url is not None else None
    events = _event_types(events) if events is not None else None
    with transaction.atomic():
        subscription = _locked(subscription)
        changed = {}
        if url is not None and url != subscription.url:
            changed["url"] = subscription.url = url
        if events is not None and events != subscription.events:
            changed["events"] = subscription.events = events
        if changed:
            subscription.save(update_fields=list(changed))
            record_event(shop=None, action=Event.Action.WEBHOOK_CHANGED, at=now, actor=actor,
                         integration=integration, subject=Event.Subject.WEBHOOK, subject_id=subscription.pk,
                         data=changed)
        wanted = None if active is None else (Status.ACTIVE if active else Status.PAUSED)
        if wanted is not None and wanted != subscription.status:
            transition(subscription, wanted, at=now, actor=actor, integration=integration, shop=None,
                       action=Event.Action.WEBHOOK_RESUMED if active else Event.Action.WEBHOOK_PAUSED)
    return subscription


def webhook_rotate_secret(subscription: WebhookSubscription, *, actor=None, integration=None,
                          now: datetime.datetime | None = None) -> tuple[WebhookSubscription, str]:
    """A new secret, to be shown once; the one it replaces still signs, beside
    it, for ``ROTATION_OVERLAP`` (receivers switch without losing a delivery)."""
    now = now or timezone.now()
    secret = _new_secret()
    with transaction.atomic():
        subscription = _locked(subscription)
        subscription.previous_secret, subscription.secret = subscription.secret, secret
        subscription.previous_secret_until = now + ROTATION_OVERLAP
        subscription.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        record_event(shop=None, action=Event.Action.WEBHOOK_SECRET_ROTATED, at=now, actor=actor,
                     integration=integration, subject=Event.Subject.WEBHOOK, subject_id=subscription.pk,
                     data={"old_secret_signs_until": subscription.previous_secret_until.isoformat()})
    return subscription, secret


def webhook_delete(subscription: WebhookSubscription, *, actor=None, integration=None,
                   now: datetime.datetime | None = None) -> WebhookSubscription:
    """No more deliveries; the row and its journal stay (nothing is deleted)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = _locked(subscription)
        transition(subscription, Status.DELETED, action=Event.Action.WEBHOOK_DELETED, at=now, actor=actor,
                   integration=integration, shop=None)
    return subscription
