"""Server time and query counts of every admin list, change page and portal
page on the loaded scale data, side by side with a stock ModelAdmin; ticket
issuance with 1, 4 and 8 workers with the lost-update check; the daily job's
time and peak memory.

    DATABASE_URL=postgres://…/compliance_scale .venv/bin/python bench/scale_measure.py [--repeat 7]

Run after ``bench/scale_load.py`` on the same database. The issuance and the
daily job write (new bench shops and tickets; the due tickets become final),
so they run last and only once per loaded data set unless ``--skip-writes``.
Writes ``bench/results/scale-postgresql.json`` and prints Markdown tables.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
# Production settings, as a server runs them (no debug template annotations),
# without the HTTPS redirect that the in-process client cannot follow.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "scale-bench-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_STATIC_ROOT", "/tmp/scale-bench-static")  # the manifest production reads

from _setup import ROOT, load_average, lost_updates, write_result  # noqa: E402  (sets Django up)
import issue_tickets  # noqa: E402  (its worker processes issue the tickets)

from django.contrib import admin  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402


def timed(client, url, repeat, data=None, before=None):
    """Median and p95 server time (ms) and the query count of GET url (POST
    ``data`` when given); ``before`` runs ahead of each request, untimed."""
    times, queries, status = [], 0, None
    for i in range(repeat + 1):
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.post(url, data) if data is not None else client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        if i:  # the first request warms caches and is not counted
            times.append(elapsed)
            queries = len(captured.captured_queries)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "queries": queries,
            "status": status, "load": load_average()}


def search_terms():
    from compliance.models import Qualification, Ticket, ViolationWarning
    from shops.models import Shop

    hot = Shop.objects.get(shop_no="1000000000")
    warning = ViolationWarning.objects.order_by("-id").values_list("number", flat=True).first() or "YJ"
    number = Ticket.objects.filter(shop=hot).order_by("-issued_at").values_list("number", flat=True).first()
    shop = Shop.objects.filter(shop_no__startswith="1").order_by("-id").values_list("shop_no", "name").first()
    certificate = Qualification.objects.order_by("-id").values_list("number", flat=True).first() or "ZS"
    return {"ticket number": number[:14], "shop ID": shop[0], "shop name": shop[1][2:6],
            "certificate number": certificate[:8], "warning number": warning[:14]}, hot


def shapes_for(site_name, model, model_admin, client, terms):
    """Every list shape: unfiltered, each filter's first choice, each
    sortable column, each search shape the model has."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    opts = model._meta
    base = reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_changelist")
    shapes = {"unfiltered": base}
    # Record the template context of this one request (the changelist's
    # filters); the timed requests run without that instrumentation.
    setup_test_environment()
    try:
        response = client.get(base)
    finally:
        teardown_test_environment()
    cl = response.context["cl"] if response.status_code == 200 and response.context else None
    if cl is None:
        return shapes
    for spec in cl.filter_specs:
        choices = list(spec.choices(cl))
        if getattr(spec, "parameter_name", "") == "claim":  # the queues' one-click views (issue #23): each
            for choice in choices[1:]:
                shapes[f"claim: {choice['display']}"] = base + choice["query_string"]
        elif len(choices) > 1:
            shapes[f"filter: {spec.title}"] = base + choices[1]["query_string"]
    sortable = model_admin.get_sortable_by(response.wsgi_request)
    for index, name in enumerate(cl.list_display):
        if name == "action_checkbox" or name not in sortable:
            continue
        try:
            admin.utils.label_for_field(name, model, model_admin)
        except Exception:
            continue
        if cl.get_ordering_field(name):
            shapes[f"sort: {name}"] = f"{base}?o={index}"
    fields = {f.name for f in opts.get_fields()}
    if cl.search_fields or getattr(model_admin, "search_shapes", None):
        if model.__name__ == "Qualification":
            shapes["search: certificate number"] = f"{base}?q={terms['certificate number']}"
        elif model.__name__ == "ViolationWarning":
            shapes["search: warning number"] = f"{base}?q={terms['warning number']}"
        elif "number" in fields or "ticket" in fields:
            shapes["search: ticket number"] = f"{base}?q={terms['ticket number']}"
        if "shop" in fields or model.__name__ == "Shop":
            shapes["search: shop ID"] = f"{base}?q={terms['shop ID']}"
            shapes["search: shop name"] = f"{base}?q={terms['shop name']}"
    return shapes


def measure_lists(repeat, only=(), compare=True):
    from django.contrib.auth.models import User

    from scale_urls import stock_site

    terms, hot = search_terms()
    client = Client()
    # A superuser sees every registered list (the axes and auth ones too).
    superuser, _ = User.objects.get_or_create(username="scale-superuser",
                                              defaults={"is_staff": True, "is_superuser": True})
    client.force_login(superuser)
    rows = []
    for model, ours in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        if only and model.__name__ not in only:
            continue
        stock = stock_site._registry[model]
        our_shapes = shapes_for("admin", model, ours, client, terms)
        stock_shapes = shapes_for("stock", model, stock, client, terms) if compare else {}
        for label, url in our_shapes.items():
            row = {"model": model._meta.label, "shape": label, "ours": timed(client, url, repeat)}
            if label in stock_shapes:
                row["stock"] = timed(client, stock_shapes[label], max(1, repeat // 2))
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows, terms, hot


def measure_pages(repeat, hot, prefix=""):
    from django.contrib.auth.models import User

    from compliance.models import AllianceMembership, Qualification, QualificationGap, Ticket, ViolationWarning

    staff, merchant, reviewer = Client(), Client(), Client()
    staff.force_login(User.objects.get(username="scale-admin"))
    reviewer.force_login(User.objects.get(username="scale-reviewer"))
    merchant.force_login(User.objects.get(username="scale-merchant"))
    ticket = Ticket.objects.filter(shop=hot).order_by("-issued_at").first()
    busy = Ticket.objects.order_by("-id").first()
    submitted = Qualification.objects.filter(status="submitted").order_by("submitted_at").first()
    queue_page = ",".join(str(pk) for pk in QualificationGap.objects.open().order_by("-found_at", "-id")
                          .values_list("product_id", flat=True)[:20])
    hot_warning = ViolationWarning.objects.filter(shop=hot, status="open").order_by("-id").first()
    answered = ViolationWarning.objects.filter(shop=hot, status="answered").order_by("-id").first()
    bulk_ids = ",".join(str(pk) for pk in ViolationWarning.objects.filter(status="answered").order_by("deadline", "id")
                        .values_list("pk", flat=True)[:20])
    pages = {
        "admin: ticket change": (staff, reverse("admin:compliance_ticket_change", args=[ticket.pk])),
        "stock: ticket change": (staff, reverse("stock:compliance_ticket_change", args=[ticket.pk])),
        "admin: shop change": (staff, reverse("admin:shops_shop_change", args=[hot.pk])),
        "stock: shop change": (staff, reverse("stock:shops_shop_change", args=[hot.pk])),
        "admin: ticket change (latest)": (staff, reverse("admin:compliance_ticket_change", args=[busy.pk])),
        "admin: index (dashboard)": (staff, reverse("admin:index")),
        "portal: shop health (500 tickets)": (merchant, f"/portal/shops/{hot.shop_no}/"),
        # The page is kept until the shop changes (selectors.health): the first view after a change.
        "portal: shop health, first view after a change (every cache empty)": (
            merchant, f"/portal/shops/{hot.shop_no}/"),
        "portal: tickets, page 1": (merchant, f"/portal/shops/{hot.shop_no}/tickets/"),
        "portal: tickets, page 20": (merchant, f"/portal/shops/{hot.shop_no}/tickets/?page=20"),
        "portal: tickets, final only": (merchant, f"/portal/shops/{hot.shop_no}/tickets/?status=final"),
        "portal: ticket": (merchant, f"/portal/tickets/{ticket.number}/"),
        "portal: certificates": (merchant, f"/portal/shops/{hot.shop_no}/certificates/"),
        "portal: certificate form": (merchant, f"/portal/shops/{hot.shop_no}/certificates/new/"),
        "admin: certificate change": (staff, reverse("admin:compliance_qualification_change", args=[submitted.pk])),
        "admin: certificate review": (staff, reverse("admin:compliance_qualification_review", args=[submitted.pk])),
        "portal: alliance": (merchant, f"/portal/shops/{hot.shop_no}/alliance/"),
        "public: delisting notices": (Client(), "/notices/"),
        "admin: alliance decide": (staff, reverse("admin:compliance_alliancemembership_decide", args=[
            AllianceMembership.objects.filter(status="applied").order_by("due_at").values_list("pk", flat=True)[0]])),
        "admin: warning change": (staff, reverse("admin:compliance_violationwarning_change", args=[hot_warning.pk])),
        "admin: warning decide (with the preview)": (
            staff, reverse("admin:compliance_violationwarning_decide", args=[answered.pk])),
        "admin: warnings, bulk confirm preview (20 warnings)": (
            staff, reverse("admin:compliance_violationwarning_decide_many") + f"?ids={bulk_ids}&decision=confirm"),
        "portal: warnings": (merchant, f"/portal/shops/{hot.shop_no}/warnings/"),
        "admin: my jobs (500 of 20,000)": (reviewer, reverse("admin:jobs")),
        "admin: my jobs, page 10": (reviewer, reverse("admin:jobs") + "?p=10"),
        "portal: warning": (merchant, f"/portal/warnings/{hot_warning.number}/"),
        "admin: missing certificates, issue preview (20 products)": (
            staff, reverse("admin:compliance_qualificationgap_issue") + f"?ids={queue_page}"),
    }
    # Policy insight (issue #14): the decision-quality report and export, the previews of changes.
    pages.update({
        "admin: decision quality, by rule": (staff, reverse("admin:insight_quality")),
        "admin: decision quality, by reviewer": (staff, reverse("admin:insight_quality") + "?by=reviewer"),
        "admin: decision quality, by month": (staff, reverse("admin:insight_quality") + "?by=month"),
        "admin: decision quality, CSV export": (staff, reverse("admin:insight_quality") + "?format=csv"),
    })
    pages.update(_webhook_pages(staff))
    from django.core.cache import cache

    cold = {"portal: shop health, first view after a change (every cache empty)": cache.clear}
    posts = _preview_posts() if not prefix else {}
    rows = []
    for label, (client, url) in pages.items():
        if not label.startswith(prefix):
            continue
        row = {"page": label, **timed(client, url, repeat, before=cold.get(label))}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    for label, (url, data) in posts.items():
        row = {"page": label, **timed(staff, url, max(1, repeat // 3), data=data)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows


def _webhook_pages(staff) -> dict:
    """Outbound events (issue #22), when the load has them: the feed's first
    page and one from the middle of the million (1,000 events each, as an
    integration reads them), and a delivery's page in the admin."""
    from django.contrib.auth.models import User

    from compliance.models import OutboundEvent, WebhookDelivery
    from compliance.services.integrations import integration_create

    last = OutboundEvent.objects.order_by("-position").values_list("position", flat=True).first()
    if not last:
        return {}
    # A name of this run's own: a database measured before keeps the earlier runs' integrations.
    _integration, key = integration_create(name=f"scale-feed-{last}-{int(time.time())}",
                                           actor=User.objects.get(username="scale-admin"), scopes=["webhooks"])
    feed = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    held = WebhookDelivery.objects.filter(status="pending").order_by("id").values_list("pk", flat=True).first()
    return {
        "api: event feed, first page (1,000 events)": (feed, "/api/v1/events/?after=0"),
        "api: event feed, a page from the middle": (feed, f"/api/v1/events/?after={last // 2}"),
        "admin: webhook delivery (body sent, attempts)": (
            staff, reverse("admin:compliance_webhookdelivery_change", args=[held])),
    }


def _preview_posts() -> dict:
    """Previews of a node change and a tier change, as the admin's forms post them."""
    from compliance.models import PointNode, RuleTier

    node = PointNode.objects.get(violation_class="A", threshold=12)
    node_data = {"violation_class": "A", "threshold": 9, "suspend_days": node.suspend_days,
                 "deposit_amount": node.deposit_amount, "is_active": "on"}
    tier = RuleTier.objects.select_related("rule").filter(rule__code="price_mismatch", code="general").order_by(
        "-rule__version").first()
    rule = tier.rule
    tiers = list(rule.tiers.order_by("position", "id"))
    data = {"code": rule.code, "version": rule.version, "name_zh": rule.name_zh, "name_en": rule.name_en,
            "effective_from": rule.effective_from.isoformat(), "appeal_window_days": rule.appeal_window_days,
            "appeal_chances": rule.appeal_chances, "warning_hours": rule.warning_hours,
            "tiers-TOTAL_FORMS": len(tiers), "tiers-INITIAL_FORMS": len(tiers), "tiers-MIN_NUM_FORMS": 0,
            "tiers-MAX_NUM_FORMS": 1000}
    for i, t in enumerate(tiers):
        for field in ("code", "position", "name_zh", "name_en", "violation_class", "points_default", "points_min",
                      "points_max", "deposit_amount", "deposit_per_order", "deposit_daily_cap", "ban_products",
                      "suspend_days", "clear_shop"):
            value = getattr(t, field)
            if value is not None:
                data[f"tiers-{i}-{field}"] = value
        for field in ("deposit_all", "warning", "delist_products", "freeze_proceeds"):
            if getattr(t, field):
                data[f"tiers-{i}-{field}"] = "on"
        data[f"tiers-{i}-id"], data[f"tiers-{i}-rule"] = t.pk, rule.pk
        if t.pk == tier.pk:
            data[f"tiers-{i}-points_default"] = data[f"tiers-{i}-points_min"] = data[f"tiers-{i}-points_max"] = 4
    return {
        # Since issue #21 the replay is a job: the post checks the form and queues it (a redirect to the
        # job's page); bench/preview_job.py times the job itself.
        "admin: preview a node change (A12 → 9): the job queued":
            (reverse("admin:compliance_pointnode_preview") + f"?pk={node.pk}", node_data),
        "admin: preview a tier change (price mismatch, general: 3 → 4 points): the job queued":
            (reverse("admin:compliance_rule_preview") + f"?pk={rule.pk}", data),
    }


def bench_world(prefix, shops):
    """Shops with a large deposit for the issuance runs, made once."""
    from compliance.models import Rule, RuleTier
    from compliance.services.deposits import deposit_top_up
    from shops.models import Controller, Product, Shop

    world = []
    for i in range(shops):
        shop_no = f"{prefix}{i:05d}"
        shop = Shop.objects.filter(shop_no=shop_no).first()
        if shop is None:
            controller = Controller.objects.create(name=f"bench {shop_no}", kind="company",
                                                   uscc=f"92{prefix}{i:05d}".ljust(18, "0")[:18])
            shop = Shop.objects.create(shop_no=shop_no, name=f"bench {shop_no}", controller=controller,
                                       entity_type="enterprise", shop_type="ordinary", required_deposit=Decimal("0"))
            deposit_top_up(shop=shop, amount=Decimal("100000000"), actor=None)
            Product.objects.bulk_create([Product(shop=shop, product_no=f"{shop_no}{j}", title=f"p{j}",
                                                 price=Decimal("1")) for j in range(3)])
        world.append(shop)
    # A tier that charges the deposit and carries no points: a shop can take
    # any number of them without reaching a node.
    rule, _ = Rule.objects.get_or_create(code="bench_deposit", version=1, defaults=dict(
        name_zh="压测扣款", name_en="Bench deduction", effective_from=datetime.date(2020, 1, 1)))
    tier, _ = RuleTier.objects.get_or_create(rule=rule, code="charge", defaults=dict(
        name_zh="扣款", name_en="Charge", violation_class="A", deposit_amount=Decimal("1")))
    return world, RuleTier.objects.select_related("rule").get(pk=tier.pk)


def measure_issuance(per_worker):
    """Worker processes issuing through ``ticket_issue`` (bench/issue_tickets.py's
    runs): the ¥1, 0-point tier — the floor of the path: locks, ledger, event —
    with 1, 4 and 8 workers, each to a shop of its own, and 8 to one shop;
    then the general tier the target names (3 points, ¥2,000, a warning and a
    delisting) with 1 and 4 workers, ten tickets a shop."""
    from django.contrib.auth.models import User

    from compliance.models import RuleTier
    from shops.models import Controller

    reviewer = User.objects.get(username="scale-reviewer")
    world, floor = bench_world("77", 8)
    general = RuleTier.objects.get(rule__code="price_mismatch", rule__version=1, code="general")
    stamp = int(time.time())  # idempotency keys of their own, whenever the harness runs again
    runs, checked = [], [shop.pk for shop in world]

    def measure(tier, label, workers, shop_ids, one_shop=False):
        run = issue_tickets.run(label, key=f"scale{stamp}r{len(runs)}", workers=workers, shop_ids=shop_ids,
                                tier_id=tier.pk, reviewer_id=reviewer.pk, tickets=workers * per_worker,
                                one_shop=one_shop)
        runs.append({"tier": label, "workers": workers, "one_shop": one_shop, "tickets": run["tickets"],
                     "per_second": run["tickets_per_second"], "load_average_1min": run["load_average_1min"],
                     "errors": []})
        print(json.dumps(runs[-1], ensure_ascii=False), flush=True)

    for workers in (1, 4, 8):
        measure(floor, "¥1, 0 points", workers, checked[:workers])
    measure(floor, "¥1, 0 points", 8, checked[:1], one_shop=True)
    for workers in (1, 4):
        start = Controller.objects.filter(name__startswith="bench-").count()  # once per load, or again
        count = max(-(-workers * per_worker // issue_tickets.PER_SHOP), workers)  # each worker a shop at least
        shops = issue_tickets.build_shops(count, start=start, products=issue_tickets.PER_SHOP)
        checked += shops
        measure(general, "general (3 points, ¥2,000)", workers, shops)
    return {"runs": runs, "shops_with_lost_updates": lost_updates(checked)}


def measure_daily():
    """The whole daily job, run by one worker process (bench/daily_job.py
    measures it properly, on a copy, with one and two workers)."""
    day = timezone.localtime().date().isoformat()
    env = os.environ.copy()
    worker = subprocess.Popen([sys.executable, "tests/guarded_manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                               "-v", "0"], cwd=ROOT, env=env)
    try:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "tests/guarded_manage.py", "compliance_daily", "--date", day, "--timeout", "600"],
                                cwd=ROOT, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = {"date": day, "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb, 1),
           "output": result.stdout.strip().splitlines()[-12:], "returncode": result.returncode}
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return out


def markdown(result) -> str:
    lines = ["| list | shape | ours median / p95 ms (queries) | stock median ms (queries) | stock ÷ ours |",
             "|---|---|---|---|---|"]
    for row in result["lists"]:
        ours, stock = row["ours"], row.get("stock")
        ratio = f"{stock['median_ms'] / max(ours['median_ms'], 0.1):.1f}×" if stock else "—"
        stock_text = f"{stock['median_ms']} ({stock['queries']})" if stock else "—"
        lines.append(f"| {row['model']} | {row['shape']} | {ours['median_ms']} / {ours['p95_ms']} ({ours['queries']}) "
                     f"| {stock_text} | {ratio} |")
    lines += ["", "| page | median / p95 ms | queries |", "|---|---|---|"]
    lines += [f"| {r['page']} | {r['median_ms']} / {r['p95_ms']} | {r['queries']} |" for r in result["pages"]]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--per-worker", type=int, default=150)
    parser.add_argument("--skip-writes", action="store_true", help="lists and pages only")
    parser.add_argument("--only", choices=["issuance", "daily"], help="just this part (no lists or pages)")
    parser.add_argument("--output", default="scale")
    parser.add_argument("--models", nargs="*", default=(), help="only these models' lists (e.g. Ticket Appeal)")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock ModelAdmin comparison")
    parser.add_argument("--pages", metavar="PREFIX",
                        help="only the pages whose label starts with PREFIX (e.g. 'portal'), no lists or writes")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("scale_measure.py measures PostgreSQL: set DATABASE_URL to the database scale_load.py filled.")
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    with override_settings(ROOT_URLCONF="scale_urls", ALLOWED_HOSTS=["testserver"]):
        reset_queries()
        from shops.models import Shop
        from compliance.models import Ticket

        if args.only:
            part = measure_issuance(args.per_worker) if args.only == "issuance" else measure_daily()
            part = {"date": timezone.now().isoformat(timespec="seconds"), **part,
                    "database": f"postgresql {connection.cursor().connection.info.server_version}",
                    "tickets_estimate": _estimate(Ticket)}
            write_result(f"{args.output}-{args.only}", "postgresql", part)
            if part.get("shops_with_lost_updates") or part.get("returncode"):
                sys.exit(f"{args.only} failed: see bench/results/{args.output}-{args.only}-postgresql.json")
            return
        if args.pages:
            pages = measure_pages(args.repeat, search_terms()[1], prefix=args.pages)
            write_result(f"{args.output}-pages", "postgresql", {
                "date": timezone.now().isoformat(timespec="seconds"), "load_average": load_average(),
                "database": f"postgresql {connection.cursor().connection.info.server_version}",
                "tickets_estimate": _estimate(Ticket), "pages": pages})
            return
        lists, terms, hot = measure_lists(args.repeat, args.models, compare=not args.no_stock)
        pages = measure_pages(args.repeat, hot)
        result = {
            "benchmark": "scale: admin lists, change pages, portal, issuance, daily job",
            "date": timezone.now().isoformat(timespec="seconds"),
            "database": f"postgresql {connection.cursor().connection.info.server_version}",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "data": {"shops": Shop.objects.count(), "tickets_estimate": _estimate(Ticket)},
            "search_terms": terms, "lists": lists, "pages": pages,
        }
        if not args.skip_writes:
            result["issuance"] = measure_issuance(args.per_worker)
            result["daily"] = measure_daily()
    write_result(args.output, "postgresql", result)
    (BENCH / "results" / f"{args.output}-postgresql.md").write_text(markdown(result) + "\n")
    print(markdown(result))
    # The smoke run in CI fails on anything that is not a working page or a correct write.
    problems = [f"{r['model']} {r['shape']}: {r['ours']['status']}" for r in result["lists"]
                if r["ours"]["status"] != 200]
    problems += [f"{r['page']}: {r['status']}" for r in result["pages"]
                 if r["status"] != (302 if "the job queued" in r["page"] else 200)]
    if "issuance" in result:
        problems += [f"issuance errors: {run['errors']}" for run in result["issuance"]["runs"] if run["errors"]]
        if result["issuance"]["shops_with_lost_updates"]:
            problems.append("lost updates in the deposit ledger")
        if result["daily"]["returncode"]:
            problems.append("compliance_daily failed")
    if problems:
        sys.exit("\n".join(["scale_measure found problems:", *problems]))


def _estimate(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table])
        return int(cursor.fetchone()[0])


if __name__ == "__main__":
    main()
