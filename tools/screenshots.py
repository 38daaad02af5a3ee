"""Full-page screenshots of every admin and portal page, for every demo
account, at 1280 and 390 px wide, in Chinese and English.

    make screenshots                       # all of them, into test-artifacts/screenshots/
    .venv/bin/python tools/screenshots.py --only merchant1 --widths 390

Runs the demo world on a database of its own (var/screenshots.sqlite3, made
fresh with migrate and seed_demo) and a development server on a free port, so
your own db.sqlite3 is left alone. Drives Debian's Chromium with Playwright.
Look at the PNGs of every page you touched before calling UI work done
(STYLE §19); the file names say account, language, width and page.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
ACCOUNTS = {
    "reviewer": "admin", "appeals": "admin", "complianceadmin": "admin", "merchant1": "portal", "merchant2": "portal", "merchant3": "portal",
}
LANGUAGES = ("zh-hans", "en")
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
WIDTHS = (1280, 390)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env) -> tuple[subprocess.Popen, str]:
    python = sys.executable
    subprocess.run([python, "tests/guarded_manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "tests/guarded_manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([python, "tests/guarded_manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A worker beside it, as make run has: previews are jobs it runs.
    server.worker = subprocess.Popen([python, "tests/guarded_manage.py", "db_worker", "--no-reload"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # And the demo's webhook receiver: the delivery log shows what it got.
    server.receiver = subprocess.Popen([python, "tests/guarded_manage.py", "webhook_receiver", "--port", "8025"], cwd=ROOT,
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    server.worker.kill()
    server.receiver.kill()
    sys.exit("the development server did not start")


def pages_for(account: str, env) -> list[tuple[str, str]]:
    """(name, path) of every page the account works with, from the demo data."""
    code = f"""
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse
from compliance.models import Appeal, Qualification, Ticket
from compliance.selectors import MerchantScope
from shops.models import Shop
user = User.objects.get(username={account!r})
pages = []
if user.is_staff:
    pages.append(("index", reverse("admin:index")))
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        o = model._meta
        if user.has_perm(f"{{o.app_label}}.view_{{o.model_name}}"):
            pages.append((f"list-{{o.app_label}}-{{o.model_name}}", reverse(f"admin:{{o.app_label}}_{{o.model_name}}_changelist")))
    ticket = Ticket.objects.order_by("-issued_at").first()
    shop = Shop.objects.filter(tickets__isnull=False).order_by("shop_no").first()
    pages.append(("ticket", reverse("admin:compliance_ticket_change", args=[ticket.pk])))
    pages.append(("shop", reverse("admin:shops_shop_change", args=[shop.pk])))
    if user.has_perm("compliance.add_ticket"):
        pages.append(("issue", reverse("admin:compliance_ticket_issue") + f"?shop={{shop.shop_no}}"))
        # Past step 1: the rule's form, then its consequences and the prompt for evidence (filled in by main()).
        issue_form = reverse("admin:compliance_ticket_issue") + f"?shop={{shop.shop_no}}&rule=false_advertising"
        pages.append(("issue-form", issue_form))
        pages.append(("issue-consequences", issue_form))
        pages.append(("issue-evidence-prompt", issue_form))
    for status in (403, 404, 500):
        pages.append((f"error-{{status}}", f"/_errors/{{status}}/?under=admin"))
    pending = Appeal.objects.filter(status="pending").first()
    if pending and user.has_perm("compliance.decide_appeal"):
        pages.append(("appeal-decide", reverse("admin:compliance_appeal_decide", args=[pending.pk])))
    certificate = Qualification.objects.filter(status="submitted", renews__isnull=False).first()
    pages.append(("certificate", reverse("admin:compliance_qualification_change", args=[certificate.pk])))
    from compliance.models import AllianceMembership, RenewalResult
    pages.append(("public-notices", reverse("notices")))
    if user.has_perm("compliance.confirm_renewal"):
        assessed = RenewalResult.objects.filter(status="assessed", passed=False).first()
        pages.append(("renewal-confirm", reverse("admin:compliance_renewalresult_confirm", args=[assessed.pk])))
        pages.append(("provider-request", reverse("admin:compliance_providerrequest_record")))
    if user.has_perm("compliance.decide_alliance"):
        applied = AllianceMembership.objects.filter(status="applied").first()
        active = AllianceMembership.objects.filter(status="active").first()
        pages.append(("alliance-decide", reverse("admin:compliance_alliancemembership_decide", args=[applied.pk])))
        pages.append(("alliance-close", reverse("admin:compliance_alliancemembership_close", args=[active.pk])))
    from compliance.models import Integration, ViolationWarning
    answered = ViolationWarning.objects.filter(status="answered").first()
    pages.append(("warning", reverse("admin:compliance_violationwarning_change", args=[answered.pk])))
    if user.has_perm("compliance.decide_warning"):
        pages.append(("warning-decide", reverse("admin:compliance_violationwarning_decide", args=[answered.pk])))
        from compliance.models import Claim
        held = Claim.objects.filter(subject="warning", status="held").first()
        if held:  # seed_demo: the compliance admin holds one (SPEC §14)
            pages.append(("warning-decide-held", reverse("admin:compliance_violationwarning_decide", args=[held.subject_id])))
        ids = ",".join(str(pk) for pk in ViolationWarning.objects.values_list("pk", flat=True))
        pages.append(("warning-decide-many", reverse("admin:compliance_violationwarning_decide_many") + f"?ids={{ids}}&decision=confirm"))
    # A user's jobs: one running (its progress bar), one import's report, the list.
    from django.utils import timezone
    from compliance.models import Job
    now = timezone.now()
    running = Job.objects.create(user=user, kind="ticket_export", title="XLSX", status="running", done=42000,
                                 total=100000, created_at=now, progress_at=now, language="zh-hans", params={{}})
    report = Job.objects.create(user=user, kind="score_import", title="scores-1128.csv", status="done",
                                created_at=now, finished_at=now, language="zh-hans", params={{}}, result={{
                                    "refused": True, "written": 0, "shops": 0, "valid": 2, "error_count": 2,
                                    "errors": [[3, "第 3 行：店铺ID 99999999 不存在"], [7, "日期 2026-13-01 不是 YYYY-MM-DD"]]}})
    pages.append(("job-running", reverse("admin:job", args=[running.pk])))
    pages.append(("job-import-report", reverse("admin:job", args=[report.pk])))
    pages.append(("jobs", reverse("admin:jobs")))
    if user.has_perm("compliance.import_daily"):
        pages.append(("imports", reverse("admin:imports")))
    if user.has_perm("compliance.view_insight"):
        from compliance.models import PointNode, Rule
        node = PointNode.objects.get(violation_class="A", threshold=12)
        pages.append(("insight-quality", reverse("admin:insight_quality")))
        pages.append(("insight-quality-month", reverse("admin:insight_quality") + "?by=month"))
        pages.append(("node-change", reverse("admin:compliance_pointnode_change", args=[node.pk])))
        pages.append(("node-preview", reverse("admin:compliance_pointnode_change", args=[node.pk])))
        rule = Rule.objects.get(code="false_advertising", version=1)
        pages.append(("rule-preview", reverse("admin:compliance_rule_change", args=[rule.pk])))
        pages.append(("policy-preview", reverse("admin:compliance_policysettings_change", args=[1])))
    if user.has_perm("compliance.view_integration"):
        integration = Integration.objects.first()
        pages.append(("integration", reverse("admin:compliance_integration_change", args=[integration.pk])))
        pages.append(("integration-add", reverse("admin:compliance_integration_add")))
        pages.append(("integration-revoke", reverse("admin:compliance_integration_revoke", args=[integration.pk])))
        pages.append(("api-docs", reverse("api:docs")))
    if user.has_perm("compliance.view_webhooksubscription"):
        from compliance.models import WebhookSubscription
        hook = WebhookSubscription.objects.first()
        pages.append(("webhook-change", reverse("admin:compliance_webhooksubscription_change", args=[hook.pk])))
        pages.append(("webhook-add", reverse("admin:compliance_webhooksubscription_add")))
        pages.append(("webhook-rotate", reverse("admin:compliance_webhooksubscription_rotate_secret", args=[hook.pk])))
        pages.append(("webhook-send-test", reverse("admin:compliance_webhooksubscription_send_test", args=[hook.pk])))
        pages.append(("webhook-resend-dead", reverse("admin:compliance_webhooksubscription_resend_dead", args=[hook.pk])))
        pages.append(("webhook-log", reverse("admin:compliance_webhookdelivery_changelist") + f"?subscription={{hook.pk}}"))
        from compliance.models import WebhookDelivery
        delivery = WebhookDelivery.objects.filter(subscription=hook).order_by("-id").first()
        if delivery:
            pages.append(("webhook-delivery", reverse("admin:compliance_webhookdelivery_change", args=[delivery.pk])))
    if user.has_perm("compliance.review_qualification"):
        pages.append(("certificate-review", reverse("admin:compliance_qualification_review", args=[certificate.pk])))
        approved = Qualification.objects.filter(status="approved", kind="brand").first()
        pages.append(("certificate-withdraw", reverse("admin:compliance_qualification_withdraw", args=[approved.pk])))
        pages.append(("certificate-trademark", reverse("admin:compliance_qualification_trademark", args=[approved.pk])))
        from compliance.models import QualificationGap
        ids = ",".join(str(pk) for pk in QualificationGap.objects.open().values_list("product_id", flat=True))
        pages.append(("missing-issue", reverse("admin:compliance_qualificationgap_issue") + f"?ids={{ids}}"))
else:
    scope = MerchantScope(user)
    for shop in scope.shops():
        pages.append((f"health-{{shop.shop_no}}", reverse("portal:standing", args=[shop.shop_no])))
        pages.append((f"tickets-{{shop.shop_no}}", reverse("portal:tickets", args=[shop.shop_no])))
        pages.append((f"certificates-{{shop.shop_no}}", reverse("portal:certificates", args=[shop.shop_no])))
        pages.append((f"alliance-{{shop.shop_no}}", reverse("portal:alliance", args=[shop.shop_no])))
        pages.append((f"warnings-{{shop.shop_no}}", reverse("portal:warnings", args=[shop.shop_no])))
    for warning in scope.warnings().order_by("-received_at")[:3]:
        pages.append((f"warning-{{warning.number}}", reverse("portal:warning", args=[warning.number])))
    first = scope.shops()[0]
    pages.append(("certificate-new", reverse("portal:certificate_new", args=[first.shop_no])))
    renewable = scope.qualifications().filter(status__in=["approved", "expired"]).first()
    if renewable:
        pages.append(("certificate-renew", reverse("portal:certificate_new", args=[renewable.shop.shop_no]) + f"?renews={{renewable.pk}}"))
    for ticket in scope.tickets().order_by("-issued_at")[:3]:
        pages.append((f"ticket-{{ticket.number}}", reverse("portal:ticket", args=[ticket.number])))
    pages.append(("messages", reverse("portal:messages")))
    pages.append(("password", reverse("portal:password")))
    for status in (403, 404, 500):
        pages.append((f"error-{{status}}", f"/_errors/{{status}}/?under=portal"))
print(json.dumps(pages))
"""
    import json

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return [tuple(p) for p in json.loads(out.stdout.strip().splitlines()[-1])]


# What a reader sees go wrong, measured on every screenshot: the page wider than
# the window, a box whose content scrolls sideways inside it (a table hiding a
# column), and a text squeezed into a column about one character wide.
LAYOUT_CHECK = """() => {
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth + 1) problems.push(`page ${doc.scrollWidth} px in ${window.innerWidth}`);
    for (const el of document.querySelectorAll('table, pre, .results, .rows, .card')) {
        const style = getComputedStyle(el);
        if (!el.offsetParent || !['auto', 'scroll'].includes(style.overflowX)) continue;
        if (el.scrollWidth > el.clientWidth + 1 && window.innerWidth > 500)
            problems.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} scrolls: ${el.scrollWidth} px in ${el.clientWidth}`);
    }
    for (const cell of document.querySelectorAll('td, th, li > span, li > a, dd')) {
        const text = cell.innerText.trim();
        if (!cell.offsetParent || text.length < 3 || cell.querySelector('input, svg, img')) continue;
        const size = parseFloat(getComputedStyle(cell).fontSize) || 14;
        const line = parseFloat(getComputedStyle(cell).lineHeight) || size * 1.4;
        const box = cell.getBoundingClientRect();
        if (box.width < 3 * size && box.height > 2.5 * line)
            problems.push(`"${text.slice(0, 12)}" squeezed to ${Math.round(box.width)} px`);
    }
    return problems;
}"""


def fill_issue_form(page):
    """Step 2 of the issue flow, filled as a reviewer would, then previewed."""
    page.locator("input[name=tier]").first.check()
    product = page.locator("details.module tbody td").first  # the shop's recent products, folded
    if product.count():
        page.fill("#id_products", product.text_content().strip())
    page.fill("#id_occurred_at_0", time.strftime("%Y-%m-%d"))
    page.fill("#id_occurred_at_1", "10:00:00")
    page.fill("#id_description", "详情页宣称纯棉，实测为涤纶（演示）")
    page.click("button[value=preview]")
    page.wait_for_selector("#ticket-preview")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(ACCOUNTS), help="these accounts only")
    parser.add_argument("--widths", nargs="*", type=int, default=list(WIDTHS))
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--pages", nargs="*", help="only pages whose name contains one of these")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium chromium-l10n fonts-noto-cjk")
    (ROOT / "var").mkdir(exist_ok=True)
    database = ROOT / "var" / "screenshots.sqlite3"
    database.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "true"}
    password = env.get("DEMO_PASSWORD", "demo-compliance-2026")
    server, base = start_server(env)
    from playwright.sync_api import sync_playwright

    taken, problems = 0, []
    try:
        with sync_playwright() as playwright:
            # One browser a language: its own words (file pickers, date inputs) follow its UI language.
            browsers = {language: playwright.chromium.launch(executable_path=CHROMIUM,
                                                             args=[*ARGS, f"--lang={LOCALES[language]}"],
                                                             env={**os.environ, "LANGUAGE": LOCALES[language]})
                        for language in args.languages}
            for account in args.only or ACCOUNTS:
                pages = [(n, p) for n, p in pages_for(account, env)
                         if not args.pages or any(part in n for part in args.pages)]
                login = "/admin/login/" if ACCOUNTS[account] == "admin" else "/portal/login/"
                for language in args.languages:
                    context = browsers[language].new_context(timezone_id="Asia/Shanghai", locale=LOCALES[language])
                    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                    page = context.new_page()
                    page.goto(base + login)
                    page.fill("#id_username", account)
                    page.fill("#id_password", password)
                    page.locator("form [type=submit]").first.click()
                    page.wait_for_load_state()
                    for width in args.widths:
                        page.set_viewport_size({"width": width, "height": 800 if width > 500 else 844})
                        for name, path in pages:
                            page.goto(base + path)
                            if name == "api-docs":  # Swagger UI draws itself after loading the schema
                                page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
                            if name.endswith("-preview"):  # change a figure, then press "preview the effect"
                                field = {"node-preview": "#id_threshold", "rule-preview": "#id_tiers-0-deposit_amount",
                                         "policy-preview": "#id_certificate_warning_days"}[name]
                                page.fill(field, {"node-preview": "9", "rule-preview": "3000",
                                                  "policy-preview": "60"}[name])
                                page.click("[data-preview]")
                                page.wait_for_load_state()
                                if name != "policy-preview":  # a job: its page reloads with the effect
                                    page.wait_for_selector("#preview-save", timeout=60_000)
                            if name in ("issue-consequences", "issue-evidence-prompt"):
                                fill_issue_form(page)
                                if name == "issue-evidence-prompt":  # confirmed with no file: the page asks for one
                                    page.click("button[value=confirm]")
                                    page.wait_for_selector("#no-evidence-warning")
                            if page.locator("iframe.evidence-preview").count():
                                # PDF previews: loaded now (not when scrolled to) and drawn by the viewer.
                                page.evaluate("document.querySelectorAll('iframe.evidence-preview')"
                                              ".forEach(f => { f.loading = 'eager'; f.src = f.src; })")
                                page.wait_for_load_state("load")
                                for frame in page.locator("iframe.evidence-preview").all():
                                    frame.scroll_into_view_if_needed()  # the viewer draws a page once it is seen
                                    page.wait_for_timeout(800)
                                page.evaluate("window.scrollTo(0, 0)")
                            target = OUT / account / f"{language}-{width}-{name}.png"
                            target.parent.mkdir(parents=True, exist_ok=True)
                            page.screenshot(path=str(target), full_page=True)
                            taken += 1
                            problems += [f"{account}/{target.name}: {p}" for p in page.evaluate(LAYOUT_CHECK)]
                    context.close()
            for browser in browsers.values():
                browser.close()
    finally:
        for process in (server, server.worker, server.receiver):
            process.terminate()
            process.wait(timeout=10)
    print(f"{taken} screenshots in {OUT.relative_to(ROOT)}/")
    report = OUT / "layout-problems.txt"
    report.write_text("".join(f"{p}\n" for p in problems))
    print(f"{len(problems)} layout problems" + (f", listed in {report.relative_to(ROOT)}" if problems else ""))


if __name__ == "__main__":
    main()
