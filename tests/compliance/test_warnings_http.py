"""Warnings and integrations through HTTP (SPEC §11, §12): the merchant's
pages and answer form, the reviewers' queue with single and bulk decisions,
the compliance admin's keys."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import DepositEntry, Integration, Message, Ticket, ViolationWarning
from compliance.models.warnings import hash_key
from tests.factories import fund, make_integration, make_merchant, make_shop, pdf_upload, receive_warning

pytestmark = pytest.mark.django_db

AGO = datetime.timedelta(days=3)  # received this long ago: the time to answer is up


@pytest.fixture
def shop():
    return fund(make_shop(name="预警店"), 20000)


@pytest.fixture
def merchant(shop):
    return make_merchant("warned-merchant", shop)


@pytest.fixture
def detector():
    return make_integration("风控")[0]


def test_the_health_page_lists_open_warnings_with_their_countdown(client, shop, merchant, detector):
    warning = receive_warning(detector, shop, now=timezone.now() - datetime.timedelta(hours=2))
    client.force_login(merchant)
    body = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    todo = body.split('id="todo"')[1].split("</section>")[0]
    assert f"/portal/warnings/{warning.number}/" in todo and "还剩 45 小时" in todo
    assert "1 条预警待您答复" in body
    tickets = client.get(f"/portal/shops/{shop.shop_no}/tickets/").content.decode()
    assert f"/portal/shops/{shop.shop_no}/warnings/" in tickets  # the violations sub-navigation


def test_the_merchant_reads_the_evidence_and_answers_with_a_file(client, shop, merchant, detector):
    warning = receive_warning(detector, shop, now=timezone.now() - datetime.timedelta(hours=2))
    client.force_login(merchant)
    url = f"/portal/warnings/{warning.number}/"
    page = client.get(url).content.decode()
    assert "揽收记录" in page and "YT1, YT2" in page and 'id="answer-form"' in page
    response = client.post(url, {"answer": "", "files": []})
    assert response.status_code == 400 and ViolationWarning.objects.get().status == "open"
    fake = pdf_upload("凭证.pdf")
    fake.file.write(b"<html>")  # not a PDF any more: refused like an appeal's evidence
    fake.seek(0)
    response = client.post(url, {"answer": "已发货", "files": [fake]})
    assert response.status_code == 400 and ViolationWarning.objects.get().status == "open"
    response = client.post(url, {"answer": "订单已真实发货，附快递公司揽收说明。", "put_right": "on",
                                 "files": [pdf_upload("揽收说明.pdf")]})
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.status == "put_right" and warning.answered_by == merchant
    page = client.get(url).content.decode()
    assert "订单已真实发货" in page and 'id="answer-form"' not in page
    file_url = f"/portal/files/warning/{warning.files.get().pk}/"
    assert file_url in page and client.get(file_url).status_code == 200
    listing = client.get(f"/portal/shops/{shop.shop_no}/warnings/", {"status": "put_right"}).content.decode()
    assert warning.number in listing


def test_warnings_and_messages_are_their_merchants_only(client, shop, merchant, detector):
    warning = receive_warning(detector, shop, now=timezone.now())
    from compliance.services.warnings import warning_answer

    warning_answer(warning=warning, actor=merchant, text="解释", files=[pdf_upload()])
    message = Message.objects.get(user=merchant)
    other = make_merchant("someone-else", make_shop())
    client.force_login(other)
    for url in (f"/portal/warnings/{warning.number}/", f"/portal/shops/{shop.shop_no}/warnings/",
                f"/portal/files/warning/{warning.files.get().pk}/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"answer": "冒充"}).status_code in (404, 405), url
    assert client.post(f"/portal/messages/{message.pk}/open/").status_code == 404
    assert Message.objects.get(pk=message.pk).read_at is None
    client.logout()
    response = client.get(f"/portal/warnings/{warning.number}/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")


def test_the_queue_puts_answered_first_then_expired_then_open(client, shop, merchant, detector, reviewer):
    from compliance.services.warnings import warning_answer, warnings_expire

    now = timezone.now()
    still_open = receive_warning(detector, shop, "open", now=now)
    expired = receive_warning(detector, shop, "expired", now=now - AGO)
    warnings_expire(now)
    answered = receive_warning(detector, shop, "answered", now=now - datetime.timedelta(hours=1))
    warning_answer(warning=answered, actor=merchant, text="解释")
    client.force_login(reviewer)
    response = client.get("/admin/compliance/violationwarning/")
    assert [w.number for w in response.context["cl"].result_list] == [answered.number, expired.number,
                                                                       still_open.number]
    body = response.content.decode()
    assert f"/admin/compliance/violationwarning/{answered.pk}/decide/" in body
    assert f"/admin/compliance/violationwarning/{still_open.pk}/decide/" not in body  # not yet decidable
    assert client.get("/admin/compliance/violationwarning/", {"status": "open"}).context["cl"].result_count == 1
    shop_page = client.get(f"/admin/shops/shop/{shop.pk}/change/").content.decode()
    assert 'id="shop-warnings"' in shop_page and answered.number in shop_page


def test_a_reviewer_confirms_chosen_orders_from_the_decide_page(client, shop, merchant, detector, reviewer):
    orders = ["6900000000000000001", "6900000000000000002", "6900000000000000003"]
    warning = receive_warning(detector, shop, order_nos=orders, now=timezone.now() - AGO)
    client.force_login(reviewer)
    url = f"/admin/compliance/violationwarning/{warning.pk}/decide/"
    page = client.get(url)
    assert page.status_code == 200 and 'id="warning-preview"' in page.content.decode()
    assert not Ticket.objects.exists()  # the preview wrote nothing
    response = client.post(url, {"decision": "confirm", "orders": orders[:2], "reason": ""})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.order_count == 2 and ticket.deposit_amount == Decimal("1000") and ticket.warning.pk == warning.pk
    again = client.post(url, {"decision": "dismiss", "reason": "改判"})
    assert again.status_code == 400 and "已由" in again.content.decode()
    portal = client  # the merchant sees the ticket and its origin
    portal.force_login(merchant)
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert f"/portal/warnings/{warning.number}/" in page


def test_dismissing_requires_a_reason(client, shop, merchant, detector, reviewer):
    warning = receive_warning(detector, shop, now=timezone.now() - AGO)
    client.force_login(reviewer)
    url = f"/admin/compliance/violationwarning/{warning.pk}/decide/"
    assert client.post(url, {"decision": "dismiss", "reason": ""}).status_code == 400
    assert client.post(url, {"decision": "dismiss", "reason": "轨迹正常"}).status_code == 302
    assert ViolationWarning.objects.get().status == "dismissed"
    assert Message.objects.filter(user=merchant, kind="warning_dismissed").exists()


def test_bulk_confirm_previews_per_shop_then_decides(client, detector, reviewer):
    shops = [fund(make_shop(name=f"批量{i}"), 20000) for i in range(2)]
    warnings = [receive_warning(detector, s, f"b-{s.pk}-{i}", now=timezone.now() - AGO) for s in shops for i in range(3)]
    early = receive_warning(detector, shops[0], "early", now=timezone.now())
    client.force_login(reviewer)
    changelist = "/admin/compliance/violationwarning/"
    ids = [w.pk for w in warnings] + [early.pk]
    response = client.post(changelist, {"action": "confirm_selected", "_selected_action": ids, "index": "0"})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    body = preview.content.decode()
    assert preview.status_code == 200 and preview.context["count"] == 6
    assert preview.context["totals"] == {"A": 0, "B": 0} and preview.context["deposit"] == Decimal("6000")
    assert early.number in body  # listed as not possible yet
    assert not Ticket.objects.exists() and not DepositEntry.objects.filter(kind="deduction").exists()
    url = response["Location"].split("?")[0]
    done = client.post(url, {"ids": ",".join(map(str, ids)), "decision": "confirm", "reason": ""})
    assert done.status_code == 302
    assert Ticket.objects.count() == 6 and ViolationWarning.objects.get(pk=early.pk).status == "open"
    taken = -sum(e.amount for e in DepositEntry.objects.filter(kind="deduction"))
    assert taken == preview.context["deposit"]


def test_bulk_dismiss_needs_one_reason(client, shop, detector, reviewer):
    warnings = [receive_warning(detector, shop, f"d-{i}", now=timezone.now() - AGO) for i in range(2)]
    client.force_login(reviewer)
    url = "/admin/compliance/violationwarning/decide/"
    ids = ",".join(str(w.pk) for w in warnings)
    assert client.get(url, {"ids": ids, "decision": "dismiss"}).status_code == 200
    assert client.post(url, {"ids": ids, "decision": "dismiss", "reason": ""}).status_code == 400
    assert client.post(url, {"ids": ids, "decision": "dismiss", "reason": "批量误报"}).status_code == 302
    assert ViolationWarning.objects.filter(status="dismissed").count() == 2


def test_appeal_reviewers_see_but_do_not_decide(client, shop, detector, appeal_reviewer):
    warning = receive_warning(detector, shop, now=timezone.now() - AGO)
    client.force_login(appeal_reviewer)
    assert client.get("/admin/compliance/violationwarning/").status_code == 200
    assert client.get(f"/admin/compliance/violationwarning/{warning.pk}/decide/").status_code == 403
    assert client.post(f"/admin/compliance/violationwarning/{warning.pk}/decide/",
                       {"decision": "confirm"}).status_code == 403
    assert client.get("/admin/compliance/integration/").status_code == 403


def test_a_compliance_admin_creates_a_key_shown_once_and_revokes_it(client, compliance_admin, reviewer):
    client.force_login(compliance_admin)
    response = client.post("/admin/compliance/integration/add/", {
        "name": "物流检测", "description": "虚假发货检测", "scopes": ["warnings", "tickets"],
        "requests_per_minute": ""})
    assert response.status_code == 200
    key = response.context["key"]
    integration = Integration.objects.get(name="物流检测")
    assert key.startswith("ck_") and integration.key_hash == hash_key(key) and key not in str(integration.__dict__)
    assert integration.scopes == ["warnings", "tickets"] and integration.created_by == compliance_admin
    change = client.get(f"/admin/compliance/integration/{integration.pk}/change/").content.decode()
    assert key not in change and integration.key_prefix in change
    assert client.get("/api/v1/tickets/WG1/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    assert client.post(f"/admin/compliance/integration/{integration.pk}/revoke/").status_code == 302
    integration.refresh_from_db()
    assert not integration.is_active and integration.revoked_by == compliance_admin
    assert client.get("/api/v1/tickets/WG1/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert client.post(f"/admin/compliance/integration/{integration.pk}/delete/").status_code == 403
    client.force_login(reviewer)
    assert client.get(f"/admin/compliance/integration/{integration.pk}/revoke/").status_code == 403


def test_a_bulk_decision_over_twenty_is_previewed_and_decided_by_jobs(client, detector, reviewer):
    """Issue #21: more than 20 warnings — the preview and the decision run as
    jobs; the preview's page carries the form that decides."""
    from compliance.models import Job
    from tests.worker import drain

    shops = [fund(make_shop(name=f"大批{i}"), 50000) for i in range(3)]
    warnings = [receive_warning(detector, s, f"j-{s.pk}-{i}", now=timezone.now() - AGO) for s in shops
                for i in range(8)]
    ids = ",".join(str(w.pk) for w in warnings)
    client.force_login(reviewer)
    url = "/admin/compliance/violationwarning/decide/"
    started = client.get(url, {"ids": ids, "decision": "confirm"})
    preview_job = Job.objects.get(kind="warning_preview")
    assert started.status_code == 302 and started["Location"] == f"/admin/jobs/{preview_job.pk}/"
    drain()
    page = client.get(started["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "24" in body and f'action="{url}"' in body
    assert not Ticket.objects.exists()  # previewed, nothing written
    # A dismissal without a reason goes back to the preview's page, saying what is missing.
    back = client.post(url, {"ids": ids, "decision": "dismiss", "reason": "", "job": preview_job.pk})
    assert back.status_code == 302
    decided = client.post(url, {"ids": ids, "decision": "confirm", "reason": "", "job": preview_job.pk})
    decision_job = Job.objects.get(kind="warning_decision")
    assert decided["Location"] == f"/admin/jobs/{decision_job.pk}/"
    drain()
    decision_job.refresh_from_db()
    assert decision_job.result["done"] == 24 and Ticket.objects.count() == 24
    assert "24" in client.get(decided["Location"]).content.decode()
