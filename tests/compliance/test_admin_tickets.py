"""Reviewers in the admin: issuing with a preview, revoking, exporting."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from compliance.models import Event, Ticket
from shops.models import Shop
from tests.factories import fund, issue, make_product, make_shop, pdf_upload, tier

pytestmark = pytest.mark.django_db

ISSUE_URL = "/admin/compliance/ticket/issue/"


@pytest.fixture
def shop():
    return fund(make_shop(), 20000)


def form_data(shop, rule="false_advertising", tier_code="general", **extra):
    earlier = timezone.localtime() - datetime.timedelta(hours=2)
    return {
        "tier": tier(rule, tier_code).pk, "points": "", "products": "", "order_count": "",
        "occurred_at_0": earlier.strftime("%Y-%m-%d"), "occurred_at_1": earlier.strftime("%H:%M:%S"),
        "description": "详情页宣称纯棉，实际为涤纶", "idempotency_key": "key-1", **extra,
    }


def test_issue_from_the_shop_page(client, reviewer, shop):
    client.force_login(reviewer)
    page = client.get(f"/admin/shops/shop/{shop.pk}/change/").content.decode()
    assert f"{ISSUE_URL}?shop={shop.shop_no}" in page
    response = client.get(ISSUE_URL, {"shop": shop.shop_no})
    assert response.status_code == 200 and 'id="pick-rule"' in response.content.decode()  # step 1: the rule
    response = client.get(ISSUE_URL, {"shop": shop.shop_no, "rule": "false_advertising"})
    page = response.content.decode()
    assert "idempotency_key" in page and 'id="issue-standing"' in page  # step 2, beside the shop's standing
    tiers = response.context["form"].fields["tier"].queryset
    assert {t.rule.code for t in tiers} == {"false_advertising"}
    assert page.count('type="radio" name="tier"') == 3  # the rule's three tiers, as choices
    # Only fields some tier of the rule can use.
    assert "order_count" not in response.context["form"].fields and "clear_chosen" not in response.context["form"].fields
    fake = client.get(ISSUE_URL, {"shop": shop.shop_no, "rule": "fake_shipment"}).context["form"].fields
    assert "order_count" in fake and "points" not in fake


def test_preview_then_confirm(client, reviewer, shop):
    client.force_login(reviewer)
    product = make_product(shop)
    url = f"{ISSUE_URL}?shop={shop.shop_no}"
    data = form_data(shop, products=product.product_no)
    preview = client.post(url, {**data, "step": "preview"})
    assert preview.status_code == 200
    assert preview.context["preview"].deposit_charged == Decimal("2000")
    body = preview.content.decode()
    assert "0 → 3" in body and "¥2,000.00" in body
    assert not Ticket.objects.exists()  # the preview writes nothing

    response = client.post(url, {**data, "step": "confirm", "evidence": [pdf_upload("截图.pdf")]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/compliance/ticket/{ticket.pk}/change/"
    assert ticket.issued_by == reviewer and ticket.evidence.count() == 1
    # The same form submitted again (double click, back button) issues nothing more.
    again = client.post(url, {**data, "step": "confirm"})
    assert again.status_code == 302 and Ticket.objects.count() == 1

    page = client.get(response["Location"]).content.decode()
    assert ticket.number in page and 'id="ticket-timeline"' in page and 'id="ticket-measures"' in page
    evidence = ticket.evidence.get()
    download = client.get(f"/admin/compliance/ticket/{ticket.pk}/evidence/{evidence.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_preview_shows_node_and_suspension(client, reviewer, shop):
    client.force_login(reviewer)
    for _ in range(3):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    product = make_product(shop)
    response = client.post(f"{ISSUE_URL}?shop={shop.shop_no}",
                           {**form_data(shop, rule="price_mismatch", products=product.product_no), "step": "preview"})
    preview = response.context["preview"]
    assert [n.threshold for n in preview.nodes] == [12] and preview.node.suspend_days == 3
    page = response.content.decode()
    assert "9 → 12" in page
    # SPEC §6.2: two deductions, each on its own line, and their sum.
    deductions = page[page.index('id="preview-deductions"'):]
    assert deductions.count("¥2,000.00") == 2 and "¥4,000.00" in deductions


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"points": "11", "tier": None}, None),  # outside 4–10 (serious) → a message, not a 500
        ({"products": "99999999"}, "products"),  # not a product of this shop
        ({"description": ""}, "description"),
        ({"occurred_at_0": "2026-02-30"}, "occurred_at"),
        ({"ban_chosen": "on", "tier": "trademark", "products": ""}, "message:商品"),  # a ban needs products
        ({"order_count": "99999999999", "tier": "fake", "products": ""}, "order_count"),  # would overflow
        ({"points": "99999"}, "points"),
        ({"tier": "999999"}, "pick-rule"),  # no such tier: back to choosing the rule
    ],
)
def test_bad_input_is_a_message_never_a_500(client, reviewer, shop, extra, field):
    client.force_login(reviewer)
    data = form_data(shop, products=make_product(shop).product_no)
    named = {None: tier("false_advertising", "serious"), "trademark": tier("trademark_event", "brand_lapsed"),
             "fake": tier("fake_shipment", "per_order")}
    if extra.get("tier", 1) in named:
        extra = {**extra, "tier": named[extra["tier"]].pk}
    response = client.post(f"{ISSUE_URL}?shop={shop.shop_no}", {**data, **extra, "step": "confirm"})
    assert response.status_code == 200
    if field == "pick-rule":
        assert 'id="pick-rule"' in response.content.decode()
    elif field and field.startswith("message:"):
        assert any(field.split(":", 1)[1] in str(m) for m in response.context["messages"])
    elif field:
        assert field in response.context["form"].errors
    else:
        messages = [str(m) for m in response.context["messages"]]
        assert any("4" in m and "10" in m for m in messages)
    assert not Ticket.objects.exists()


def test_issuing_to_a_cleared_shop_is_refused_with_a_message(client, reviewer, shop):
    client.force_login(reviewer)
    issue(shop, "counterfeit", "especially_serious", reviewer)
    response = client.post(f"{ISSUE_URL}?shop={shop.shop_no}",
                           {**form_data(shop, products=make_product(shop).product_no), "step": "preview"})
    assert response.status_code == 200
    assert any(shop.shop_no in str(m) for m in response.context["messages"])
    assert Ticket.objects.count() == 1


def test_unknown_shop_and_renamed_evidence(client, reviewer, shop):
    client.force_login(reviewer)
    response = client.get(ISSUE_URL, {"shop": "00000000"})
    assert response.status_code == 200 and "shop" in response.context["form"].errors
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("evidence.pdf", b"MZ\x90\x00 not a pdf")
    data = form_data(shop, rule="false_advertising", tier_code="serious")
    response = client.post(f"{ISSUE_URL}?shop={shop.shop_no}", {**data, "step": "confirm", "evidence": [fake]})
    assert response.status_code == 200 and "evidence" in response.context["evidence_form"].errors
    assert not Ticket.objects.exists()


def test_appeal_reviewer_cannot_issue_or_revoke(client, appeal_reviewer, reviewer, shop):
    client.force_login(appeal_reviewer)
    assert client.get(ISSUE_URL, {"shop": shop.shop_no}).status_code == 403
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    assert client.get(f"/admin/compliance/ticket/{ticket.pk}/revoke/").status_code == 403
    assert client.post(f"/admin/compliance/ticket/{ticket.pk}/revoke/", {"reason": "x"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED


def test_revoke_from_the_ticket_page_requires_a_reason(client, reviewer, shop):
    client.force_login(reviewer)
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    page = client.get(f"/admin/compliance/ticket/{ticket.pk}/change/").content.decode()
    assert f"/admin/compliance/ticket/{ticket.pk}/revoke/" in page
    url = f"/admin/compliance/ticket/{ticket.pk}/revoke/"
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(url, {"reason": "复核后证据不足"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    shop.refresh_from_db()
    assert ticket.status == Ticket.Status.REVOKED and shop.status == Shop.Status.OPEN
    # Revoking again: a message, not a 500.
    response = client.post(url, {"reason": "again"}, follow=True)
    assert any("cannot be revoked" in str(m) or "不能撤销" in str(m) for m in response.context["messages"])


def test_revoke_action_on_the_changelist(client, reviewer, shop):
    client.force_login(reviewer)
    tickets = [issue(shop, "logistics_mismatch", "serious", reviewer) for _ in range(2)]
    ids = [str(t.pk) for t in tickets]
    step1 = client.post("/admin/compliance/ticket/", {"action": "revoke_selected", "_selected_action": ids,
                                                      "index": "0"})
    assert step1.status_code == 200 and "reason" in step1.content.decode()
    step2 = client.post("/admin/compliance/ticket/", {"action": "revoke_selected", "_selected_action": ids,
                                                      "reason": "批量误判"})
    assert step2.status_code == 302
    assert set(Ticket.objects.values_list("status", flat=True)) == {"revoked"}
    assert Event.objects.filter(action="ticket_revoked", reason="批量误判").count() == 2


def test_ticket_is_read_only_in_the_admin(client, compliance_admin, reviewer, shop):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    client.force_login(compliance_admin)
    before = Ticket.objects.values().get(pk=ticket.pk)
    client.post(f"/admin/compliance/ticket/{ticket.pk}/change/", {"points": "1", "status": "revoked"})
    assert Ticket.objects.values().get(pk=ticket.pk) == before
    assert client.post(f"/admin/compliance/ticket/{ticket.pk}/delete/", {"post": "yes"}).status_code == 403
    for model in ("pointentry", "depositentry", "measure", "event"):
        assert client.get(f"/admin/compliance/{model}/add/").status_code == 403


def test_changelist_filters_and_search(client, reviewer, shop, django_assert_max_num_queries):
    client.force_login(reviewer)
    serious = issue(shop, "false_advertising", "serious", reviewer)
    other = issue(fund(make_shop(), 100), "counterfeit", "serious", reviewer)
    with django_assert_max_num_queries(12):
        response = client.get("/admin/compliance/ticket/", {"violation_class__exact": "B"})
    assert list(response.context["cl"].result_list) == [other]
    response = client.get("/admin/compliance/ticket/", {"q": serious.number.lower()})
    assert list(response.context["cl"].result_list) == [serious]
    response = client.get("/admin/compliance/ticket/", {"q": shop.shop_no})
    assert list(response.context["cl"].result_list) == [serious]
    response = client.get("/admin/compliance/ticket/", {"shop__id__exact": shop.pk})
    assert list(response.context["cl"].result_list) == [serious]


def test_export_streams_the_filtered_list(client, reviewer, shop):
    client.force_login(reviewer)
    kept = issue(shop, "false_advertising", "serious", reviewer)
    issue(fund(make_shop(), 100), "counterfeit", "serious", reviewer)
    response = client.get("/admin/compliance/ticket/export/csv/", {"violation_class__exact": "A"})
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == kept.number and rows[1][3] == "虚假宣传"

    response = client.get("/admin/compliance/ticket/export/xlsx/", {"violation_class__exact": "A"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.streaming
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 2 and sheet["A2"].value == kept.number and sheet["G2"].value == 6
    assert client.get("/admin/compliance/ticket/export/pdf/").status_code == 404
    bad = client.get("/admin/compliance/ticket/export/csv/", {"nonsense__field": "1"})
    assert bad.status_code == 302 and bad["Location"].endswith("?e=1")


def test_shop_page_shows_standing(client, reviewer, shop, django_assert_max_num_queries):
    client.force_login(reviewer)
    for _ in range(2):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    issue(shop, "false_advertising", "serious", reviewer)
    with django_assert_max_num_queries(20):
        response = client.get(f"/admin/shops/shop/{shop.pk}/change/")
    standing = response.context["standing"]
    assert [c.total for c in standing.classes] == [12, 0]
    assert standing.classes[0].next_threshold == 24
    body = response.content.decode()
    assert 'id="shop-standing"' in body and "24" in body
    assert {m.kind for m in standing.measures} == {"suspend", "delist"}  # one-off measures are not "in force"


def test_shop_page_shows_nodes_in_force_and_lifted(client, reviewer, shop):
    from compliance.services.tickets import ticket_revoke

    tickets = [issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)]) for _ in range(4)]
    client.force_login(reviewer)
    page = client.get(f"/admin/shops/shop/{shop.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    nodes = page[page.index('id="shop-nodes"'):]
    assert "A12" in nodes and f"reached by {tickets[3].number}" in nodes
    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判")
    page = client.get(f"/admin/shops/shop/{shop.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Lifted: Ticket {tickets[0].number} was revoked" in page[page.index('id="shop-nodes"'):]
    ticket_page = client.get(f"/admin/compliance/ticket/{tickets[3].pk}/change/").content.decode()
    assert "积分节点 A12" in ticket_page and "积分节点已解除" in ticket_page


def test_lists_use_one_money_format(client, reviewer, shop):
    issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    client.force_login(reviewer)
    assert "¥2,000.00" in client.get("/admin/compliance/ticket/").content.decode()
    assert "¥18,000.00" in client.get("/admin/shops/shop/").content.decode()


def test_issuing_without_evidence_asks_first(client, reviewer, shop):
    client.force_login(reviewer)
    url = f"{ISSUE_URL}?shop={shop.shop_no}"
    data = form_data(shop, rule="logistics_mismatch", tier_code="serious", points="6", idempotency_key="no-ev")
    response = client.post(url, {**data, "step": "confirm"})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="no-evidence-warning"' in page and 'id="without-evidence"' in page
    assert 'id="preview-suspends"' in page  # the suspension is said up front
    assert not Ticket.objects.exists()
    response = client.post(url, {**data, "step": "confirm", "without_evidence": "yes"})
    assert response.status_code == 302 and Ticket.objects.count() == 1
