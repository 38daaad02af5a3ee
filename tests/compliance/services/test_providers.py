"""SPEC §9: the renewal assessment (bindings across the period's edges, gift
orders, the deposit deadline), confirmation, the re-application lock-out."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.exceptions import DomainError
from compliance.models import ProviderRequest, RenewalCampaign, RenewalResult
from compliance.services.providers import (
    orders_counted, provider_request, provider_request_decide, renewal_confirm, renewals_assess,
)
from shops.models import ProviderBinding, ServiceProvider, ShopDailyOrders
from tests.factories import make_shop

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def campaign(db):
    campaign = RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核")
    campaign.order_threshold = 100
    campaign.save()
    return campaign


def provider(**fields):
    defaults = dict(name="杭州产业带服务商", certified_on=D(2023, 6, 1), converted_on=D(2023, 6, 1),
                    deposit_paid=Decimal("100000"), deposit_paid_on=D(2023, 11, 1))
    return ServiceProvider.objects.create(**{**defaults, **fields})


def orders(shop, day, paid, gift=0):
    ShopDailyOrders.objects.create(shop=shop, day=day, paid_orders=paid, gift_orders=gift)


def test_the_2024_campaign_ships_as_data(campaign):
    assert (campaign.period_start, campaign.period_end) == (D(2023, 12, 1), D(2024, 2, 29))
    assert campaign.deposit_required == Decimal("100000")


def test_orders_count_only_while_bound_inside_the_period_without_gifts(campaign):
    p = provider()
    a, b, c = make_shop(), make_shop(), make_shop()
    ProviderBinding.objects.create(provider=p, shop=a, starts_on=D(2023, 11, 1))  # open-ended, from before
    ProviderBinding.objects.create(provider=p, shop=b, starts_on=D(2024, 1, 10), ends_on=D(2024, 3, 31))
    ProviderBinding.objects.create(provider=p, shop=c, starts_on=D(2023, 12, 5), ends_on=D(2023, 12, 6))
    for day in (D(2023, 11, 30), D(2023, 12, 1), D(2024, 2, 29), D(2024, 3, 1)):  # edges of the period
        orders(a, day, 10, gift=3)
    orders(b, D(2024, 1, 9), 50)   # the day before it was bound
    orders(b, D(2024, 1, 10), 20)  # its first bound day
    for day in (D(2023, 12, 4), D(2023, 12, 5), D(2023, 12, 6), D(2023, 12, 7)):
        orders(c, day, 5)
    # a: 2 days in the period × (10 − 3); b: 20; c: its two bound days × 5.
    assert orders_counted(campaign, [p.pk]) == {p.pk: 14 + 20 + 10}


@pytest.mark.parametrize("paid_on, ok", [(D(2024, 2, 29), True), (D(2024, 3, 1), False)])
def test_deposit_paid_on_the_last_day_vs_the_day_after(campaign, paid_on, ok):
    p = provider(deposit_paid_on=paid_on)
    shop = make_shop()
    ProviderBinding.objects.create(provider=p, shop=shop, starts_on=D(2023, 1, 1))
    orders(shop, D(2024, 1, 15), 500)
    result = renewals_assess(campaign=campaign)[0]
    assert result.deposit_ok is ok and result.passed is ok
    assert "2024-02-29" in result.explanation


def test_scope_threshold_and_idempotent_reassessment(campaign):
    late = provider(name="新服务商", certified_on=D(2023, 12, 1))  # not before 1 December
    short = provider(name="订单不足的服务商")
    shop = make_shop()
    ProviderBinding.objects.create(provider=short, shop=shop, starts_on=D(2023, 1, 1))
    orders(shop, D(2024, 1, 15), 99)
    results = renewals_assess(campaign=campaign)
    assert [r.provider for r in results] == [short] and not results[0].passed
    assert "99" in results[0].explanation and "100" in results[0].explanation
    orders(shop, D(2024, 1, 16), 1)
    out = StringIO()
    call_command("assess_renewals", campaign.name, stdout=out)
    assert "1 passed" in out.getvalue()
    assert RenewalResult.objects.get().passed and RenewalResult.objects.count() == 1
    assert late.renewal_results.count() == 0


def test_confirming_a_failure_revokes_and_publishes(campaign, reviewer):
    p = provider(deposit_paid=Decimal("50000"))
    shop = make_shop()
    binding = ProviderBinding.objects.create(provider=p, shop=shop, starts_on=D(2023, 1, 1))
    result = renewals_assess(campaign=campaign)[0]
    now = timezone.make_aware(datetime.datetime(2024, 3, 10, 12))
    renewal_confirm(result=result, actor=reviewer, now=now)
    p.refresh_from_db()
    binding.refresh_from_db()
    result.refresh_from_db()
    assert p.status == "revoked" and binding.ends_on == D(2024, 3, 10) and result.published_at == now
    renewals_assess(campaign=campaign)  # a confirmed result is kept, and a revoked provider is out of scope
    assert RenewalResult.objects.get().status == "confirmed"


@pytest.mark.parametrize("days, accepted", [(89, False), (90, True), (91, True)])
def test_new_application_lock_out(reviewer, days, accepted):
    revoked = timezone.make_aware(datetime.datetime(2024, 3, 10, 12))
    p = provider(status="revoked", revoked_at=revoked)
    now = revoked + datetime.timedelta(days=days)
    if accepted:
        assert provider_request(provider=p, kind="application", actor=reviewer, now=now)
    else:
        with pytest.raises(DomainError, match="special case"):
            provider_request(provider=p, kind="application", actor=reviewer, now=now)
        special = provider_request(provider=p, kind="application", actor=reviewer, special_case=True, now=now)
        assert special.special_case


def test_exit_and_refund(reviewer):
    p = provider()
    shop = make_shop()
    ProviderBinding.objects.create(provider=p, shop=shop, starts_on=D(2023, 1, 1))
    request = provider_request(provider=p, kind="exit", actor=reviewer, note="业务调整")
    with pytest.raises(DomainError):
        provider_request_decide(request=request, approve=False, reason="", actor=reviewer)
    provider_request_decide(request=request, approve=True, reason="", actor=reviewer)
    p.refresh_from_db()
    assert p.status == "exited" and p.deposit_paid == 0 and p.bindings.get().ends_on is not None
    assert ProviderRequest.objects.get().status == "approved"
