import datetime

import pytest
from django.utils import timezone

from compliance.models import Appeal, Ticket
from compliance.services.appeals import appeal_submit
from shops.models import Shop
from tests.factories import fund, issue, make_merchant, make_shop, make_staff, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(reviewer):
    shop = fund(make_shop(), 50000)
    merchant = make_merchant("queue-merchant", shop)
    now = timezone.now()
    appeals = {}
    for key, days_ago in (("overdue", 6), ("fresh", 0)):
        ticket = issue(shop, "logistics_mismatch", "serious", reviewer,
                       now=now - datetime.timedelta(days=days_ago, hours=1))
        appeals[key] = appeal_submit(ticket=ticket, actor=merchant, reason="不成立", statement="说明",
                                     files=[pdf_upload()], now=now - datetime.timedelta(days=days_ago))
    return appeals


def test_queue_pending_first_with_overdue_marked(client, appeal_reviewer, queue):
    client.force_login(appeal_reviewer)
    response = client.get("/admin/compliance/appeal/", HTTP_ACCEPT_LANGUAGE="en")
    rows = list(response.context["cl"].result_list)
    assert rows[0] == queue["overdue"]  # pending, soonest due
    assert 'class="overdue"' in response.content.decode()
    overdue = client.get("/admin/compliance/appeal/", {"due": "overdue"}).context["cl"].result_list
    assert list(overdue) == [queue["overdue"]]


def test_decide_view_approves_with_reason(client, appeal_reviewer, queue):
    client.force_login(appeal_reviewer)
    appeal = queue["fresh"]
    url = f"/admin/compliance/appeal/{appeal.pk}/decide/"
    page = client.get(url)
    assert page.status_code == 200 and appeal.ticket.number in page.content.decode()
    assert f"/admin/compliance/appeal/{appeal.pk}/evidence/" in page.content.decode()
    missing = client.post(url, {"decision": "approve", "reason": ""})
    assert missing.status_code == 200 and "reason" in missing.context["form"].errors
    response = client.post(url, {"decision": "approve", "reason": "物流记录核实无误"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    appeal.ticket.refresh_from_db()
    assert appeal.status == Appeal.Status.APPROVED and appeal.ticket.status == Ticket.Status.REVOKED
    appeal.ticket.shop.refresh_from_db()
    assert appeal.ticket.shop.status == Shop.Status.SUSPENDED  # the other ticket still suspends it


def test_second_decision_gets_a_message_not_a_500(client, appeal_reviewer, queue):
    other = make_staff("appeals-2", "Appeal reviewer")
    url = f"/admin/compliance/appeal/{queue['fresh'].pk}/decide/"
    client.force_login(appeal_reviewer)
    client.post(url, {"decision": "reject", "reason": "不成立"})
    client.force_login(other)
    response = client.post(url, {"decision": "approve", "reason": "改判"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert any("already" in str(m) for m in response.context["messages"])
    queue["fresh"].refresh_from_db()
    assert queue["fresh"].status == Appeal.Status.REJECTED


def test_four_eyes_in_the_view(client, reviewer, queue):
    reviewer.groups.add(*make_staff("tmp", "Appeal reviewer").groups.all())
    client.force_login(reviewer)  # the issuer, now also an appeal reviewer
    url = f"/admin/compliance/appeal/{queue['fresh'].pk}/decide/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert "another appeal reviewer must decide" in page.content.decode() and "<form" not in page.content.decode(
    ).split('id="decide-appeal"')[1]
    response = client.post(url, {"decision": "approve", "reason": "自己批准"}, HTTP_ACCEPT_LANGUAGE="en")
    assert any("another appeal reviewer" in str(m) for m in response.context["messages"])
    queue["fresh"].refresh_from_db()
    assert queue["fresh"].status == Appeal.Status.PENDING


def test_reviewers_see_but_cannot_decide(client, reviewer, queue):
    client.force_login(reviewer)
    assert client.get("/admin/compliance/appeal/").status_code == 200
    assert client.get(f"/admin/compliance/appeal/{queue['fresh'].pk}/decide/").status_code == 403


def test_dashboard_counts_and_chart(client, appeal_reviewer, reviewer, queue, django_assert_max_num_queries):
    client.force_login(appeal_reviewer)
    with django_assert_max_num_queries(15):
        response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    d = response.context["dashboard"]
    [appeals] = d.queues  # appeal reviewers decide appeals only
    assert (appeals.queue.subject, appeals.open, appeals.overdue, appeals.unclaimed, appeals.mine) == (
        "appeal", 2, 1, 2, 0)
    assert d.tickets_total == 2 and len(d.bars) == 30
    body = response.content.decode()
    assert "<svg" in body and "Appeals to decide" in body and "<rect" in body
    assert '/admin/compliance/appeal/?claim=overdue" class="overdue">1<' in body
    assert sum(bar.a for bar in d.bars) == 2


def test_queue_rows_open_the_decide_view_and_the_ticket_offers_it(client, appeal_reviewer, reviewer):
    from compliance.models import Appeal
    from compliance.services.appeals import appeal_submit
    from tests.factories import fund, issue, make_merchant, make_shop

    shop = fund(make_shop(), 10000)
    merchant = make_merchant("m-queue", shop)
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    appeal = appeal_submit(ticket=ticket, actor=merchant, reason="证据不足", statement="附报告")
    client.force_login(appeal_reviewer)
    page = client.get("/admin/compliance/appeal/").content.decode()
    assert f'href="/admin/compliance/appeal/{appeal.pk}/decide/">{ticket.number}</a>' in page
    assert f"/admin/compliance/ticket/{ticket.pk}/change/" not in page  # no nested link to the ticket
    ticket_page = client.get(f"/admin/compliance/ticket/{ticket.pk}/change/").content.decode()
    assert 'id="decide-appeal"' in ticket_page and f"/admin/compliance/appeal/{appeal.pk}/decide/" in ticket_page
    client.force_login(reviewer)  # cannot decide: the row opens the appeal's page
    page = client.get("/admin/compliance/appeal/").content.decode()
    assert f'href="/admin/compliance/appeal/{appeal.pk}/change/">{ticket.number}</a>' in page
    assert Appeal.objects.get().status == "pending"


def test_evidence_is_readable_and_previewed_beside_the_data(client, appeal_reviewer, reviewer):
    from compliance.services.appeals import appeal_submit
    from tests.factories import fund, issue, make_merchant, make_shop, pdf_upload, png_upload

    shop = fund(make_shop(), 10000)
    merchant = make_merchant("m-evidence", shop)
    ticket = issue(shop, "false_advertising", "serious", reviewer, evidence=[png_upload("巡检截图.png")])
    appeal = appeal_submit(ticket=ticket, actor=merchant, reason="证据不足", statement="附报告",
                           files=[pdf_upload("质检报告.pdf")])
    client.force_login(appeal_reviewer)
    page = client.get(f"/admin/compliance/appeal/{appeal.pk}/decide/").content.decode()
    ticket_file, appeal_file = ticket.evidence.get(), appeal.evidence.get()
    assert "巡检截图.png" in page and "质检报告.pdf" in page and "PNG · " in page and "PDF · " in page
    assert f'<img class="evidence-preview" src="/admin/compliance/ticket/{ticket.pk}/evidence/{ticket_file.pk}/?inline=1"' in page
    assert f'<iframe class="evidence-preview" src="/admin/compliance/appeal/{appeal.pk}/evidence/{appeal_file.pk}/?inline=1"' in page
    preview = client.get(f"/admin/compliance/appeal/{appeal.pk}/evidence/{appeal_file.pk}/?inline=1")
    assert preview["Content-Disposition"].startswith("inline") and preview["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    download = client.get(f"/admin/compliance/appeal/{appeal.pk}/evidence/{appeal_file.pk}/")
    assert download["Content-Disposition"].startswith("attachment")
    ticket_page = client.get(f"/admin/compliance/ticket/{ticket.pk}/change/").content.decode()
    assert "巡检截图.png" in ticket_page and "上传人" in ticket_page and "UPLOADED BY" not in ticket_page.upper()
    # Merchants keep attachment downloads: the portal has no inline preview.
    client.force_login(merchant)
    response = client.get(f"/portal/files/appeal/{appeal_file.pk}/?inline=1")
    assert response["Content-Disposition"].startswith("attachment")
    portal_page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "巡检截图.png" in portal_page and "质检报告.pdf" in portal_page


@pytest.mark.parametrize("role, work, queue", [("reviewer", True, True), ("appeal_reviewer", False, True),
                                               ("compliance_admin", True, True)])
def test_dashboard_by_role(client, request, role, work, queue):
    user = request.getfixturevalue(role)
    client.force_login(user)
    body = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ('id="dashboard-work"' in body) == work
    assert ('id="dashboard-queues"' in body) == queue
    assert 'id="recent-actions-module"' not in body  # the always-empty box is gone
    assert 'id="chart-data"' in body and 'font-size="12"' in body  # table fallback, readable text


def test_my_tickets_filter(client, reviewer, compliance_admin):
    from tests.factories import fund, issue, make_shop

    shop = fund(make_shop(), 10000)
    mine = issue(shop, "fake_shipment", "per_order", reviewer, order_count=1)
    issue(shop, "fake_shipment", "per_order", compliance_admin, order_count=1)
    client.force_login(reviewer)
    listed = client.get("/admin/compliance/ticket/", {"mine": "yes"}).context["cl"].result_list
    assert [t.pk for t in listed] == [mine.pk]
