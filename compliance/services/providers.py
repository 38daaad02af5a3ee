"""Renewal assessment of industry-belt service providers (SPEC §9): the
assessment, its confirmation (a failure revokes the certification, ends the
agreement and publishes the delisting notice 摘牌公示), and providers'
requests — a new application (refused within the lock-out after a
revocation unless marked a special case) and exit with a deposit refund."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import shanghai
from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import (
    PROVIDER_TRANSITIONS, Event, PolicySettings, ProviderRequest, RenewalCampaign, RenewalResult,
)
from compliance.selectors.providers import in_scope, orders_counted, renewal_explanation  # noqa: F401 (re-exported)
from shops.models import ServiceProvider

from .claims import claims_settle
from .events import journal, new_event, record_event, transition

PROVIDER = Event.Subject.PROVIDER


def _provider_transition(provider, to, *, action, at, actor, reason="", fields=()):
    return transition(provider, to, action=action, at=at, actor=actor, shop=None, reason=reason, fields=fields,
                      table=PROVIDER_TRANSITIONS, subject=PROVIDER, data={"provider": provider.name})


def renewals_assess(*, campaign: RenewalCampaign, now: datetime.datetime | None = None) -> list[RenewalResult]:
    """Assess every provider in scope and write (or replace) its result;
    confirmed results are kept as they are. Running it again gives the same
    results."""
    now = now or timezone.now()
    providers = list(in_scope(campaign).order_by("pk"))
    totals = orders_counted(campaign, [p.pk for p in providers])
    confirmed = set(RenewalResult.objects.filter(campaign=campaign, status=RenewalResult.Status.CONFIRMED)
                    .values_list("provider_id", flat=True))
    results = []
    with transaction.atomic():
        for provider in providers:  # a few hundred providers a campaign
            if provider.pk in confirmed:
                continue
            orders = totals.get(provider.pk, 0)
            orders_ok = orders >= campaign.order_threshold
            # SPEC §9: "paid in full by the end of the period" — the last day counts.
            deposit_ok = (provider.deposit_paid >= campaign.deposit_required and provider.deposit_paid_on is not None
                          and provider.deposit_paid_on <= campaign.period_end)
            result, _created = RenewalResult.objects.update_or_create(
                campaign=campaign, provider=provider, defaults=dict(
                    orders_counted=orders, deposit_paid=provider.deposit_paid, deposit_ok=deposit_ok,
                    passed=orders_ok and deposit_ok, assessed_at=now, status=RenewalResult.Status.ASSESSED,
                    explanation=renewal_explanation(campaign, orders=orders, deposit=provider.deposit_paid,
                                                    paid_on=provider.deposit_paid_on, orders_ok=orders_ok,
                                                    deposit_ok=deposit_ok)))
            results.append(result)
        journal([
            new_event(action=Event.Action.RENEWAL_ASSESSED, at=now, subject=Event.Subject.RENEWAL, subject_id=r.pk,
                      to_status=r.status, reason=r.explanation,
                      data={"provider": r.provider.name, "campaign": campaign.name, "passed": r.passed,
                            "orders": r.orders_counted}) for r in results])
    return results


def renewal_confirm(*, result: RenewalResult, actor, now: datetime.datetime | None = None) -> RenewalResult:
    """A reviewer confirms a result. A failure revokes the certification,
    ends the agreement (the bindings end today) and publishes the delisting
    notice on the public page; the provider stays an ordinary one."""
    now = now or timezone.now()
    with transaction.atomic():
        result = RenewalResult.objects.select_for_update().select_related("provider", "campaign").get(pk=result.pk)
        if result.status != RenewalResult.Status.ASSESSED:
            raise InvalidTransition(_("This result has already been confirmed."))
        result.confirmed_by, result.confirmed_at = actor, now
        if not result.passed:
            provider = ServiceProvider.objects.select_for_update().get(pk=result.provider_id)
            provider.revoked_at = now
            _provider_transition(provider, ServiceProvider.Status.REVOKED, action=Event.Action.PROVIDER_REVOKED,
                                 at=now, actor=actor, reason=result.explanation, fields=["revoked_at"])
            today = shanghai(now).date()
            provider.bindings.filter(Q(ends_on=None) | Q(ends_on__gt=today)).update(ends_on=today)
            result.published_at = now
        transition(result, RenewalResult.Status.CONFIRMED, action=Event.Action.RENEWAL_CONFIRMED, at=now,
                   actor=actor, shop=None, reason=result.explanation,
                   data={"provider": result.provider.name, "passed": result.passed},
                   fields=["confirmed_by", "confirmed_at", "published_at"])
    return result


def provider_request(*, provider: ServiceProvider, kind: str, actor, note: str = "", special_case: bool = False,
                     now: datetime.datetime | None = None) -> ProviderRequest:
    """Record a provider's request. A new application within the lock-out
    after a revocation is refused unless marked a special case (SPEC §9)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Checked under the provider's lock: a decision recorded meanwhile is seen.
        provider = ServiceProvider.objects.select_for_update().get(pk=provider.pk)
        if kind == ProviderRequest.Kind.APPLICATION:
            if provider.status == ServiceProvider.Status.CERTIFIED:
                raise InvalidTransition(_("This provider is certified already."))
            days = PolicySettings.load().provider_reapply_days
            if provider.revoked_at and not special_case:
                allowed = shanghai(provider.revoked_at).date() + datetime.timedelta(days=days)
                if shanghai(now).date() < allowed:
                    raise DomainError(_("The certification was revoked on %(day)s: a new application is accepted "
                                        "from %(allowed)s (%(days)d days), unless marked as a special case.") % {
                        "day": shanghai(provider.revoked_at).date().isoformat(), "allowed": allowed.isoformat(),
                        "days": days})
        elif provider.status == ServiceProvider.Status.EXITED:
            raise InvalidTransition(_("This provider has exited already."))
        if ProviderRequest.objects.filter(provider=provider, kind=kind, status=ProviderRequest.Status.PENDING).exists():
            raise InvalidTransition(_("A request of this kind is already pending."))
        request = ProviderRequest.objects.create(provider=provider, kind=kind, note=note.strip(),
                                                 special_case=special_case, submitted_at=now)
        record_event(shop=None, action=Event.Action.PROVIDER_REQUEST_RECORDED, at=now, actor=actor,
                     subject=Event.Subject.PROVIDER_REQUEST, subject_id=request.pk, to_status=request.status,
                     reason=request.note, data={"provider": provider.name, "kind": kind,
                                                "special_case": special_case})
    return request


def provider_request_decide(*, request: ProviderRequest, approve: bool, reason: str, actor,
                            now: datetime.datetime | None = None) -> ProviderRequest:
    """Approve or reject. An approved application certifies the provider
    again from today; an approved exit ends its bindings and refunds the
    deposit in full."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError(_("Give the reason for the rejection."))
    now = now or timezone.now()
    with transaction.atomic():
        request = ProviderRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != ProviderRequest.Status.PENDING:
            raise InvalidTransition(_("This request has already been decided."))
        claims_settle(Event.Subject.PROVIDER_REQUEST, [request.pk], actor=actor, now=now)
        request.decided_by, request.decided_at, request.decision_reason = actor, now, reason
        transition(request, ProviderRequest.Status.APPROVED if approve else ProviderRequest.Status.REJECTED,
                   action=Event.Action.PROVIDER_REQUEST_DECIDED, at=now, actor=actor, shop=None, reason=reason,
                   data={"provider": request.provider.name, "kind": request.kind},
                   fields=["decided_by", "decided_at", "decision_reason"])
        if approve:
            provider = ServiceProvider.objects.select_for_update().get(pk=request.provider_id)
            today = shanghai(now).date()
            if request.kind == ProviderRequest.Kind.APPLICATION:
                provider.certified_on = today
                _provider_transition(provider, ServiceProvider.Status.CERTIFIED,
                                     action=Event.Action.PROVIDER_CERTIFIED, at=now, actor=actor, reason=reason,
                                     fields=["certified_on"])
            else:
                provider.deposit_paid = Decimal("0")
                _provider_transition(provider, ServiceProvider.Status.EXITED, action=Event.Action.PROVIDER_EXITED,
                                     at=now, actor=actor, reason=reason, fields=["deposit_paid"])
                provider.bindings.filter(Q(ends_on=None) | Q(ends_on__gt=today)).update(ends_on=today)
    return request
