"""Service providers through HTTP (SPEC §9): confirming results in the admin,
recording and deciding requests, the public delisting page, import_orders."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from compliance.models import ProviderRequest, RenewalCampaign, RenewalResult
from compliance.services.providers import renewals_assess
from shops.models import ProviderBinding, ServiceProvider, ShopDailyOrders
from tests.factories import make_shop

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def failed(db):
    provider = ServiceProvider.objects.create(name="义乌小商品产业带服务商", certified_on=D(2023, 5, 1),
                                              deposit_paid=Decimal("60000"))
    ProviderBinding.objects.create(provider=provider, shop=make_shop(), starts_on=D(2023, 1, 1))
    campaign = RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核")
    return renewals_assess(campaign=campaign)[0]


def test_public_page_lists_only_published_notices_newest_first(client, failed, reviewer):
    assert "义乌小商品" not in client.get("/notices/").content.decode()
    client.force_login(reviewer)
    url = f"/admin/compliance/renewalresult/{failed.pk}/confirm/"
    page = client.get(url).content.decode()
    assert "revokes the certification" in page or "撤销服务商资质" in page or "id=\"renewal-result\"" in page
    assert client.post(url, {}).status_code == 200  # the box must be ticked
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert client.post(url, {"confirm": "on"}, follow=True).status_code == 200  # a second time: a message
    client.logout()
    response = client.get("/notices/")
    body = response.content.decode()
    assert response.status_code == 200 and "义乌小商品产业带服务商" in body and 'lang="zh-hans"' in body
    assert ServiceProvider.objects.get().status == "revoked"


def test_only_reviewers_confirm(client, failed, appeal_reviewer):
    client.force_login(appeal_reviewer)
    assert client.get("/admin/compliance/renewalresult/").status_code == 200
    assert client.post(f"/admin/compliance/renewalresult/{failed.pk}/confirm/", {"confirm": "on"}).status_code == 403
    assert RenewalResult.objects.get().status == "assessed"


def test_record_and_decide_requests(client, reviewer, failed):
    from compliance.services.providers import renewal_confirm

    renewal_confirm(result=failed, actor=reviewer)
    provider = ServiceProvider.objects.get()
    client.force_login(reviewer)
    record = "/admin/compliance/providerrequest/record/"
    response = client.post(record, {"provider": provider.pk, "kind": "application", "note": "整改完毕"})
    assert response.status_code == 200 and not ProviderRequest.objects.exists()  # within 90 days
    assert client.post(record, {"provider": provider.pk, "kind": "application", "special_case": "on"}).status_code == 302
    request = ProviderRequest.objects.get()
    decide = f"/admin/compliance/providerrequest/{request.pk}/decide/"
    assert client.post(decide, {"decision": "reject", "reason": ""}).status_code == 200
    assert client.post(decide, {"decision": "approve", "reason": ""}).status_code == 302
    provider.refresh_from_db()
    assert provider.status == "certified"


def test_import_orders_errors_and_reimport(tmp_path):
    shop = make_shop()
    path = tmp_path / "orders.csv"
    path.write_text("shop_id,date,paid,gift\n"
                    f"{shop.shop_no},2024-01-01,10,1\n"
                    f"{shop.shop_no},2024-01-02,-3,0\n"       # negative
                    f"{shop.shop_no},2024-01-03,5,6\n"        # more gifts than paid
                    "12345678,2024-01-04,5,0\n"               # unknown shop
                    f"{shop.shop_no},2024-02-30,5,0\n", encoding="utf-8")  # bad date
    err = StringIO()
    with pytest.raises(CommandError, match="4 invalid row"):
        call_command("import_orders", str(path), stdout=StringIO(), stderr=err)
    assert not ShopDailyOrders.objects.exists()
    lines = err.getvalue()
    for expected in ("line 3: paid orders '-3'", "line 4: gift orders (6) exceed", "line 5: no shop with ID 12345678",
                     "line 6: date '2024-02-30'"):
        assert expected in lines, expected
    out = StringIO()
    call_command("import_orders", str(path), "--skip-invalid", stdout=out, stderr=StringIO())
    assert "1 day(s) of orders imported" in out.getvalue()
    call_command("import_orders", str(path), "--skip-invalid", stdout=out, stderr=StringIO())
    assert list(ShopDailyOrders.objects.values_list("paid_orders", "gift_orders")) == [(10, 1)]


def test_public_page_takes_junk_page_numbers(client, db):
    for query in ("?page=abc", "?page=99999", "?page=-1"):
        assert client.get("/notices/" + query).status_code == 200
    # A NUL is refused for every page before any view (config.middleware.NulCharacterMiddleware).
    assert client.get("/notices/?page=%00").status_code == 400
