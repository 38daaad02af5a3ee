"""The merchant portal through HTTP: every page, the access matrix, appeals
and uploads."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from compliance.models import Appeal, Ticket
from compliance.services.appeals import appeal_decide, appeal_submit
from compliance.services.warnings import warning_answer
from tests.factories import (
    approved_certificate, fund, issue, make_integration, make_merchant, make_product, make_shop, pdf_upload,
    png_upload, receive_warning,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(reviewer, appeal_reviewer):
    shop1 = fund(make_shop(name="一号店"), 10000)
    shop1b = fund(make_shop(name="一号店分店"), 10000)
    shop2 = fund(make_shop(name="二号店"), 10000)
    m1 = make_merchant("merchant-one", shop1, shop1b)
    m2 = make_merchant("merchant-two", shop2)
    product = make_product(shop1)
    ticket = issue(shop1, "false_advertising", "general", reviewer, products=[product],
                   evidence=[pdf_upload("巡检截图.pdf")])
    appeal = appeal_submit(ticket=ticket, actor=m1, reason="证据不足", statement="附质检报告",
                           files=[pdf_upload("质检报告.pdf")])
    other = issue(shop1, "logistics_mismatch", "serious", reviewer)
    certificate = approved_certificate(shop1, "business_licence", reviewer, merchant=m1)
    warning = receive_warning(make_integration("portal-detector")[0], shop1)
    warning_answer(warning=warning, actor=m1, text="已发货", files=[pdf_upload("物流凭证.pdf")])
    return dict(shop1=shop1, shop1b=shop1b, shop2=shop2, m1=m1, m2=m2, ticket=ticket, appeal=appeal,
                other=other, reviewer=reviewer, appeal_reviewer=appeal_reviewer, certificate=certificate,
                warning=warning)


def object_urls(w):
    ticket, appeal = w["ticket"], w["appeal"]
    return [
        f"/portal/shops/{w['shop1'].shop_no}/",
        f"/portal/shops/{w['shop1'].shop_no}/tickets/",
        f"/portal/tickets/{ticket.number}/",
        f"/portal/files/ticket/{ticket.evidence.get().pk}/",
        f"/portal/files/appeal/{appeal.evidence.get().pk}/",
        f"/portal/shops/{w['shop1'].shop_no}/certificates/",
        f"/portal/shops/{w['shop1'].shop_no}/alliance/",
        f"/portal/shops/{w['shop1'].shop_no}/certificates/new/",
        f"/portal/shops/{w['shop1'].shop_no}/certificates/new/?renews={w['certificate'].pk}",
        f"/portal/files/certificate/{w['certificate'].documents.get().pk}/",
        f"/portal/shops/{w['shop1'].shop_no}/warnings/",
        f"/portal/warnings/{w['warning'].number}/",
        f"/portal/files/warning/{w['warning'].files.get().pk}/",
    ]


def test_every_page_renders_for_the_member(client, world, django_assert_max_num_queries):
    client.force_login(world["m1"])
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"] == f"/portal/shops/{world['shop1'].shop_no}/"
    for url in object_urls(world):
        with django_assert_max_num_queries(25):
            response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/portal/password/").status_code == 200


def test_access_matrix(client, world):
    """merchant2 gets 404 for every object of merchant1's shop; anonymous users
    are sent to the portal's log-in."""
    client.force_login(world["m2"])
    for url in object_urls(world):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x", "statement": "y"}).status_code in (404, 405), url
    assert not Appeal.objects.filter(submitted_by=world["m2"]).exists()
    assert not world["shop1"].qualifications.filter(submitted_by=world["m2"]).exists()
    # Their own shop's form cannot renew another shop's certificate.
    own = f"/portal/shops/{world['shop2'].shop_no}/certificates/new/?renews={world['certificate'].pk}"
    assert client.get(own).status_code == 404
    client.logout()
    for url in object_urls(world):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/?next="), url


def test_invalid_identifiers_are_404(client, world):
    client.force_login(world["m1"])
    for url in ("/portal/shops/not-a-shop/", "/portal/tickets/WG00000000XXXX/", "/portal/files/ticket/999999/",
                "/portal/shops/99999999/tickets/"):
        assert client.get(url).status_code == 404


def test_standing_page(client, world):
    client.force_login(world["m1"])
    body = client.get(f"/portal/shops/{world['shop1'].shop_no}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="status-banner"' in body and "Suspended until" in body  # the serious ticket suspended it
    assert 'id="points-A"' in body and "9 <small>" in body  # 3 + 6
    assert "At 12 points: suspension 3 days" in body
    assert 'id="alliance-slot"' in body and 'id="certificates-slot"' in body
    assert world["shop1b"].name in body  # the shop switcher lists both shops


def test_ticket_list_filters_and_pagination(client, world, reviewer):
    client.force_login(world["m1"])
    shop = world["shop1b"]
    for _ in range(22):
        issue(shop, "fake_shipment", "per_order", reviewer, order_count=1)
    url = f"/portal/shops/{shop.shop_no}/tickets/"
    first = client.get(url)
    assert len(first.context["page"].object_list) == 20 and first.context["page"].paginator.num_pages == 2
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 2
    assert client.get(url, {"page": "abc"}).status_code == 200  # a bad page number shows the first page
    filtered = client.get(f"/portal/shops/{world['shop1'].shop_no}/tickets/", {"status": "appealing"})
    assert [t.number for t in filtered.context["page"].object_list] == [world["ticket"].number]
    assert client.get(url, {"status": "nonsense"}).status_code == 200


def test_ticket_page_shows_appeals_and_hint(client, world):
    client.force_login(world["m1"])
    appeal_decide(appeal=world["appeal"], approve=False, reason="报告与批次不符", actor=world["appeal_reviewer"])
    response = client.get(f"/portal/tickets/{world['ticket'].number}/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert "报告与批次不符" in body and response.context["chances_left"] == 1
    assert 'id="appeal-form"' in body and "What to attach" in body
    assert "third party" in body  # the rule's evidence hint (English)


def test_appeal_through_the_portal(client, world):
    client.force_login(world["m1"])
    url = f"/portal/tickets/{world['other'].number}/"
    response = client.post(url, {"reason": "物流单号无误", "statement": "附物流记录截图",
                                 "evidence": [pdf_upload("物流.pdf"), png_upload("截图.png")]})
    assert response.status_code == 302
    appeal = world["other"].appeals.get()
    assert appeal.evidence.count() == 2 and appeal.submitted_by == world["m1"]
    world["other"].refresh_from_db()
    assert world["other"].status == Ticket.Status.APPEALING
    page = client.get(url).content.decode()
    assert 'id="appeal-closed"' in page and 'id="appeal-form"' not in page


@pytest.mark.parametrize("upload, message", [
    (SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03 this is an executable"), "PDF"),
    (SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "image"),
])
def test_upload_refusals(client, world, upload, message):
    client.force_login(world["m1"])
    url = f"/portal/tickets/{world['other'].number}/"
    response = client.post(url, {"reason": "r", "statement": "s", "evidence": [upload]},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["evidence"])
    assert not world["other"].appeals.exists()


def test_oversized_upload_is_refused(client, world):
    from compliance.models import PolicySettings

    PolicySettings.objects.filter(pk=1).update(upload_max_mb=1)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (800, 800), bytes(range(256)) * 7500).save(buffer, format="PNG")
    big = SimpleUploadedFile("big.png", buffer.getvalue() * 1 + b"\x00" * (1_100_000 - len(buffer.getvalue())))
    client.force_login(world["m1"])
    response = client.post(f"/portal/tickets/{world['other'].number}/",
                           {"reason": "r", "statement": "s", "evidence": [big]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "at most 1 MB" in " ".join(response.context["form"].errors["evidence"])


def test_statement_limit_and_closed_window_explained(client, world):
    client.force_login(world["m1"])
    url = f"/portal/tickets/{world['other'].number}/"
    response = client.post(url, {"reason": "r", "statement": "长" * 2001})
    assert response.status_code == 400 and "statement" in response.context["form"].errors
    Ticket.objects.filter(pk=world["other"].pk).update(appeal_deadline=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The appeal window closed on" in page and 'id="appeal-form"' not in page
    response = client.post(url, {"reason": "r", "statement": "s"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and not world["other"].appeals.exists()


def test_downloads_are_private_attachments(client, world):
    client.force_login(world["m1"])
    response = client.get(f"/portal/files/appeal/{world['appeal'].evidence.get().pk}/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_portal_login_logout_and_lockout(client, world):
    world["m1"].set_password("correct-horse-battery")
    world["m1"].save()
    response = client.post("/portal/login/", {"username": "merchant-one", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.post("/portal/logout/").status_code == 302
    assert client.get("/portal/").status_code == 302
    for _ in range(5):
        client.post("/portal/login/", {"username": "merchant-one", "password": "wrong"})
    response = client.post("/portal/login/", {"username": "merchant-one", "password": "correct-horse-battery"})
    assert response.status_code == 429


def test_change_password(client, world):
    world["m1"].set_password("old-password-123")
    world["m1"].save()
    client.force_login(world["m1"])
    response = client.post("/portal/password/", {"old_password": "old-password-123",
                                                  "new_password1": "n3w-Compliance-pass", "new_password2":
                                                  "n3w-Compliance-pass"})
    assert response.status_code == 302 and response["Location"] == "/portal/password/done/"
    world["m1"].refresh_from_db()
    assert world["m1"].check_password("n3w-Compliance-pass")


def test_portal_is_chinese_by_default_and_switches(client, world):
    client.force_login(world["m1"])
    url = f"/portal/shops/{world['shop1'].shop_no}/"
    assert "店铺" in client.get(url).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": url})
    assert "Shop health" in client.get(url).content.decode()


def test_no_external_assets(client, world):
    client.force_login(world["m1"])
    for url in object_urls(world)[:3]:
        body = client.get(url).content.decode()
        assert "http://" not in body.replace("http://testserver", "") and "https://" not in body, url


def test_deadline_and_countdown_in_whole_shanghai_days(client, reviewer):
    shop = fund(make_shop(), 10000)
    merchant = make_merchant("m-countdown", shop)
    issued = timezone.localtime() - datetime.timedelta(days=5)
    ticket = issue(shop, "logistics_mismatch", "serious", reviewer, now=issued)
    client.force_login(merchant)
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    last_day = (issued + datetime.timedelta(days=7)).date()
    assert f"{last_day:%Y-%m-%d} 23:59" in page  # times as Y-m-d H:i everywhere
    assert "还剩 3 天" in page  # today, and the two days after it
    Ticket.objects.filter(pk=ticket.pk).update(appeal_deadline=timezone.localtime().replace(
        hour=23, minute=59, second=59, microsecond=999999))
    assert "今天是最后一天" in client.get(f"/portal/tickets/{ticket.number}/").content.decode()


def test_node_measures_say_where_they_come_from_and_why_lifted(client, reviewer):
    from compliance.services.tickets import ticket_revoke

    shop = fund(make_shop(), 50000)
    merchant = make_merchant("m-nodes", shop)
    tickets = [issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)]) for _ in range(4)]
    client.force_login(merchant)
    standing = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert "积分节点 A12" in standing and 'id="point-nodes"' in standing
    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判")
    standing = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert f"违规单 {tickets[0].number} 已撤销" in standing
    crossing = client.get(f"/portal/tickets/{tickets[3].number}/").content.decode()
    assert "积分节点 A12" in crossing and f"违规单 {tickets[0].number} 已撤销" in crossing
    revoked = client.get(f"/portal/tickets/{tickets[0].number}/").content.decode()
    timeline = revoked[revoked.index('id="timeline"'):]
    assert "积分节点已解除" in timeline and "降至 9 分" in timeline
    assert 'id="appeal-deadline"' not in revoked  # a revoked ticket offers no appeal


def test_portal_query_counts_do_not_grow_with_tickets(client, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shop = fund(make_shop(), 1000000)
    merchant = make_merchant("m-many", shop)
    client.force_login(merchant)

    def counts():
        ticket = shop.tickets.order_by("-issued_at").first()
        urls = [f"/portal/shops/{shop.shop_no}/", f"/portal/shops/{shop.shop_no}/tickets/",
                f"/portal/shops/{shop.shop_no}/tickets/?page=2", f"/portal/tickets/{ticket.number}/"]
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            result.append(len(captured.captured_queries))
        return result

    for _ in range(3):
        issue(shop, "fake_shipment", "per_order", reviewer, order_count=1)
    counts()  # warm: the requirement matrix is read once and cached (selectors.active_requirements)
    issue(shop, "fake_shipment", "per_order", reviewer, order_count=1)
    # The health page reads everything after a change, then one statement while nothing changes.
    first, again = counts(), counts()
    for _ in range(40):
        issue(shop, "fake_shipment", "per_order", reviewer, order_count=1)
    assert (counts(), counts()) == (first, again)
    assert first[0] > again[0] and again[0] <= 5  # session, user, the member's shops, the revision, unread


def test_health_page_is_kept_only_while_nothing_it_shows_changes(client, reviewer):
    """The health page is read once and kept (selectors.health); every kind of
    change it shows makes the next view read afresh, and what depends on the
    hour is counted again on every view without a write."""
    from compliance.models import QualificationGap
    from compliance.selectors import health_page
    from compliance.services.qualifications import gaps_refresh
    from shops.models import ShopScore

    shop = fund(make_shop(name="缓存测试店"), 10000)
    merchant = make_merchant("m-kept", shop)
    client.force_login(merchant)
    url = f"/portal/shops/{shop.shop_no}/"

    def page():
        return client.get(url).content.decode()

    assert "暂无违规单，请继续保持！" in page()
    ticket = issue(shop, "logistics_mismatch", "serious", reviewer)
    shown = page()
    assert f"违规单 {ticket.number} 可申诉" in shown and ticket.rule_name in shown  # a ticket: an event
    warning = receive_warning(make_integration("kept-detector")[0], shop, "kept-1")
    assert warning.summary in page()  # a warning received
    warning_answer(warning=warning, actor=merchant, text="已发货")
    assert warning.summary not in page()  # answered: no longer to do
    make_product(shop, title="65W 快充充电器", category="数码")
    gaps_refresh()  # the certificate check writes no event: the gaps' count is in the revision
    assert QualificationGap.objects.filter(shop=shop, resolved_at=None).exists()
    assert "65W 快充充电器" in page()
    today = timezone.localdate()
    ShopScore.objects.create(shop=shop, day=today - datetime.timedelta(days=1), score="4.71")
    ShopScore.objects.create(shop=shop, day=today, score="4.93")  # a day's scores imported
    assert "· +0.22" in page()
    # Hours later, with nothing written: the appeal window has closed.
    later = ticket.appeal_deadline + datetime.timedelta(minutes=1)
    assert health_page(shop, now=later).health.appealable == []
    assert [t.number for t in health_page(shop).health.appealable] == [ticket.number]


def test_one_money_format_and_a_cleared_shop_is_not_asked_to_top_up(client, reviewer):
    shop = fund(make_shop(required_deposit=20000), 12000)
    merchant = make_merchant("m-money", shop)
    client.force_login(merchant)
    page = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert "¥12,000.00" in page and "¥20,000.00" in page and "¥8,000.00" in page  # 8,000 short
    issue(shop, "counterfeit", "especially_serious", reviewer)  # cleared: all remaining deposit taken
    shop.refresh_from_db()
    assert shop.status == "cleared" and not shop.needs_deposit_top_up
    page = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert "请及时补缴" not in page


def test_health_page_tells_the_whole_story(client, reviewer):
    shop = fund(make_shop(required_deposit=60000), 50000)
    merchant = make_merchant("m-health", shop)
    product = make_product(shop, title="法式碎花连衣裙")
    tickets = [issue(shop, "price_mismatch", "general", reviewer, products=[product if i == 0 else make_product(shop)])
               for i in range(4)]  # A 12: node A12 suspends
    client.force_login(merchant)
    page = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    todo = page[page.index('id="todo"'):]
    assert f"违规单 {tickets[0].number} 可申诉" in todo and "还剩 8 天" in todo and "补缴保证金" in todo
    assert "由积分节点 A12 引起" in page  # why the shop is suspended
    assert "距下一节点还差 12 分" in page and "清零" in page and "-01-01 00:00" in page
    assert "店铺体验分" in page and "精选联盟要求高于 70 分" in page
    held = page[page.index('id="held-products"'):]
    assert "法式碎花连衣裙" in held and tickets[0].number in held
    password_page = client.get("/portal/password/").content.decode()
    assert 'class="tabs"' in password_page and shop.shop_no in password_page
