"""Certificates through HTTP (SPEC §4): the merchant submits and renews in
the portal; reviewers review, withdraw, record trademark events and issue
tickets from the missing-certificate queue in the admin."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import Qualification, QualificationRequirement, RectificationNotice, Ticket
from tests.worker import drain
from compliance.services.daily import expire_certificates
from compliance.services.qualifications import gaps_refresh
from shops.models import Product
from tests.factories import (
    approved_certificate, fund, issue, make_merchant, make_product, make_shop, pdf_upload,
    qualification_type, submit_certificate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return fund(make_shop(shop_type="exclusive"), 20000)


@pytest.fixture
def merchant(shop):
    return make_merchant("cert-merchant", shop)


def form_data(**extra):
    data = {"qualification_type": qualification_type("ccc").pk, "number": "2024010901234567", "holder": "测试公司",
            "authority": "中国质量认证中心", "issued_on": "2024-01-09", "expires_on": "2029-01-08", "brand": "",
            "product_nos": "", "documents": [pdf_upload("CCC证书.pdf")]}
    data.update(extra)
    return data


# Merchants -----------------------------------------------------------------------------------------

def test_merchant_submits_a_certificate(client, shop, merchant):
    product = make_product(shop, category="数码", brand="极光")
    gaps_refresh()
    client.force_login(merchant)
    page = client.get(f"/portal/shops/{shop.shop_no}/certificates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Missing: CCC for the digital product, and a brand certificate in an exclusive store.
    assert 'id="missing"' in page and product.product_no in page and "CCC" in page
    url = f"/portal/shops/{shop.shop_no}/certificates/new/"
    response = client.post(url, form_data(product_nos=f" {product.product_no}，"))
    assert response.status_code == 302 and response["Location"].endswith("/certificates/")
    q = Qualification.objects.get()
    assert (q.status, q.kind, q.submitted_by, list(q.products.all())) == ("submitted", "product", merchant, [product])
    assert q.documents.get().original_name == "CCC证书.pdf"
    page = client.get(f"/portal/shops/{shop.shop_no}/certificates/").content.decode()
    assert "2024010901234567" in page and "badge cert-submitted" in page


@pytest.mark.parametrize("extra, field, message", [
    ({"product_nos": "99999999"}, "product_nos", "Not products of this shop"),
    ({"expires_on": ""}, "expires_on", "tick"),
    ({"permanent": "on"}, "expires_on", "permanent certificate has no expiry"),
    ({"issued_on": "2024-02-30"}, "issued_on", "valid date"),
    ({"documents": [SimpleUploadedFile("licence.pdf", b"MZ\x90\x00 an executable")]}, "documents", "PDF"),
    ({"documents": [SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)]}, "documents", "image"),
    ({"documents": []}, "documents", "required"),
    ({"qualification_type": "abc"}, "qualification_type", "valid choice"),
])
def test_bad_submissions_are_explained_and_nothing_is_kept(client, shop, merchant, extra, field, message):
    client.force_login(merchant)
    response = client.post(f"/portal/shops/{shop.shop_no}/certificates/new/", form_data(**extra),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Qualification.objects.exists()


def test_service_refusals_show_as_messages(client, shop, merchant):
    client.force_login(merchant)
    # A product certificate without products passes the form but not the rule.
    response = client.post(f"/portal/shops/{shop.shop_no}/certificates/new/", form_data(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "Choose the products" in response.content.decode()
    assert not Qualification.objects.exists()


def test_renewal_from_a_notice(client, shop, merchant, reviewer):
    product = make_product(shop, category="数码")
    old = approved_certificate(shop, "ccc", reviewer, products=[product], expires_on=datetime.date(2026, 3, 10),
                               now=timezone.make_aware(datetime.datetime(2026, 1, 5, 12)))
    expire_certificates(timezone.make_aware(datetime.datetime(2026, 3, 12)))
    client.force_login(merchant)
    health = client.get(f"/portal/shops/{shop.shop_no}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"?renews={old.pk}" in health  # the to-do entry leads to the renewal form
    url = f"/portal/shops/{shop.shop_no}/certificates/new/?renews={old.pk}"
    form = client.get(url).context["form"]
    assert form.initial["product_nos"] == product.product_no
    response = client.post(url, form_data(product_nos=product.product_no))
    assert response.status_code == 302
    renewal = Qualification.objects.get(renews=old)
    assert renewal.status == "submitted"
    assert client.post(url, form_data(product_nos=product.product_no)).status_code == 400  # one under review


def test_expiring_certificates_fill_the_health_page_slot(client, shop, merchant, reviewer):
    soon = timezone.localdate() + datetime.timedelta(days=12)
    approved_certificate(shop, "business_licence", reviewer, expires_on=soon)
    client.force_login(merchant)
    body = client.get(f"/portal/shops/{shop.shop_no}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    slot = body.split('id="certificates-slot"')[1].split("</section>")[0]
    assert "expires in 12 days" in slot


# Reviewers -----------------------------------------------------------------------------------------

def test_review_queue_order_filters_and_search(client, shop, merchant, reviewer):
    older = submit_certificate(shop, "business_licence", merchant, number="JY100",
                               now=timezone.now() - datetime.timedelta(days=2))
    newer = submit_certificate(shop, "bank_account", merchant, number="JY200")
    done = approved_certificate(shop, "resident_id", reviewer, number="ID300",
                                expires_on=timezone.localdate() + datetime.timedelta(days=5))
    client.force_login(reviewer)
    rows = list(client.get("/admin/compliance/qualification/").context["cl"].result_list)
    assert rows[:3] == [older, newer, done]  # under review first, oldest first
    assert list(client.get("/admin/compliance/qualification/?expiring=7").context["cl"].result_list) == [done]
    assert list(client.get("/admin/compliance/qualification/?q=jy2").context["cl"].result_list) == [newer]
    found = client.get("/admin/compliance/qualification/", {"q": shop.shop_no}).context["cl"].result_list
    assert set(found) == {older, newer, done}
    assert client.get("/admin/compliance/qualification/?expiring=abc").status_code == 200


def test_reviewer_approves_and_rejects_with_the_documents_beside(client, shop, merchant, reviewer, mailoutbox):
    merchant.email = "m@shop.example"
    merchant.save()
    q = submit_certificate(shop, "business_licence", merchant)
    client.force_login(reviewer)
    url = f"/admin/compliance/qualification/{q.pk}/review/"
    page = client.get(url).content.decode()
    document = q.documents.get()
    assert f"/admin/compliance/qualification/{q.pk}/document/{document.pk}/?inline=1" in page
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and Qualification.objects.get().status == "submitted"  # a reason is needed
    response = client.post(url, {"decision": "reject", "reason": "照片模糊"})
    drain()
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.status == "rejected" and q.review_reason == "照片模糊" and len(mailoutbox) == 1
    again = client.post(url, {"decision": "approve", "reason": ""}, follow=True)
    assert "已审核" in again.content.decode() or "already" in again.content.decode()
    q.refresh_from_db()
    assert q.status == "rejected"
    download = client.get(f"/admin/compliance/qualification/{q.pk}/document/{document.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/admin/compliance/qualification/{q.pk}/document/{document.pk + 99}/").status_code == 404


def test_only_reviewers_review(client, shop, merchant, appeal_reviewer):
    q = submit_certificate(shop, "business_licence", merchant)
    client.force_login(appeal_reviewer)
    assert client.get("/admin/compliance/qualification/").status_code == 200  # may see
    for view in ("review", "withdraw", "trademark"):
        assert client.post(f"/admin/compliance/qualification/{q.pk}/{view}/", {}).status_code == 403
    assert client.get("/admin/compliance/qualificationgap/").status_code == 403


def test_withdraw_opens_a_notice(client, shop, merchant, reviewer):
    q = approved_certificate(shop, "business_licence", reviewer)
    client.force_login(reviewer)
    url = f"/admin/compliance/qualification/{q.pk}/withdraw/"
    assert client.post(url, {"status": "expired", "reason": "x"}).status_code == 200  # not a choice
    response = client.post(url, {"status": "revoked", "reason": "发证机关吊销"})
    assert response.status_code == 302
    notice = RectificationNotice.objects.get()
    assert notice.cause == "revoked" and notice.status == "open"
    assert client.post(url, {"status": "revoked", "reason": "again"}, follow=True).status_code == 200
    assert RectificationNotice.objects.count() == 1


def test_trademark_event_bans_the_brand(client, shop, merchant, reviewer):
    q = approved_certificate(shop, "brand_authorisation", reviewer, brand="极光")
    branded = make_product(shop, brand="极光")
    client.force_login(reviewer)
    url = f"/admin/compliance/qualification/{q.pk}/trademark/"
    assert branded.product_no in client.get(url).content.decode()
    response = client.post(url, {"event": "authorisation_withdrawn", "details": "品牌方撤回授权", "ban": "on"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/ticket/{ticket.pk}/change/")
    branded.refresh_from_db()
    assert branded.status == Product.Status.BANNED and "品牌方撤回授权" in ticket.description


def test_trademark_event_previews_its_ticket_before_issuing(client, shop, merchant, reviewer):
    """The page's first button shows what the ticket does — here it clears the
    shop — and writes nothing; the second issues exactly that."""
    q = approved_certificate(shop, "brand_authorisation", reviewer, brand="极光")
    branded = make_product(shop, brand="极光")
    client.force_login(reviewer)
    url = f"/admin/compliance/qualification/{q.pk}/trademark/"
    form = {"event": "registration_invalidated", "details": "商标被宣告无效", "ban": "on", "clear": "on"}
    first = client.post(url, {**form, "step": "preview"}, HTTP_ACCEPT_LANGUAGE="en")
    page = first.content.decode()
    assert first.status_code == 200 and first.context["preview"].shop_cleared
    assert 'id="preview-clears"' in page and branded.product_no in page and 'value="issue"' in page
    assert not Ticket.objects.exists()
    q.refresh_from_db()
    branded.refresh_from_db()
    assert q.status == Qualification.Status.APPROVED and branded.status == Product.Status.ON_SALE
    assert client.post(url, {**form, "step": "issue"}).status_code == 302
    shop.refresh_from_db()
    assert Ticket.objects.count() == 1 and shop.status == "cleared"


# The missing-certificate queue ------------------------------------------------------------------------

def test_missing_queue_preview_then_issue_in_one_step(client, reviewer):
    shops = [fund(make_shop(), 20000) for _ in range(2)]
    digital = [make_product(s, category="数码") for s in shops]
    food = make_product(shops[0], category="食品")
    covered = make_product(shops[1], category="数码")
    approved_certificate(shops[1], "ccc", reviewer, products=[covered])
    make_product(shops[0], category="女装")  # no requirement
    gaps_refresh()
    client.force_login(reviewer)
    listing = client.get("/admin/compliance/qualificationgap/")
    rows = {gap.product for gap in listing.context["cl"].result_list}
    assert rows == {*digital, food}
    assert "强制性产品认证证书" in listing.content.decode()

    ids = ",".join(str(p.pk) for p in (*digital, food))
    preview = client.get("/admin/compliance/qualificationgap/issue/", {"ids": ids})
    assert preview.status_code == 200
    groups = {(r["shop"].pk, r["tier"].code) for r in preview.context["rows"]}
    # Shop 0: the food licence is industry (A 12); its digital product alone would be first minor.
    assert groups == {(shops[0].pk, "other"), (shops[0].pk, "product_first_minor"), (shops[1].pk, "product_first_minor")}
    token = preview.context["token"]
    data = {"ids": ids, "token": token, "confirm": "1"}
    assert client.post("/admin/compliance/qualificationgap/issue/", data).status_code == 302
    assert Ticket.objects.count() == 3
    client.post("/admin/compliance/qualificationgap/issue/", data)  # a second submission: nothing new
    assert Ticket.objects.count() == 3
    for p in (*digital, food):
        p.refresh_from_db()
        assert p.status == Product.Status.DELISTED
    assert not list(client.get("/admin/compliance/qualificationgap/").context["cl"].result_list)
    # The gaps are resolved by the tickets that delisted their products.
    from compliance.models import QualificationGap
    assert {g.ticket.number for g in QualificationGap.objects.filter(product__in=digital)} <= {
        t.number for t in Ticket.objects.all()}
    assert not QualificationGap.objects.open().exists()


def test_missing_queue_complaint_and_bad_input(client, reviewer):
    shop = fund(make_shop(), 20000)
    product = make_product(shop, category="美妆")
    issue(shop, "qualification_materials", "product_first_minor", reviewer, products=[make_product(shop)])
    client.force_login(reviewer)
    preview = client.get("/admin/compliance/qualificationgap/issue/", {"ids": product.pk, "complaint": "1"})
    assert [r["tier"].code for r in preview.context["rows"]] == ["product_complaint"]
    for bad in ("", "abc", "1,,x", "99999999999999999999", ",".join(["1"] * 300)):
        response = client.get("/admin/compliance/qualificationgap/issue/", {"ids": bad})
        assert response.status_code == 302, bad
    gaps_refresh()
    gap = product.qualification_gaps.get()
    action = client.post("/admin/compliance/qualificationgap/", {
        "action": "issue_tickets", "_selected_action": [gap.pk]})
    assert action.status_code == 302 and "/issue/?ids=" in action["Location"]


def test_missing_queue_queries_do_not_grow_with_rows(client, reviewer, django_assert_max_num_queries):
    shop = fund(make_shop(shop_type="flagship"), 20000)
    for i in range(30):
        make_product(shop, category="数码", brand=f"品牌{i % 3}")
    gaps_refresh()
    client.force_login(reviewer)
    with django_assert_max_num_queries(14):
        response = client.get("/admin/compliance/qualificationgap/")
    assert len(response.context["cl"].result_list) == 30


def test_a_requirement_edited_in_the_admin_applies_at_once(client, compliance_admin, reviewer):
    shop = fund(make_shop(), 20000)
    dress = make_product(shop, category="女装")
    gaps_refresh()
    client.force_login(compliance_admin)

    def queue():
        return {gap.product for gap in client.get("/admin/compliance/qualificationgap/").context["cl"].result_list}

    assert dress not in queue()
    response = client.post("/admin/compliance/qualificationrequirement/add/", {
        "category": "女装", "shop_type": "", "accepted_types": [qualification_type("business_licence").pk],
        "per_brand": "", "is_active": "on", "note": ""})
    assert response.status_code == 302
    assert dress in queue()  # checked again when the requirement was saved
    # The same row, in the same place, with another content (one certificate per brand: the dress has
    # none): the queue follows it — the query built from the matrix is kept by content, not by key.
    requirement = QualificationRequirement.objects.get(category="女装")
    response = client.post(f"/admin/compliance/qualificationrequirement/{requirement.pk}/change/", {
        "category": "女装", "shop_type": "", "accepted_types": [qualification_type("business_licence").pk],
        "per_brand": "on", "is_active": "on", "note": ""})
    assert response.status_code == 302
    assert dress not in queue()
    client.force_login(reviewer)
    assert client.get("/admin/compliance/qualificationrequirement/add/").status_code == 403


def test_a_missing_queue_issue_over_twenty_products_is_previewed_and_issued_by_jobs(client, reviewer):
    """Issue #21: more than 20 products — the preview and the issuing are jobs;
    the preview's page carries the forms, and issuing twice issues once."""
    from compliance.models import Job
    from tests.worker import drain

    shops = [fund(make_shop(), 50000) for _ in range(3)]
    products = [make_product(s, category="数码") for s in shops for _ in range(8)]
    gaps_refresh()
    ids = ",".join(str(p.pk) for p in products)
    client.force_login(reviewer)
    url = "/admin/compliance/qualificationgap/issue/"
    started = client.get(url, {"ids": ids})
    preview_job = Job.objects.get(kind="missing_preview")
    assert started.status_code == 302 and started["Location"] == f"/admin/jobs/{preview_job.pk}/"
    drain()
    page = client.get(started["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and 'id="issue-preview"' in body and f'action="{url}"' in body
    assert not Ticket.objects.exists()
    data = {"ids": ids, "token": page.context["token"], "confirm": "1"}
    issued = client.post(url, data)
    assert issued.status_code == 302 and Job.objects.filter(kind="missing_issue").count() == 1
    client.post(url, data)  # submitted twice: two jobs, one set of tickets
    drain()
    assert Ticket.objects.count() == 3  # a ticket a shop (one tier each)
    report = client.get(issued["Location"]).content.decode()
    assert all(t.number in report for t in Ticket.objects.all())
