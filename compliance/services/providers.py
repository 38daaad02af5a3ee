"""Renewal assessment of industry-belt service providers (SPEC §9): the
assessment, its confirmation (a failure revokes the certification, ends the
agreement and publishes the delisting notice 摘牌公示), and providers'
requests — a new application (refused within the lock-out after a
revocation unless marked a special case) and exit with a deposit refund."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import PolicySettings, ProviderRequest, RenewalCampaign, RenewalResult
from compliance.models.base import in_chinese
from shops.formats import money
from shops.models import ProviderBinding, ServiceProvider

from .assessment import shanghai


def in_scope(campaign: RenewalCampaign):
    """Certified providers certified (and, when known, formally converted)
    before the campaign's days."""
    providers = ServiceProvider.objects.filter(status=ServiceProvider.Status.CERTIFIED,
                                               certified_on__lt=campaign.certified_before)
    if campaign.converted_before:
        providers = providers.filter(Q(converted_on=None) | Q(converted_on__lt=campaign.converted_before))
    return providers


def orders_counted(campaign: RenewalCampaign, provider_ids) -> dict[int, int]:
    """Each provider's bound shops' paid orders in the period, gift orders
    excluded, a shop's orders counting only on the days it was bound — one
    aggregate query over the bindings and the daily orders."""
    # One filter() call: every condition on the daily orders applies to the same joined row.
    day = "shop__daily_orders__day"
    bound = (
        ProviderBinding.objects.filter(
            Q(provider__in=list(provider_ids)), Q(**{f"{day}__gte": campaign.period_start}),
            Q(**{f"{day}__lte": campaign.period_end}), Q(**{f"{day}__gte": F("starts_on")}),
            Q(ends_on=None) | Q(**{f"{day}__lte": F("ends_on")}))
        .values("provider")
        .annotate(total=Coalesce(Sum(F("shop__daily_orders__paid_orders") - F("shop__daily_orders__gift_orders")), 0))
    )
    return {row["provider"]: row["total"] for row in bound}


def _explain(campaign, *, orders, deposit, paid_on, orders_ok, deposit_ok) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        parts = [
            _("Paid orders of bound shops in %(start)s – %(end)s, gift orders excluded: %(orders)s (%(threshold)s "
              "required).") % {"start": campaign.period_start.isoformat(), "end": campaign.period_end.isoformat(),
                               "orders": f"{orders:,}", "threshold": f"{campaign.order_threshold:,}"},
            _("Deposit: %(paid)s paid%(on)s; %(required)s required by %(end)s.") % {
                "paid": money(deposit), "on": _(" in full on %(day)s") % {"day": paid_on.isoformat()} if paid_on else "",
                "required": money(campaign.deposit_required), "end": campaign.period_end.isoformat()},
        ]
        if orders_ok and deposit_ok:
            parts.append(_("Passed."))
        else:
            failed = [text for ok, text in ((orders_ok, _("too few orders")), (deposit_ok, _("deposit not paid in full "
                                                                                             "in time"))) if not ok]
            parts.append(_("Failed: %(why)s.") % {"why": _(", ").join(failed)})
        return ("" if in_chinese() else " ").join(parts)  # Chinese sentences run on without spaces


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
        for provider in providers:
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
                    explanation=_explain(campaign, orders=orders, deposit=provider.deposit_paid,
                                         paid_on=provider.deposit_paid_on, orders_ok=orders_ok,
                                         deposit_ok=deposit_ok)))
            results.append(result)
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
        result.status, result.confirmed_by, result.confirmed_at = RenewalResult.Status.CONFIRMED, actor, now
        if not result.passed:
            provider = ServiceProvider.objects.select_for_update().get(pk=result.provider_id)
            provider.status, provider.revoked_at = ServiceProvider.Status.REVOKED, now
            provider.save(update_fields=["status", "revoked_at"])
            today = shanghai(now).date()
            provider.bindings.filter(Q(ends_on=None) | Q(ends_on__gt=today)).update(ends_on=today)
            result.published_at = now
        result.save(update_fields=["status", "confirmed_by", "confirmed_at", "published_at"])
    return result


def provider_request(*, provider: ServiceProvider, kind: str, actor, note: str = "", special_case: bool = False,
                     now: datetime.datetime | None = None) -> ProviderRequest:
    """Record a provider's request. A new application within the lock-out
    after a revocation is refused unless marked a special case (SPEC §9)."""
    now = now or timezone.now()
    if kind == ProviderRequest.Kind.APPLICATION:
        if provider.status == ServiceProvider.Status.CERTIFIED:
            raise InvalidTransition(_("This provider is certified already."))
        days = PolicySettings.load().provider_reapply_days
        if provider.revoked_at and not special_case:
            allowed = shanghai(provider.revoked_at).date() + datetime.timedelta(days=days)
            if shanghai(now).date() < allowed:
                raise DomainError(_("The certification was revoked on %(day)s: a new application is accepted from "
                                    "%(allowed)s (%(days)d days), unless marked as a special case.") % {
                    "day": shanghai(provider.revoked_at).date().isoformat(), "allowed": allowed.isoformat(),
                    "days": days})
    elif provider.status == ServiceProvider.Status.EXITED:
        raise InvalidTransition(_("This provider has exited already."))
    if ProviderRequest.objects.filter(provider=provider, kind=kind, status=ProviderRequest.Status.PENDING).exists():
        raise InvalidTransition(_("A request of this kind is already pending."))
    return ProviderRequest.objects.create(provider=provider, kind=kind, note=note.strip(), special_case=special_case,
                                          submitted_at=now)


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
        request.status = ProviderRequest.Status.APPROVED if approve else ProviderRequest.Status.REJECTED
        request.decided_by, request.decided_at, request.decision_reason = actor, now, reason
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        if approve:
            provider = ServiceProvider.objects.select_for_update().get(pk=request.provider_id)
            today = shanghai(now).date()
            if request.kind == ProviderRequest.Kind.APPLICATION:
                provider.status, provider.certified_on = ServiceProvider.Status.CERTIFIED, today
                provider.save(update_fields=["status", "certified_on"])
            else:
                provider.status, provider.deposit_paid = ServiceProvider.Status.EXITED, Decimal("0")
                provider.save(update_fields=["status", "deposit_paid"])
                provider.bindings.filter(Q(ends_on=None) | Q(ends_on__gt=today)).update(ends_on=today)
    return request
