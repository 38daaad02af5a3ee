"""The flow that matters most, in a real browser (Debian's Chromium driven by
Playwright) against a live server: a reviewer issues a ticket in the admin,
the merchant sees it in the portal and appeals with a PDF, an appeal
reviewer approves, and the merchant sees the ticket revoked and the points
restored. Screenshots go to test-artifacts/ (ignored by git)."""

import datetime
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from compliance.models import Ticket
from tests.worker import WorkerProcess
from tests.factories import fund, make_merchant, make_product, make_shop, make_staff, pdf_upload, tier

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# Flags for a closed network (no background connections) running as root.
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage",
        # Names resolve to nothing but localhost: the browser reaches only the test server.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def chromium(live_server):
    # Function-scoped and after live_server: Playwright's sync API starts an
    # event loop, and the database must be set up (and its serialized rows
    # restored) before that.
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs this test")
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Under Playwright's event loop Django sees another async context
            # and opened a second connection for the test's own queries;
            # close it, or PostgreSQL cannot drop the test database.
            connections.close_all()


def new_page(chromium, **options):
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context.new_page()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, url, username):
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", "browser-pass-2026")
    page.locator("form [type=submit]").first.click()
    page.wait_for_load_state()


def test_issue_appeal_approve_in_a_browser(live_server, chromium, tmp_path):
    password = "browser-pass-2026"
    reviewer = make_staff("b-reviewer", "Reviewer")
    decider = make_staff("b-appeals", "Appeal reviewer")
    shop = fund(make_shop(name="浏览器测试店"), 10000)
    product = make_product(shop, title="测试商品")
    merchant = make_merchant("b-merchant", shop)
    for user in (reviewer, decider, merchant):
        user.set_password(password)
        user.save()
    pdf = tmp_path / "质检报告.pdf"
    pdf.write_bytes(pdf_upload().read())
    occurred = timezone.localtime() - datetime.timedelta(hours=2)

    # 1. The reviewer issues a ticket from the shop's page, through the preview.
    page = new_page(chromium)
    log_in(page, f"{live_server.url}/admin/login/", "b-reviewer")
    page.goto(f"{live_server.url}/admin/shops/shop/{shop.pk}/change/")
    page.click(f"a[href='/admin/compliance/ticket/issue/?shop={shop.shop_no}']")
    page.select_option("#id_rule", "false_advertising")  # step 1: the rule
    page.click("#pick-rule button[type=submit]")
    page.wait_for_selector("input[name=tier]")  # step 2: the rule's tiers, beside the shop's standing
    shot(page, "0-issue-form")
    page.check(f"input[name=tier][value='{tier('false_advertising', 'general').pk}']")
    page.fill("#id_products", product.product_no)
    page.fill("#id_occurred_at_0", occurred.strftime("%Y-%m-%d"))
    page.fill("#id_occurred_at_1", occurred.strftime("%H:%M:%S"))
    page.fill("#id_description", "详情页宣称纯棉，实测为涤纶")
    page.click("button[value=preview]")
    page.wait_for_selector("#ticket-preview")
    assert "0 → 3" in page.inner_text("#ticket-preview")
    assert "详情页宣称纯棉" in page.inner_text("#ticket-preview")  # what the merchant will read
    shot(page, "1-preview")
    page.click("button[value=confirm]")  # no evidence yet: the page asks for it
    page.wait_for_selector("#no-evidence-warning")
    page.set_input_files("#id_evidence", str(pdf))
    page.click("button[value=confirm]")
    page.wait_for_url("**/admin/compliance/ticket/*/change/")
    ticket = Ticket.objects.get(shop=shop)
    shot(page, "2-ticket-issued")

    # 2. The merchant sees it in the portal and appeals with a PDF.
    portal = new_page(chromium, viewport={"width": 390, "height": 844})  # a phone
    log_in(portal, f"{live_server.url}/portal/login/", "b-merchant")
    assert portal.inner_text("#points-A .big").startswith("3")
    shot(portal, "3-standing")
    portal.click(f"a[href='/portal/tickets/{ticket.number}/']")
    portal.fill("#id_reason", "材质有质检报告为证")
    portal.fill("#id_statement", "附第三方质检报告，商品成分为棉。")
    portal.set_input_files("#id_evidence", str(pdf))
    portal.click("#appeal-form button[type=submit]")
    portal.wait_for_selector("#appeal-closed")
    assert ticket.appeals.get().evidence.count() == 1
    shot(portal, "4-appealed")

    # 3. The appeal reviewer (not the issuer) approves with a reason.
    admin = new_page(chromium)
    log_in(admin, f"{live_server.url}/admin/login/", "b-appeals")
    assert admin.inner_text("#dashboard-queues")  # the index shows the queues
    admin.goto(f"{live_server.url}/admin/compliance/appeal/")
    admin.click(f"a:has-text('{ticket.number}') >> nth=0")
    admin.goto(f"{live_server.url}/admin/compliance/appeal/{ticket.appeals.get().pk}/decide/")
    admin.check("input[value=approve]")
    admin.fill("#id_reason", "质检报告成立，撤销处罚")
    admin.click("input[type=submit]")
    admin.wait_for_url("**/admin/compliance/appeal/")
    shot(admin, "5-decided")

    # 4. The merchant sees the ticket revoked and the points restored.
    portal.goto(f"{live_server.url}/portal/tickets/{ticket.number}/")
    assert portal.locator(".badge.st-revoked").count() >= 1
    assert "质检报告成立，撤销处罚" in portal.inner_text("#appeals")
    portal.goto(f"{live_server.url}/portal/")
    assert portal.inner_text("#points-A .big").startswith("0")
    shot(portal, "6-restored")
    product.refresh_from_db()
    assert product.status == "on_sale"



def test_certificate_submitted_on_a_phone_and_approved_in_the_admin(live_server, chromium, tmp_path):
    """SPEC §4 in a browser: the merchant sees a product missing its CCC
    certificate, submits it from that row with a PDF on a phone, the reviewer
    approves it beside the scan, and the product leaves the list."""
    from compliance.models import Claim, Qualification, ReasonTemplate
    from compliance.services.qualifications import gaps_refresh

    template, _created = ReasonTemplate.objects.get_or_create(
        queue="qualification", decision="approve", title="材料齐全有效",
        defaults={"text": "资质材料齐全、清晰且在有效期内，审核通过。"})
    reviewer = make_staff("b-cert-reviewer", "Reviewer")
    shop = fund(make_shop(name="证书测试店"), 10000)
    charger = make_product(shop, title="65W 充电器", category="数码")
    merchant = make_merchant("b-cert-merchant", shop)
    for user in (reviewer, merchant):
        user.set_password("browser-pass-2026")
        user.save()
    gaps_refresh()
    pdf = tmp_path / "CCC证书.pdf"
    pdf.write_bytes(pdf_upload().read())

    portal = new_page(chromium, viewport={"width": 390, "height": 844})
    log_in(portal, f"{live_server.url}/portal/login/", "b-cert-merchant")
    assert "65W 充电器" in portal.inner_text("#todo")  # the health page's to-do names the product
    portal.goto(f"{live_server.url}/portal/shops/{shop.shop_no}/certificates/")
    assert "65W 充电器" in portal.inner_text("#missing")
    portal.click("#missing a")  # submit from the row: type and product filled in
    assert portal.input_value("#id_product_nos") == charger.product_no
    portal.fill("#id_number", "2024010901234567")
    portal.fill("#id_holder", shop.company_name)
    portal.fill("#id_authority", "中国质量认证中心")
    portal.fill("#id_issued_on", "2024-01-09")
    portal.fill("#id_expires_on", "2029-01-08")
    portal.set_input_files("#id_documents", str(pdf))
    portal.click("#certificate-form button[type=submit]")
    portal.wait_for_selector("#certificate-list .badge.cert-submitted")
    shot(portal, "7-certificate-submitted")
    q = Qualification.objects.get(shop=shop)

    admin = new_page(chromium)
    log_in(admin, f"{live_server.url}/admin/login/", "b-cert-reviewer")
    admin.goto(f"{live_server.url}/admin/compliance/qualification/")
    admin.click(f"a:has-text('{q.number}')")  # under review: the row opens the review view
    admin.wait_for_selector("#review-documents iframe.evidence-preview")  # the scan beside the data
    admin.click("#claim button[value=take]")  # SPEC §14: claimed, nobody else decides it meanwhile
    admin.wait_for_selector("#claim[data-renew-url]")
    shot(admin, "8-certificate-review")
    # A reason template: its text goes into the reason, its decision is chosen; the reviewer edits it.
    # By its key: the option's label is in the page's language, which need not be this process's
    # (a test run before this one may have left English active here).
    assert f" · {template.title}" in admin.inner_text(f"#reason-template option[value='{template.pk}']")
    admin.select_option("#reason-template", value=str(template.pk))
    assert admin.input_value("#id_reason") == template.text and admin.is_checked("input[value=approve]")
    admin.fill("#id_reason", template.text + "（已核对原件）")
    admin.click("input[type=submit]")
    admin.wait_for_url("**/admin/compliance/qualification/")
    q.refresh_from_db()
    assert (q.status, q.review_reason) == ("approved", template.text + "（已核对原件）")
    assert Claim.objects.get(subject="qualification", subject_id=q.pk).status == Claim.Status.DONE

    portal.goto(f"{live_server.url}/portal/shops/{shop.shop_no}/certificates/")
    assert portal.locator("#certificate-list .badge.cert-approved").count() == 1
    assert portal.locator("#missing").count() == 0  # the product has its certificate now
    shot(portal, "9-certificate-approved")


def test_merchant_applies_to_the_alliance_and_a_reviewer_approves(live_server, chromium):
    """SPEC §8 in a browser: every criterion is shown to the merchant, who
    applies on a phone; the reviewer approves beside the same criteria."""
    from compliance.models import AllianceMembership

    reviewer = make_staff("b-alliance-reviewer", "Reviewer")
    shop = fund(make_shop(name="联盟测试店", experience_score=88), 10000)
    merchant = make_merchant("b-alliance-merchant", shop)
    for user in (reviewer, merchant):
        user.set_password("browser-pass-2026")
        user.save()
    portal = new_page(chromium, viewport={"width": 390, "height": 844})
    log_in(portal, f"{live_server.url}/portal/login/", "b-alliance-merchant")
    portal.goto(f"{live_server.url}/portal/shops/{shop.shop_no}/alliance/")
    assert portal.locator(".criteria li.met").count() == 7
    portal.click("#alliance-apply button[type=submit]")
    portal.wait_for_selector(".badge.alliance-applied")
    shot(portal, "10-alliance-applied")
    membership = AllianceMembership.objects.get(shop=shop)

    admin = new_page(chromium)
    log_in(admin, f"{live_server.url}/admin/login/", "b-alliance-reviewer")
    admin.goto(f"{live_server.url}/admin/compliance/alliancemembership/")
    admin.click(f"a[href='/admin/compliance/alliancemembership/{membership.pk}/decide/']")
    admin.wait_for_selector("#alliance-criteria")
    admin.check("input[value=approve]")
    admin.click("input[type=submit]")
    admin.wait_for_url("**/admin/compliance/alliancemembership/")
    portal.goto(f"{live_server.url}/portal/shops/{shop.shop_no}/")
    assert "已加入" in portal.inner_text("#alliance-slot")
    shot(portal, "11-alliance-member")


LIST_PATHS = ["shops/shop", "compliance/ticket", "compliance/appeal", "compliance/rule", "compliance/event",
              "compliance/depositentry", "compliance/pointentry", "compliance/measure", "compliance/nodeapplication",
              "shops/product", "shops/controller", "shops/shopmember", "compliance/pointnode",
              "compliance/qualification", "compliance/rectificationnotice", "compliance/qualificationgap",
              "compliance/alliancemembership", "compliance/allianceclosure", "shops/shopscore",
              "shops/serviceprovider", "shops/providerbinding", "shops/shopdailyorders", "compliance/renewalresult",
              "compliance/providerrequest", "compliance/violationwarning", "compliance/qualificationtype",
              "compliance/qualificationrequirement"]


def test_admin_lists_fit_1280_px(live_server, chromium):
    """At 1280 px the shop, ticket, appeal and rule lists show every column
    without horizontal scrolling, one or two lines a row, in both languages."""
    from compliance.services.appeals import appeal_submit
    from tests.factories import issue

    admin_user = make_staff("b-admin", "Compliance admin")
    admin_user.set_password("browser-pass-2026")
    admin_user.save()
    long_name = "杭州云织官方旗舰店（女装·童装·家纺·配饰）超长名称示例"
    shops = [fund(make_shop(name=long_name if i == 0 else f"示例店铺{i}"), 100000) for i in range(4)]
    merchant = make_merchant("b-lists", *shops)
    for shop in shops:
        product = make_product(shop)
        ticket = issue(shop, "trademark_event", "brand_lapsed", admin_user, products=[product], ban_chosen=True)
        issue(shop, "false_advertising", "general", admin_user, products=[make_product(shop)])
    appeal_submit(ticket=ticket, actor=merchant, reason="授权已补齐", statement="附授权书")
    # Certificates in every list state: under review, approved, withdrawn with a notice, and a queue row.
    from compliance.services.qualifications import gaps_refresh, qualification_withdraw
    from tests.factories import approved_certificate, submit_certificate

    submit_certificate(shops[0], "brand_authorisation", merchant, brand="云织")
    withdrawn = approved_certificate(shops[1], "food_business_licence", admin_user, merchant=merchant)
    qualification_withdraw(qualification=withdrawn, status="revoked", reason="发证机关已吊销", actor=admin_user)
    make_product(shops[2], category="数码", title="云织 超长商品名称示例 65W 氮化镓快充充电器")
    gaps_refresh()
    # Alliance rows: an application, a membership closed by a B ticket; scores.
    from compliance.models import AllianceMembership
    from compliance.services.alliance import alliance_apply
    from shops.models import ShopScore

    clean = fund(make_shop(name=long_name + "二店", experience_score=90), 100000)
    make_merchant("b-lists-2", clean)
    alliance_apply(shop=clean, actor=clean.members.first().user)
    AllianceMembership.objects.create(shop=shops[1], status="active")
    issue(shops[1], "counterfeit", "general", admin_user, products=[make_product(shops[1])])
    ShopScore.objects.create(shop=shops[0], day=timezone.localdate(), score=88)
    # Providers: a long name, bindings, orders, an assessed result and a request.
    from compliance.models import RenewalCampaign
    from compliance.services.providers import provider_request, renewals_assess
    from shops.models import ProviderBinding, ServiceProvider, ShopDailyOrders

    provider = ServiceProvider.objects.create(name="杭州四季青女装产业带服务商（滨江分公司）", certified_on=datetime.date(2023, 3, 1),
                                              deposit_paid=100000, deposit_paid_on=datetime.date(2023, 10, 1))
    ProviderBinding.objects.create(provider=provider, shop=shops[0], starts_on=datetime.date(2023, 6, 1))
    ShopDailyOrders.objects.create(shop=shops[0], day=datetime.date(2024, 1, 5), paid_orders=120, gift_orders=4)
    renewals_assess(campaign=RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核"))
    provider_request(provider=provider, kind="exit", actor=admin_user, note="业务调整，申请退出并退还保证金")
    # Warnings: one running to its deadline, one answered and held by the admin (issue #23's columns).
    from compliance.services.claims import claim_take
    from compliance.services.warnings import warning_answer
    from tests.factories import make_integration, receive_warning

    detector = make_integration("风控检测系统（演示）超长名称")[0]
    receive_warning(detector, shops[0], "b-lists-1")
    answered = receive_warning(detector, shops[1], "b-lists-2")
    warning_answer(warning=answered, actor=merchant, text="已核实并重新发货")
    claim_take(subject="warning", subject_id=answered.pk, actor=admin_user)
    page = new_page(chromium, viewport={"width": 1280, "height": 800})
    log_in(page, f"{live_server.url}/admin/login/", "b-admin")
    for language in ("zh-hans", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        for path in LIST_PATHS:
            page.goto(f"{live_server.url}/admin/{path}/")
            fit = page.evaluate("""() => {
                const table = document.querySelector('#result_list');
                if (!table) return {page: document.documentElement.scrollWidth <= window.innerWidth, table: true,
                                    tallest: 0, line: 20};  // an empty list
                const box = table.closest('.results') || table.parentElement;
                const rows = [...table.querySelectorAll('tbody tr')].map(r => r.getBoundingClientRect().height);
                const line = parseFloat(getComputedStyle(table.querySelector('tbody td')).lineHeight) || 20;
                return {page: document.documentElement.scrollWidth <= window.innerWidth,
                        table: table.scrollWidth <= box.clientWidth + 1,
                        tallest: Math.max(...rows), line: line};
            }""")
            shot(page, f"list-{language}-{path.replace('/', '-')}")
            assert fit["page"] and fit["table"], (language, path, fit)
            assert fit["tallest"] <= 2.5 * fit["line"] + 24, (language, path, fit)  # one or two lines a row


def test_warning_from_the_api_answered_in_the_portal_and_confirmed_in_the_admin(live_server, chromium, tmp_path):
    """SPEC §11–§12 end to end: a detector submits a warning over HTTP, the
    merchant answers it on a phone with a file, the reviewer confirms it from
    the queue, and the merchant finds the ticket and the message."""
    import json
    import urllib.request

    from compliance.models import Message, ViolationWarning
    from tests.factories import make_integration

    reviewer = make_staff("b-warn-reviewer", "Reviewer")
    shop = fund(make_shop(name="预警测试店"), 10000)
    merchant = make_merchant("b-warn-merchant", shop)
    for user in (reviewer, merchant):
        user.set_password("browser-pass-2026")
        user.save()
    _integration, key = make_integration("浏览器检测")
    pdf = tmp_path / "揽收说明.pdf"
    pdf.write_bytes(pdf_upload().read())

    # 1. The detector submits the warning through the API.
    detected = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    body = json.dumps({"warnings": [{
        "report_id": "browser-1", "shop": shop.shop_no, "rule": "fake_shipment", "tier": "per_order",
        "summary": "2 笔订单物流无揽收记录", "detected_at": detected,
        "order_nos": ["6931000000000000001", "6931000000000000002"],
        "evidence": {"物流单号": ["YT0001", "YT0002"], "揽收记录": "无"}}]}).encode()
    request = urllib.request.Request(f"{live_server.url}/api/v1/warnings/", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        result = json.loads(response.read())
    assert result["created"] == 1
    number = result["results"][0]["warning"]["number"]

    # 2. The merchant sees it on the health page and answers with a file.
    portal = new_page(chromium, viewport={"width": 390, "height": 844})
    log_in(portal, f"{live_server.url}/portal/login/", "b-warn-merchant")
    assert "2 笔订单物流无揽收记录" in portal.inner_text("#todo")
    portal.click(f"#todo a[href='/portal/warnings/{number}/']")
    assert "YT0001, YT0002" in portal.inner_text("#warning")
    portal.fill("#id_answer", "两笔订单均已发货，快递揽收延迟，附快递公司说明。")
    portal.set_input_files("#id_files", str(pdf))
    portal.click("#answer-form button[type=submit]")
    portal.wait_for_selector("#warning-answer .prose")
    shot(portal, "9-warning-answered")
    assert ViolationWarning.objects.get().status == "answered"

    # 3. The reviewer finds it first in the queue and confirms one order.
    admin = new_page(chromium)
    log_in(admin, f"{live_server.url}/admin/login/", "b-warn-reviewer")
    admin.goto(f"{live_server.url}/admin/compliance/violationwarning/")
    admin.click(f"#result_list tbody tr:first-child a:has-text('{number}')")  # answered: opens the decide view
    admin.wait_for_selector("#warning-preview")
    assert "两笔订单均已发货" in admin.inner_text("#warning-evidence")
    admin.check("input[name=decision][value=confirm]")
    admin.uncheck("input[name=orders][value='6931000000000000002']")
    admin.click("input[type=submit]")
    admin.wait_for_url("**/admin/compliance/violationwarning/")
    shot(admin, "10-warning-confirmed")
    warning = ViolationWarning.objects.get()
    assert warning.status == "confirmed" and warning.ticket.order_count == 1

    # 4. The merchant has the ticket, and a message about it in the inbox.
    portal.goto(f"{live_server.url}/portal/warnings/{number}/")
    portal.click("#warning-decision a")
    assert warning.ticket.number in portal.inner_text("#ticket")
    portal.goto(f"{live_server.url}/portal/messages/")
    assert warning.ticket.number in portal.inner_text("main")
    assert Message.objects.filter(user=merchant, kind="ticket_issued").exists()
    shot(portal, "11-warning-inbox")


def test_a_node_change_previewed_and_saved_in_a_browser(live_server, chromium, tmp_path):
    """Issue #14: the compliance admin changes a node, reads its effect,
    gives the reason and saves; the old node stays with the shops that
    reached it. Issue #21: the replay is a job a real worker runs; the page
    follows it and shows the effect when it is done."""
    from compliance.models import PointNode, PolicyChange

    admin_user = make_staff("b-compliance", "Compliance admin")
    reviewer = make_staff("b-node-reviewer", "Reviewer")
    admin_user.set_password("browser-pass-2026")
    admin_user.save()
    shop = fund(make_shop(name="节点测试店"), 20000)
    from compliance.services.tickets import ticket_issue

    now = timezone.now()
    for days in (3, 2, 1):  # A9: reaches a node at 9, not at 12
        issue_at = now - datetime.timedelta(days=days)
        ticket_issue(shop=shop, tier=tier("false_advertising", "general"), actor=reviewer,
                     products=[make_product(shop)], description="浏览器测试", occurred_at=issue_at, now=issue_at)
    node = PointNode.objects.get(violation_class="A", threshold=12)

    page = new_page(chromium)
    log_in(page, f"{live_server.url}/admin/login/", "b-compliance")
    page.goto(f"{live_server.url}/admin/compliance/pointnode/{node.pk}/change/")
    page.fill("#id_threshold", "9")
    with WorkerProcess(tmp_path):
        page.click("[data-preview]")
        page.wait_for_url("**/admin/jobs/*/")
        page.wait_for_selector("#preview-nodes", timeout=30_000)  # the page reloads when the job is done
    assert "A12 → A9" in page.inner_text("#preview-nodes")
    assert shop.shop_no in page.inner_text("#preview-sample")
    assert not PointNode.objects.filter(threshold=9).exists()  # nothing saved yet
    shot(page, "12-node-preview")
    page.fill("#id_change_reason", "征求意见后下调")
    page.click("#preview-save input[name=_save]")
    page.wait_for_url("**/admin/compliance/pointnode/*/change/")
    new = PointNode.objects.get(violation_class="A", threshold=9, is_active=True)
    assert PointNode.objects.get(pk=node.pk).replaced_by == new
    assert PolicyChange.objects.get().reason == "征求意见后下调"
