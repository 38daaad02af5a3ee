"""Accessible pages (issue #23): axe-core, run by axe-playwright-python in the
Chromium the browser test uses, finds no critical or serious violation on
the admin index, every changelist, the issue flow (each step, and the form
sent back with errors), the decide pages, and the portal's health, ticket
(with its appeal), warning and inbox pages — on the demo world, in Chinese,
at 1280 px for the admin and 390 px for the portal (a phone).

A failure lists every violation: rule, impact, page and the elements."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from compliance.management.commands.seed_demo import DEMO_PASSWORD
from compliance.models import Appeal, QualificationGap, Ticket, ViolationWarning
from compliance.selectors import MerchantScope
from compliance.selectors.claims import QUEUES
from tests.factories import tier
from tests.test_browser import chromium, new_page  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SERIOUS = ("critical", "serious")


class Scan:
    """Runs axe on pages and keeps what it found, by page."""

    def __init__(self, page, base):
        from axe_playwright_python.sync_playwright import Axe

        self.axe, self.page, self.base, self.found, self.seen = Axe(), page, base, [], 0

    def log_in(self, login, username):
        self.page.goto(self.base + login)
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.locator("form [type=submit]").first.click()
        self.page.wait_for_load_state()

    def check(self, name):
        """The page as it stands (after a click, say)."""
        results = self.axe.run(self.page)
        self.seen += 1
        for violation in results.response["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
                self.found.append(f"{violation['impact']} {violation['id']} on {name}: {targets} — {violation['help']}")

    def visit(self, path, name=None):
        response = self.page.goto(self.base + path)
        assert response.status < 400, f"{path} answered {response.status}"
        self.check(name or path)


def test_no_critical_or_serious_axe_violations(live_server, chromium):  # noqa: F811
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    admin_context = dict(viewport={"width": 1280, "height": 900})
    # A compliance admin: the workspace index and every list they see (which is every list there is).
    scan = Scan(new_page(chromium, **admin_context), live_server.url)
    scan.log_in("/admin/login/", "complianceadmin")
    complianceadmin = User.objects.get(username="complianceadmin")
    lists = [reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
             for model in admin.site._registry
             if complianceadmin.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")]
    assert len(lists) > 30, lists
    scan.visit("/admin/")
    for url in lists:
        scan.visit(url)
    for subject, queue in QUEUES.items():  # each queue's decide page: the claim box, the reason templates
        if queue.decide_url.endswith("_changelist"):
            continue  # products missing a qualification: issued for from their list (the bulk page, below)
        item = queue.model.objects.filter(queue.open(timezone.now())).first()
        assert item is not None, f"the demo has no {subject} to decide"
        scan.visit(reverse(queue.decide_url, args=[item.pk]), f"decide {subject}")
    gaps = QualificationGap.objects.filter(resolved_at=None).values_list("product_id", flat=True)
    scan.visit(reverse("admin:compliance_qualificationgap_issue") + "?ids=" + ",".join(map(str, gaps)),
               "missing-qualification issue")

    # A reviewer through the issue flow: pick a shop, a rule, fill the form, send it back with errors, preview.
    scan.page.context.close()
    scan.page = new_page(chromium, **admin_context)
    scan.log_in("/admin/login/", "reviewer")
    scan.visit("/admin/")
    scan.visit(reverse("admin:compliance_ticket_issue"), "issue: pick a shop")
    shop = Ticket.objects.order_by("shop__shop_no").first().shop
    scan.visit(reverse("admin:compliance_ticket_issue") + f"?shop={shop.shop_no}", "issue: pick a rule")
    scan.page.select_option("#id_rule", "false_advertising")
    scan.page.click("#pick-rule button[type=submit]")
    scan.page.wait_for_selector("input[name=tier]")
    scan.check("issue: the form")
    scan.page.fill("#id_occurred_at_0", "not a date")
    scan.page.click("button[value=preview]")
    scan.page.wait_for_selector(".errorlist")
    scan.check("issue: the form with errors")
    scan.page.check(f"input[name=tier][value='{tier('false_advertising', 'general').pk}']")
    scan.page.fill("#id_products", shop.products.first().product_no)
    scan.page.fill("#id_occurred_at_0", "2026-11-20")
    scan.page.fill("#id_occurred_at_1", "10:00:00")
    scan.page.fill("#id_description", "详情页宣称纯棉，实测为涤纶")
    scan.page.click("button[value=preview]")
    scan.page.wait_for_selector("#ticket-preview")
    scan.check("issue: the preview")
    scan.page.click("button[value=confirm]")  # no evidence: the page asks for it
    scan.page.wait_for_selector("#no-evidence-warning")
    scan.check("issue: the preview asking for evidence")

    # An appeal reviewer on an appeal to decide.
    scan.page.context.close()
    scan.page = new_page(chromium, **admin_context)
    scan.log_in("/admin/login/", "appeals")
    scan.visit("/admin/")
    pending = Appeal.objects.filter(status=Appeal.Status.PENDING).first()
    scan.visit(reverse("admin:compliance_appeal_decide", args=[pending.pk]), "appeal decide")

    # Merchants on a phone: health, tickets, a ticket open to appeal and one appealed, warnings, the inbox.
    for username in ("merchant1", "merchant3"):
        scan.page.context.close()
        scan.page = new_page(chromium, viewport={"width": 390, "height": 844})
        scan.log_in("/portal/login/", username)
        scope = MerchantScope(User.objects.get(username=username))
        for shop in scope.shops():
            scan.visit(reverse("portal:standing", args=[shop.shop_no]), f"{username} health {shop.shop_no}")
            scan.visit(reverse("portal:tickets", args=[shop.shop_no]), f"{username} tickets {shop.shop_no}")
            scan.visit(reverse("portal:warnings", args=[shop.shop_no]), f"{username} warnings {shop.shop_no}")
        tickets = scope.tickets()
        for ticket in [tickets.filter(appeals__isnull=False).first(), tickets.filter(appeals__isnull=True).first()]:
            if ticket is not None:
                scan.visit(reverse("portal:ticket", args=[ticket.number]), f"{username} ticket {ticket.number}")
        warning = scope.warnings().filter(status=ViolationWarning.Status.OPEN).first() or scope.warnings().first()
        if warning is not None:
            scan.visit(reverse("portal:warning", args=[warning.number]), f"{username} warning {warning.number}")
        scan.visit(reverse("portal:messages"), f"{username} inbox")
        scan.visit(reverse("portal:certificates", args=[scope.shops()[0].shop_no]), f"{username} certificates")
    assert scan.seen > 50
    assert not scan.found, f"{len(scan.found)} violations:\n" + "\n".join(scan.found)
