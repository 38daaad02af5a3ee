"""Selected Alliance through HTTP (SPEC §8): the merchant sees every
criterion and applies in the portal; a reviewer decides beside the criteria
evaluated at decision time, and may close a membership as unsuitable."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import AllianceMembership
from shops.models import Shop, ShopScore
from tests.factories import fund, issue, make_merchant, make_product, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return fund(make_shop(experience_score=Decimal("86.50")), 20000)


@pytest.fixture
def merchant(shop):
    return make_merchant("alliance-merchant", shop)


def test_an_eligible_merchant_applies(client, shop, merchant):
    client.force_login(merchant)
    url = f"/portal/shops/{shop.shop_no}/alliance/"
    page = client.get(url).content.decode()
    assert 'id="alliance-apply"' in page and "体验分 86.50，大于 70.00。" in page
    response = client.post(url)
    assert response.status_code == 302
    m = AllianceMembership.objects.get(shop=shop)
    assert m.status == "applied" and m.applied_by == merchant
    again = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400 and "cannot apply now" in again.content.decode()


def test_a_merchant_who_fails_sees_why_and_cannot_apply(client, shop, merchant, reviewer):
    Shop.objects.filter(pk=shop.pk).update(experience_score=Decimal("68"))
    issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    client.force_login(merchant)
    url = f"/portal/shops/{shop.shop_no}/alliance/"
    page = client.get(url).content.decode()
    assert "体验分 68.00，需大于 70.00。" in page and "B 类违规单" in page and 'id="alliance-apply"' not in page
    response = client.post(url)
    assert response.status_code == 400 and not AllianceMembership.objects.filter(status="applied").exists()
    health = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    slot = health.split('id="alliance-slot"')[1].split("</section>")[0]
    assert "体验分 68.00，需大于 70.00。" in slot


def test_the_health_page_draws_the_score_trend(client, shop, merchant):
    today = timezone.localdate()
    ShopScore.objects.bulk_create([ShopScore(shop=shop, day=today - datetime.timedelta(days=d),
                                             score=Decimal("80") + d) for d in range(10)])
    client.force_login(merchant)
    body = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert '<svg class="trend"' in body and "<polyline" in body


def test_reviewer_decides_beside_the_criteria(client, shop, merchant, reviewer, appeal_reviewer):
    from compliance.services.alliance import alliance_apply

    m = alliance_apply(shop=shop, actor=merchant)
    client.force_login(appeal_reviewer)
    assert client.get("/admin/compliance/alliancemembership/").status_code == 200
    assert client.get(f"/admin/compliance/alliancemembership/{m.pk}/decide/").status_code == 403
    client.force_login(reviewer)
    index = client.get("/admin/").content.decode()
    assert 'id="queue-alliance"' in index
    rows = list(client.get("/admin/compliance/alliancemembership/").context["cl"].result_list)
    assert rows[0] == m  # applications first
    url = f"/admin/compliance/alliancemembership/{m.pk}/decide/"
    page = client.get(url).content.decode()
    assert 'id="alliance-criteria"' in page and "体验分 86.50" in page
    assert client.post(url, {"decision": "reject", "reason": ""}).status_code == 200  # a reason is needed
    assert client.post(url, {"decision": "approve", "reason": ""}).status_code == 302
    m.refresh_from_db()
    assert m.status == "active"
    close = f"/admin/compliance/alliancemembership/{m.pk}/close/"
    assert client.post(close, {"reason": ""}).status_code == 200
    assert client.post(close, {"reason": "商品结构单一，不适合推广"}).status_code == 302
    m.refresh_from_db()
    assert m.status == "closed" and m.close_cause == "unsuitable"
    again = client.post(close, {"reason": "again"}, follow=True).content.decode()
    assert "只能清退已加入的店铺" in again


def test_a_closed_for_good_shop_is_told_so(client, shop, merchant, reviewer):
    AllianceMembership.objects.create(shop=shop, status="active")
    for i in range(4):
        AllianceMembership.objects.filter(shop=shop).update(status="active")
        issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    client.force_login(merchant)
    page = client.get(f"/portal/shops/{shop.shop_no}/alliance/").content.decode()
    assert "永久清退" in page and "永久不得再加入" in page
