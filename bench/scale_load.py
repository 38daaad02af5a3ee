"""Load the scale data set into PostgreSQL with COPY: at --scale 1, 100,000
shops, 300,000 products, 1,000,000 tickets with their point and deposit
ledger entries, measures, node applications and events, and 20,000 appeals.

    DATABASE_URL=postgres://…/compliance_scale .venv/bin/python bench/scale_load.py [--scale 1]

The rows are what the services would have written: the loader simulates each
shop's tickets in time order — yearly totals per class, point nodes reached
(A12, A24, SPEC §6.2) with their own deductions and suspensions, the running
deposit balance with shortfalls (SPEC §6.4), the fake-shipment daily cap
(SPEC §5), revocations with refunds, appeals in every state — and writes the
shop's resulting status, balance and product statuses. Tickets that would
clear a shop are not generated. One shop (shop ID 1000000000, member
``scale-merchant``) has 500 tickets, for the portal measurements; 1% of the
tickets are issued with a deadline before today, for the daily job.

Then the certificates (SPEC §4, ``load_certificates``): products get
categories that the default requirement matrix covers, and every shop gets
its business licence, the industry and product certificates its products
need and a brand certificate per brand in flagship, exclusive and specialty
stores — mostly approved, some under review, rejected, expiring within 30
days, expired with a rectification notice, superseded, and some missing
(the missing-certificate queue); a few are due for the daily job (expired
yesterday, notices past their deadline). ``--only certificates`` adds them to
a database loaded before they existed.

Refuses to run on SQLite or on a database that already holds tickets
(certificates: that already holds certificates).

Then the Selected Alliance (``load_alliance``, ``--only alliance``): 30 days of
experience scores for every shop (3 million rows at --scale 1) and a
membership for a third of the open shops, in every status, with closures.

Then the outbox and the admin's jobs (``load_background``, ``--only background``):
an e-mail per ticket and 20,000 jobs, and yesterday's finished daily run. ``--only merchants`` (never by default)
gives every shop without a member a merchant with an e-mail address. Then the detectors' warnings
(``load_warnings``, ``--only warnings``): as many
as tickets at --scale 1 (a million), 45% confirmed into tickets, 45% dismissed,
the rest in every waiting status; and a million API calls in the call log.
Then the outbound events (``load_webhooks``, ``--only webhooks``): a million,
each delivered to one subscription (a few still failing or given up), with
their attempts. Then the reviewers' claims (``load_claims``, ``--only claims``):
the ended claim of every decided item, and a few hundred held.
"""

import argparse
import datetime
import json
import random
import sys
import time
from decimal import Decimal

from _setup import ROOT  # noqa: F401,E402  (sets Django up)

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

SHANGHAI = timezone.get_default_timezone()
D = Decimal
HOT_SHOP_TICKETS = 500

CITIES = "杭州 义乌 广州 深圳 苏州 泉州 温州 成都 青岛 宁波 上海 北京 武汉 长沙 合肥 厦门".split()
GOODS = "女装 男装 童装 家纺 茶叶 箱包 鞋履 美妆 数码 家电 零食 玩具 饰品 母婴 家居 户外".split()
KINDS = [("flagship", "官方旗舰店"), ("exclusive", "专卖店"), ("specialty", "专营店"), ("ordinary", "小店")]
WORDS = "云织 锦程 星河 青禾 木子 鹿鸣 拾光 初见 山海 知味 悦己 晴天 南风 北辰 花间 月下".split()
REQUIRED = {"flagship": D("100000"), "exclusive": D("50000"), "specialty": D("50000"), "ordinary": D("20000")}


class Copies:
    """One COPY per table, each on a connection of its own (PostgreSQL runs
    one COPY at a time per connection). Foreign-key triggers are off for the
    load (``session_replication_role = replica``): the simulation writes
    consistent rows, and the tables are committed parents first."""

    ORDER = ["shops_controller", "shops_shop", "shops_product", "compliance_ticket", "compliance_ticket_products",
             "compliance_nodeapplication", "compliance_pointentry", "compliance_depositentry", "compliance_measure",
             "compliance_measureproduct", "compliance_event", "compliance_appeal", "compliance_qualification",
             "compliance_qualificationdocument", "compliance_qualification_products", "compliance_rectificationnotice",
             "shops_shopscore", "compliance_alliancemembership", "compliance_allianceclosure",
             "compliance_integration", "compliance_violationwarning", "compliance_integrationcall",
             "compliance_outboxemail", "compliance_job", "compliance_outboundevent", "compliance_webhookdelivery",
             "compliance_webhookattempt"]

    def __init__(self):
        import psycopg

        self.params = connection.get_connection_params()
        self.psycopg = psycopg
        self.open = {}

    def __call__(self, table, columns):
        if table not in self.open:
            conn = self.psycopg.connect(**self.params)
            with conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
            cur = conn.cursor()
            manager = cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
            self.open[table] = (conn, manager, manager.__enter__())
        return self.open[table][2]

    def finish(self):
        for table in self.ORDER:
            if table in self.open:
                conn, manager, _copy = self.open.pop(table)
                manager.__exit__(None, None, None)
                conn.commit()
                conn.close()


class Ids:
    """Explicit primary keys, continuing each table's sequence."""

    def __init__(self, cursor, table):
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        self.table, self.next = table, cursor.fetchone()[0] + 1

    def take(self):
        self.next += 1
        return self.next - 1


def finish(copy, ids) -> None:
    """Commit the copies, move each table's sequence past the ids taken, and
    give the planner statistics (autovacuum may be off on a bench server)."""
    copy.finish()
    with connection.cursor() as cursor:
        for table in ids:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            cursor.execute(f"ANALYZE {table}")


def shanghai_day_end(moment, days):
    day = timezone.localtime(moment, SHANGHAI).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(23, 59, 59, 999999), tzinfo=SHANGHAI)


def load(scale: float, seed: int) -> dict:
    from django.contrib.auth.models import Group, User

    from compliance.models import PointNode, RuleTier
    from compliance.services.tickets import _snapshot

    rnd = random.Random(seed)
    n_shops = max(int(100_000 * scale), 50)
    n_tickets = max(int(1_000_000 * scale), HOT_SHOP_TICKETS + 200)
    n_appeals = max(int(20_000 * scale), 40)
    now = timezone.now()

    reviewers = []
    for name, group in [("scale-reviewer", "Reviewer"), ("scale-appeals", "Appeal reviewer"),
                        ("scale-admin", "Compliance admin")]:
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
        user.set_password("scale-bench")
        user.save()
        user.groups.add(Group.objects.get(name=group))
        reviewers.append(user)
    merchant, _ = User.objects.get_or_create(username="scale-merchant")
    merchant.set_password("scale-bench")
    merchant.save()
    reviewer_id, appeals_id = reviewers[0].pk, reviewers[1].pk

    tiers = {key: RuleTier.objects.select_related("rule").get(rule__code=key[0], rule__version=1, code=key[1])
             for key in [("fake_shipment", "per_order"), ("price_mismatch", "general"),
                         ("false_advertising", "serious"), ("counterfeit", "general")]}
    snapshots = {key: json.dumps(_snapshot(tier, ban_chosen=False, clear_chosen=False), ensure_ascii=False)
                 for key, tier in tiers.items()}
    # (tier key, weight): fake shipment is the most common ticket by far.
    mix = [(("fake_shipment", "per_order"), 45), (("price_mismatch", "general"), 38),
           (("false_advertising", "serious"), 12), (("counterfeit", "general"), 5)]
    nodes = {(n.violation_class, n.threshold): n for n in PointNode.objects.filter(is_active=True)}

    counts = dict.fromkeys(["controllers", "shops", "products", "tickets", "point_entries", "deposit_entries",
                            "measures", "events", "appeals", "node_applications"], 0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        ids = {t: Ids(cursor, t) for t in [
            "shops_controller", "shops_shop", "shops_product", "compliance_ticket", "compliance_ticket_products",
            "compliance_pointentry", "compliance_depositentry", "compliance_measure", "compliance_measureproduct",
            "compliance_event", "compliance_appeal", "compliance_nodeapplication"]}
        cursor.execute("SELECT COUNT(*) FROM compliance_ticket")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds tickets: point DATABASE_URL at an empty bench database.")

        # Tickets per shop: the hot shop gets 500, the rest a skewed share.
        weights = [rnd.paretovariate(1.6) for _ in range(n_shops)]
        per_shop = [0] * n_shops
        per_shop[0] = HOT_SHOP_TICKETS
        for index in rnd.choices(range(1, n_shops), weights=weights[1:], k=n_tickets - HOT_SHOP_TICKETS):
            per_shop[index] += 1
        # No other shop outgrows the hot one: the overflow goes to the quietest shops.
        overflow = sum(max(c - HOT_SHOP_TICKETS + 100, 0) for c in per_shop[1:])
        per_shop = [per_shop[0]] + [min(c, HOT_SHOP_TICKETS - 100) for c in per_shop[1:]]
        for index in rnd.choices(range(1, n_shops), k=overflow):
            per_shop[index] += 1
        due_budget = n_tickets // 100  # 1% issued with a deadline before today: the daily job's work
        appeal_budget = n_appeals

        copy = Copies()
        under_appeal: list[int] = []

        C_CONTROLLER = ("id", "name", "kind", "id_number", "uscc", "barred_reason", "created_at")
        C_SHOP = ("id", "shop_no", "name", "entity_type", "shop_type", "status", "suspended_until", "exit_kind",
                  "experience_score", "required_deposit", "id_card_number", "id_card_front", "id_card_back",
                  "bank_card_number", "company_name", "uscc", "business_address", "created_at", "updated_at",
                  "controller_id", "deposit_balance")
        C_PRODUCT = ("id", "product_no", "title", "brand", "category", "price", "status", "created_at", "changed_at",
                     "shop_id")
        C_TICKET = ("id", "number", "idempotency_key", "rule_snapshot", "violation_class", "points", "point_year",
                    "deposit_amount", "order_count", "deposit_day", "description", "occurred_at", "issued_at",
                    "status", "appeal_deadline", "revoked_at", "revoke_reason", "issued_by_id", "rule_id", "shop_id",
                    "tier_id")
        C_TP = ("id", "ticket_id", "product_id")
        C_POINT = ("id", "violation_class", "year", "points", "created_at", "shop_id", "ticket_id")
        C_DEPOSIT = ("id", "kind", "amount", "requested", "shortfall", "balance_after", "note", "created_at",
                     "actor_id", "shop_id", "ticket_id", "node_application_id")
        C_MEASURE = ("id", "kind", "status", "ends_at", "amount", "details", "created_at", "closed_at", "shop_id",
                     "node_id", "ticket_id", "node_application_id")
        C_MP = ("id", "previous_status", "measure_id", "product_id")
        C_EVENT = ("id", "action", "from_status", "to_status", "reason", "data", "created_at", "actor_id", "shop_id",
                   "ticket_id", "subject", "subject_id")
        C_APPEAL = ("id", "attempt", "reason", "statement", "submitted_at", "due_at", "status", "decided_at",
                    "decision_reason", "decided_by_id", "submitted_by_id", "ticket_id")
        C_NODE = ("id", "violation_class", "year", "status", "total_reached", "applied_at", "lifted_at",
                  "total_after_lift", "lifted_by_id", "node_id", "shop_id", "subsumed_by_id", "ticket_id")

        def measure(kind, status, ticket_id, shop_id, at, *, ends_at=None, amount=None, details="{}",
                    closed_at=None, node=None, app_id=None):
            mid = ids["compliance_measure"].take()
            copy("compliance_measure", C_MEASURE).write_row(
                (mid, kind, status, ends_at, amount, details, at, closed_at, shop_id, node, ticket_id, app_id))
            counts["measures"] += 1
            return mid

        def event(action, shop_id, ticket_id, at, *, from_status="", to_status="", reason="", data="{}",
                  actor=None, subject="ticket", subject_id=None):
            # Whose status it records, as services.events writes it: the ticket unless said otherwise.
            copy("compliance_event", C_EVENT).write_row(
                (ids["compliance_event"].take(), action, from_status, to_status, reason, data, at, actor, shop_id,
                 ticket_id, subject, ticket_id if subject_id is None else subject_id))
            counts["events"] += 1

        member_shop_id = None
        bar = tqdm(total=n_tickets, unit="ticket", desc="tickets", disable=not sys.stderr.isatty(), mininterval=1)
        for index in range(n_shops):
            # Controller, shop and products.
            controller_id = ids["shops_controller"].take()
            shop_id = ids["shops_shop"].take()
            if index == 0:
                member_shop_id = shop_id
            kind_code, kind_name = KINDS[index % 4] if index else KINDS[0]
            name = f"{rnd.choice(CITIES)}{rnd.choice(WORDS)}{rnd.choice(GOODS)}{kind_name}"
            uscc = f"91{index:016d}"
            opened = now - datetime.timedelta(days=rnd.randint(800, 2500))
            copy("shops_controller", C_CONTROLLER).write_row(
                (controller_id, f"{name}有限公司", "company", "", uscc, "", opened))
            products = []
            for j in range(3):
                products.append(ids["shops_product"].take())
            product_status = dict.fromkeys(products, "on_sale")

            # Simulate the shop's tickets in time order (SPEC §6).
            required = REQUIRED[kind_code]
            balance = required
            n = per_shop[index]
            years = 10 if index == 0 else 2
            moments = sorted(now - datetime.timedelta(seconds=rnd.randint(3600, years * 365 * 86400))
                             for _ in range(n))
            totals: dict[tuple, int] = {}
            in_force: set[tuple] = set()
            charged_day: dict = {}
            suspended_until = None
            deposit_rows = [(ids["compliance_depositentry"].take(), "top_up", required, D(0), D(0), required,
                             "scale load", opened, None, shop_id, None, None)]
            for issued in moments:
                key = ("fake_shipment", "per_order") if index == 0 and rnd.random() < 0.97 else \
                    rnd.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]
                tier = tiers[key]
                cls, points = tier.violation_class, tier.points_default
                year = timezone.localtime(issued, SHANGHAI).year
                before = totals.get((cls, year), 0)
                after = before + points
                clearing = [t for (c, t), node in nodes.items() if c == cls and before < t <= after and node.clear_shop]
                if clearing:  # a clearance would end the shop: a zero-point ticket instead
                    key, tier = ("fake_shipment", "per_order"), tiers[("fake_shipment", "per_order")]
                    cls, points = "A", 0
                    before = after = totals.get((cls, year), 0)
                totals[(cls, year)] = after
                ticket_id = ids["compliance_ticket"].take()
                number = f"WG{timezone.localtime(issued, SHANGHAI):%Y%m%d}{ticket_id:08X}"
                deadline = shanghai_day_end(issued, tier.rule.appeal_window_days)
                occurred = issued - datetime.timedelta(hours=rnd.randint(1, 72))
                # Own deduction (with the fake-shipment daily cap).
                orders = deposit_day = None
                if tier.per_order:
                    orders = rnd.randint(1, 4)
                    deposit_day = timezone.localtime(occurred, SHANGHAI).date()
                    room = max(tier.deposit_daily_cap - charged_day.get(deposit_day, D(0)), D(0))
                    own = min(tier.deposit_per_order * orders, room)
                    charged_day[deposit_day] = charged_day.get(deposit_day, D(0)) + own
                else:
                    own = tier.deposit_amount
                # Status: recent tickets are open to appeal; 1% are past their deadline but not yet final.
                revoked = tier.per_order and rnd.random() < 0.04
                if deadline >= now:
                    status = "issued"
                elif due_budget and rnd.random() < 0.012:
                    status, due_budget = "issued", due_budget - 1
                    issued = now - datetime.timedelta(days=9)
                    deadline = shanghai_day_end(now, -1)
                else:
                    status = "final"
                if revoked:
                    status = "revoked"
                bar.update(1)
                counts["tickets"] += 1
                revoked_at = issued + datetime.timedelta(days=2) if revoked else None
                delist_product = rnd.choice(products) if tier.delist_products else None
                copy("compliance_ticket", C_TICKET).write_row((
                    ticket_id, number, f"scale-{ticket_id}", snapshots[key], cls, points, year, own, orders,
                    deposit_day, "平台巡检发现该店铺存在违规行为，详见证据。", occurred, issued, status, deadline,
                    revoked_at, "复核后撤销" if revoked else "", reviewer_id, tier.rule_id, shop_id, tier.pk))
                if delist_product:
                    copy("compliance_ticket_products", C_TP).write_row(
                        (ids["compliance_ticket_products"].take(), ticket_id, delist_product))
                event("ticket_issued", shop_id, ticket_id, issued, to_status="issued", actor=reviewer_id,
                      data=json.dumps({"points": points, "total_after": after}))
                if points:
                    copy("compliance_pointentry", C_POINT).write_row(
                        (ids["compliance_pointentry"].take(), cls, year, points, issued, shop_id, ticket_id))
                    counts["point_entries"] += 1
                measure_status = "reversed" if revoked else "active"
                if own > 0:
                    taken = min(own, balance)
                    balance -= taken
                    deposit_rows.append((ids["compliance_depositentry"].take(), "deduction", -taken, own, own - taken,
                                         balance, "", issued, reviewer_id, shop_id, ticket_id, None))
                    if not revoked and balance < required and rnd.random() < 0.8:  # most merchants top up at once
                        deposit_rows.append((ids["compliance_depositentry"].take(), "top_up", required - balance,
                                             D(0), D(0), required, "scale load", issued + datetime.timedelta(hours=1),
                                             None, shop_id, None, None))
                        balance = required
                    measure("deposit", measure_status, ticket_id, shop_id, issued, amount=own,
                            details=json.dumps({"taken": str(taken), "shortfall": str(own - taken)}),
                            closed_at=revoked_at)
                    if revoked:
                        balance += taken
                        deposit_rows.append((ids["compliance_depositentry"].take(), "refund", taken, D(0), D(0),
                                             balance, f"refund of ticket {number}", revoked_at, reviewer_id, shop_id,
                                             ticket_id, None))
                if tier.warning:
                    measure("warning", "active", ticket_id, shop_id, issued)
                if delist_product:
                    mid = measure("delist", "active", ticket_id, shop_id, issued)
                    copy("compliance_measureproduct", C_MP).write_row(
                        (ids["compliance_measureproduct"].take(), "on_sale", mid, delist_product))
                    product_status[delist_product] = "delisted"
                if cls == "B":
                    measure("alliance_close", "active", ticket_id, shop_id, issued, details='{"permanent": false}')
                if tier.suspend_days:
                    ends = issued + datetime.timedelta(days=tier.suspend_days)
                    live = ends > now
                    measure("suspend", "active" if live else "ended", ticket_id, shop_id, issued, ends_at=ends,
                            closed_at=None if live else ends)
                    suspended_until = max(filter(None, [suspended_until, ends])) if live else suspended_until
                # Point nodes reached (SPEC §6.2): the strictest applies on top of the ticket's own.
                reached = [node for (c, t), node in nodes.items()
                           if c == cls and before < t <= after and (cls, t, year) not in in_force]
                if reached:
                    node = max(reached, key=lambda x: (x.clear_shop, x.suspend_days or 0, x.deposit_amount))
                    app_id = ids["compliance_nodeapplication"].take()
                    copy("compliance_nodeapplication", C_NODE).write_row(
                        (app_id, cls, year, "in_force", after, issued, None, None, None, node.pk, shop_id, None,
                         ticket_id))
                    counts["node_applications"] += 1
                    in_force.add((cls, node.threshold, year))
                    taken = min(node.deposit_amount, balance)
                    balance -= taken
                    deposit_rows.append((ids["compliance_depositentry"].take(), "deduction", -taken,
                                         node.deposit_amount, node.deposit_amount - taken, balance, "", issued,
                                         reviewer_id, shop_id, ticket_id, app_id))
                    measure("deposit", "active", ticket_id, shop_id, issued, amount=node.deposit_amount,
                            node=node.pk, app_id=app_id,
                            details=json.dumps({"taken": str(taken), "shortfall": str(node.deposit_amount - taken)}))
                    ends = issued + datetime.timedelta(days=node.suspend_days)
                    live = ends > now
                    measure("suspend", "active" if live else "ended", ticket_id, shop_id, issued, ends_at=ends,
                            closed_at=None if live else ends, node=node.pk, app_id=app_id)
                    if live:
                        suspended_until = max(filter(None, [suspended_until, ends]))
                    event("node_applied", shop_id, ticket_id, issued, actor=reviewer_id, to_status="in_force",
                          subject="node", subject_id=app_id,
                          data=json.dumps({"class": cls, "year": year, "total": after, "applied": node.threshold,
                                           "nodes": [node.threshold]}))
                if status == "final":
                    event("ticket_final", shop_id, ticket_id, deadline, from_status="issued", to_status="final",
                          reason="申诉期已结束")
                if revoked:
                    event("ticket_revoked", shop_id, ticket_id, revoked_at, from_status="issued",
                          to_status="revoked", reason="复核后撤销", actor=reviewer_id)
                # Appeals: pending on open tickets, decided on closed ones.
                if appeal_budget and rnd.random() < n_appeals / n_tickets * 1.05 and not revoked:
                    appeal_budget -= 1
                    submitted = issued + datetime.timedelta(hours=rnd.randint(2, 100))
                    pending = status == "issued" and deadline >= now
                    if pending:
                        submitted = min(submitted, now - datetime.timedelta(minutes=5))
                    due = submitted + datetime.timedelta(days=2)
                    copy("compliance_appeal", C_APPEAL).write_row((
                        ids["compliance_appeal"].take(), 1, "证据不足", "商品与描述一致，附检测报告。", submitted, due,
                        "pending" if pending else "rejected", None if pending else due, "" if pending else "证据不足",
                        None if pending else appeals_id, merchant.pk, ticket_id))
                    counts["appeals"] += 1
                    event("appeal_submitted", shop_id, ticket_id, submitted, from_status="issued",
                          to_status="appealing")
                    if pending:
                        under_appeal.append(ticket_id)
            for row in deposit_rows:
                copy("compliance_depositentry", C_DEPOSIT).write_row(row)
            counts["deposit_entries"] += len(deposit_rows)
            status = "suspended" if suspended_until else "open"
            copy("shops_shop", C_SHOP).write_row((
                shop_id, f"1{index:09d}", name, "enterprise", kind_code, status, suspended_until, "",
                D(rnd.randint(6000, 9900)) / 100, required, "", "", "", "", f"{name}有限公司", uscc, "浙江省杭州市",
                opened, opened, controller_id, balance))
            for j, product_id in enumerate(products):
                copy("shops_product", C_PRODUCT).write_row((
                    product_id, f"2{index:09d}{j}", f"{rnd.choice(GOODS)}{j + 1}号", rnd.choice(WORDS), "general",
                    D(rnd.randint(990, 99900)) / 100, product_status[product_id], opened, opened, shop_id))
            counts["controllers"] += 1
            counts["shops"] += 1
            counts["products"] += 3
        bar.close()
        copy.finish()
        # Open appeals put their tickets under appeal.
        for start in range(0, len(under_appeal), 10_000):
            cursor.execute("UPDATE compliance_ticket SET status = 'appealing' WHERE id = ANY(%s)",
                           [under_appeal[start:start + 10_000]])
        for table, seq in ids.items():
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        cursor.execute("INSERT INTO shops_shopmember (role, created_at, shop_id, user_id) VALUES "
                       "('owner', now(), %s, %s)", [member_shop_id, merchant.pk])
    load_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        analyse_started = time.perf_counter()
        cursor.execute("ANALYZE")
        analyse_seconds = time.perf_counter() - analyse_started
    return {**counts, "load_seconds": round(load_seconds, 1), "analyse_seconds": round(analyse_seconds, 1)}


# Product categories of the loaded shops: five of eight need a certificate by
# the default requirement matrix (compliance migration 0020).
CATEGORIES = ["女装", "数码", "食品", "美妆", "家电", "家居", "童装", "零食"]
OVERDUE_NOTICES = 50  # notices past their deadline at --scale 1: the daily job's ticket work
PASSED_NOTICES = 5_000  # about as many notices' deadlines passed at --scale 1; the overdue ones are spread among them


def load_certificates(seed: int, scale: float) -> dict:
    from compliance.models import QualificationRequirement, QualificationType

    rnd = random.Random(seed + 1)
    now = timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    types = {t.code: t for t in QualificationType.objects.all()}
    by_category = {}
    for requirement in QualificationRequirement.objects.filter(is_active=True).exclude(category=""):
        accepted = sorted(requirement.accepted_types.all(), key=lambda t: t.position)
        by_category[requirement.category] = accepted[0]
    brand_shop_types = set(QualificationRequirement.objects.filter(is_active=True, per_brand=True)
                           .exclude(shop_type="").values_list("shop_type", flat=True))
    counts = dict.fromkeys(["certificates", "documents", "product_links", "notices", "missing_products"], 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM compliance_qualification")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds certificates.")
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-merchant'")
        merchant_id = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-reviewer'")
        reviewer_id = cursor.fetchone()[0]
        # Categories the matrix covers, set-based (the products were loaded as "general").
        cursor.execute("UPDATE shops_product SET category = (%s::text[])[1 + id %% %s]", [CATEGORIES, len(CATEGORIES)])
        cursor.execute("SELECT p.id, p.shop_id, p.category, p.brand, s.shop_type FROM shops_product p "
                       "JOIN shops_shop s ON s.id = p.shop_id WHERE s.status IN ('open', 'suspended') "
                       "ORDER BY p.shop_id, p.id")
        products = cursor.fetchall()
        ids = {t: Ids(cursor, t) for t in ["compliance_qualification", "compliance_qualificationdocument",
                                           "compliance_qualification_products", "compliance_rectificationnotice"]}
    copy = Copies()
    C_Q = ("id", "kind", "number", "holder", "authority", "issued_on", "expires_on", "brand", "status",
           "submitted_at", "reviewed_at", "review_reason", "lapsed_at", "lapse_reason", "expiry_reminded_at",
           "qualification_type_id", "shop_id", "submitted_by_id", "reviewed_by_id", "renews_id")
    C_DOC = ("id", "file", "original_name", "uploaded_at", "qualification_id")
    C_QP = ("id", "qualification_id", "product_id")
    C_N = ("id", "cause", "opened_at", "deadline", "status", "closed_at", "outcome", "relisted_at",
           "qualification_id", "shop_id", "ticket_id", "replacement_id")
    overdue_budget = max(int(OVERDUE_NOTICES * scale), 2)
    overdue_every, passed = max(int(PASSED_NOTICES * scale / overdue_budget), 1), 0

    def midnight_after(day):
        return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI)

    def certificate(shop_id, qtype, *, status, expires_on, brand="", product_ids=(), renews=None, lapsed_at=None,
                    submitted_at=None):
        pk = ids["compliance_qualification"].take()
        submitted_at = submitted_at or now - datetime.timedelta(days=rnd.randint(30, 900))
        reviewed = status != "submitted"
        copy("compliance_qualification", C_Q).write_row((
            pk, qtype.kind, f"ZS{pk:010d}", "持证企业有限公司", "市场监督管理局",
            min(submitted_at.date(), (expires_on or today) - datetime.timedelta(days=1)) - datetime.timedelta(days=30),
            expires_on, brand, status, submitted_at,
            submitted_at + datetime.timedelta(hours=20) if reviewed else None,
            "照片不清晰，请重新上传。" if status == "rejected" else "", lapsed_at, "", None,
            qtype.pk, shop_id, merchant_id, reviewer_id if reviewed else None, renews))
        copy("compliance_qualificationdocument", C_DOC).write_row(
            (ids["compliance_qualificationdocument"].take(), f"certificates/scale/{pk}.png", f"{pk}.png",
             submitted_at, pk))
        for product_id in product_ids:
            copy("compliance_qualification_products", C_QP).write_row(
                (ids["compliance_qualification_products"].take(), pk, product_id))
            counts["product_links"] += 1
        counts["certificates"] += 1
        counts["documents"] += 1
        return pk

    def needed(shop_id, qtype, *, brand="", product_ids=()):
        """One certificate a shop needs, in a state drawn like a real platform's."""
        nonlocal overdue_budget, passed
        roll = rnd.random()
        valid_until = today + datetime.timedelta(days=rnd.randint(31, 1500))
        kw = dict(brand=brand, product_ids=product_ids)
        if roll < 0.03:  # missing: the queue
            counts["missing_products"] += len(product_ids) or 1
            return
        if roll < 0.05:  # under review (with a rejected try before some)
            if rnd.random() < 0.3:
                certificate(shop_id, qtype, status="rejected", expires_on=valid_until, **kw)
            certificate(shop_id, qtype, status="submitted", expires_on=valid_until,
                        submitted_at=now - datetime.timedelta(hours=rnd.randint(1, 96)), **kw)
            return
        if roll < 0.07:  # expiring within the warning window
            certificate(shop_id, qtype, status="approved", expires_on=today + datetime.timedelta(days=rnd.randint(0, 30)),
                        **kw)
            return
        if roll < 0.075:  # expired yesterday: the daily job expires it today
            certificate(shop_id, qtype, status="approved", expires_on=today - datetime.timedelta(days=1), **kw)
            return
        if roll < 0.09:  # expired earlier, with its notice: open, overdue, or answered by a renewal
            expired_on = today - datetime.timedelta(days=rnd.randint(2, 60))
            lapsed = midnight_after(expired_on)
            deadline = shanghai_day_end(lapsed, 7)
            old = certificate(shop_id, qtype, status="expired", expires_on=expired_on, lapsed_at=lapsed, **kw)
            if deadline >= now:
                status, outcome, closed, replacement = "open", "", None, None
            elif overdue_budget and passed % overdue_every == 0:  # every n-th: spread over the shops
                passed += 1
                overdue_budget -= 1
                status, outcome, closed, replacement = "open", "", None, None
            else:
                passed += 1
                replacement = certificate(shop_id, qtype, status="approved", expires_on=valid_until, renews=old,
                                          submitted_at=lapsed + datetime.timedelta(days=2), **kw)
                status, outcome, closed = "closed", "replaced", lapsed + datetime.timedelta(days=3)
            copy("compliance_rectificationnotice", C_N).write_row((
                ids["compliance_rectificationnotice"].take(), "expired", lapsed, deadline, status, closed, outcome,
                None, old, shop_id, None, replacement))
            counts["notices"] += 1
            return
        if roll < 0.12:  # renewed before expiry: the old one superseded
            old = certificate(shop_id, qtype, status="superseded", expires_on=today - datetime.timedelta(days=5),
                              lapsed_at=now - datetime.timedelta(days=40), **kw)
            certificate(shop_id, qtype, status="approved", expires_on=valid_until, renews=old, **kw)
            return
        certificate(shop_id, qtype, status="approved", expires_on=valid_until, **kw)

    started = time.perf_counter()
    shop_rows: dict[int, list] = {}
    for row in products:
        shop_rows.setdefault(row[1], []).append(row)
    for shop_id, rows in tqdm(shop_rows.items(), unit="shop", desc="certificates", disable=not sys.stderr.isatty(),
                              mininterval=1):
        certificate(shop_id, types["business_licence"], status="approved", expires_on=None)
        shop_level = {}
        for product_id, _shop, category, brand, shop_type in rows:
            qtype = by_category.get(category)
            if qtype is None:
                continue
            if qtype.kind == "product":
                needed(shop_id, qtype, product_ids=[product_id])
            else:
                shop_level[qtype.pk] = qtype
        for qtype in shop_level.values():
            needed(shop_id, qtype)
        if rows[0][4] in brand_shop_types:
            for brand in sorted({row[3] for row in rows if row[3]}):
                needed(shop_id, types["trademark_registration"], brand=brand)
    copy.finish()
    with connection.cursor() as cursor:
        for table in ids:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        cursor.execute("ANALYZE shops_product")
        for table in ids:
            cursor.execute(f"ANALYZE {table}")
    # The missing-certificate queue as the daily job leaves it (one set-based check of every product).
    from compliance.services.qualifications import gaps_refresh

    checked = time.perf_counter()
    counts["gaps_opened"] = gaps_refresh()[0]
    counts["gaps_seconds"] = round(time.perf_counter() - checked, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE compliance_qualificationgap")
    return {**counts, "certificates_seconds": round(time.perf_counter() - started, 1)}


SCORE_DAYS = 30  # days of score history a shop has (import_experience_scores writes one row a shop and day)


def load_alliance(seed: int, scale: float) -> dict:
    """Experience-score history (30 days a shop, ending at its current score)
    and Selected Alliance memberships in every status with their closures:
    a third of the open shops have a membership row, half of those active."""
    rnd = random.Random(seed + 2)
    now = timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    counts = dict.fromkeys(["scores", "memberships", "closures"], 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM shops_shopscore")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds experience scores.")
        cursor.execute("SELECT id, experience_score, status FROM shops_shop ORDER BY id")
        shops = cursor.fetchall()
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-merchant'")
        merchant_id = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-reviewer'")
        reviewer_id = cursor.fetchone()[0]
        ids = {t: Ids(cursor, t) for t in ["shops_shopscore", "compliance_alliancemembership",
                                           "compliance_allianceclosure"]}
    copy = Copies()
    C_SCORE = ("id", "day", "score", "imported_at", "shop_id")
    C_M = ("id", "status", "applied_at", "due_at", "materials", "decided_at", "decision_reason", "activated_at",
           "closed_at", "close_cause", "close_reason", "applied_by_id", "decided_by_id", "shop_id")
    C_C = ("id", "cause", "counted", "reason", "created_at", "voided_at", "actor_id", "membership_id", "shop_id",
           "ticket_id")
    started = time.perf_counter()
    for shop_id, score, status in tqdm(shops, unit="shop", desc="scores", disable=not sys.stderr.isatty(),
                                       mininterval=1):
        score = score if score is not None else D(75)
        for back in range(SCORE_DAYS):
            value = score if back == 0 else min(max(score + D(rnd.randint(-150, 150)) / 100, D(0)), D(100))
            copy("shops_shopscore", C_SCORE).write_row((ids["shops_shopscore"].take(),
                                                        today - datetime.timedelta(days=back), value, now, shop_id))
            counts["scores"] += 1
        if status != "open" or rnd.random() > 0.33:
            continue
        roll = rnd.random()
        applied = now - datetime.timedelta(days=rnd.randint(1, 400))
        materials = '{"entity_type": "enterprise"}'
        mid = ids["compliance_alliancemembership"].take()
        if roll < 0.5:
            row = ("active", applied, applied, materials, applied + datetime.timedelta(days=5), "", applied, None, "",
                   "")
        elif roll < 0.6:
            applied = now - datetime.timedelta(days=rnd.randint(0, 12))
            row = ("applied", applied, applied + datetime.timedelta(days=9), materials, None, "", None, None, "", "")
        elif roll < 0.7:
            row = ("rejected", applied, applied, materials, applied + datetime.timedelta(days=6), "商品结构单一", None,
                   None, "", "")
        else:
            closures = 4 if roll > 0.97 else rnd.randint(1, 3)
            closed = applied + datetime.timedelta(days=30)
            row = ("closed_for_good" if closures > 3 else "closed", applied, applied, materials,
                   applied + datetime.timedelta(days=5), "", applied, closed, "b_ticket", "B 类违规")
            for i in range(closures):
                copy("compliance_allianceclosure", C_C).write_row((
                    ids["compliance_allianceclosure"].take(), "b_ticket", True, "B 类违规",
                    closed - datetime.timedelta(days=100 * i), None, None, mid, shop_id, None))
                counts["closures"] += 1
        status_, applied_at, due_at, materials_, decided_at, reason, activated, closed_at, cause, close_reason = row
        copy("compliance_alliancemembership", C_M).write_row((
            mid, status_, applied_at, due_at, materials_, decided_at, reason, activated, closed_at, cause, close_reason,
            merchant_id, reviewer_id if decided_at else None, shop_id))
        counts["memberships"] += 1
    finish(copy, ids)
    return {**counts, "alliance_seconds": round(time.perf_counter() - started, 1)}


def load_warnings(seed: int, scale: float) -> dict:
    """Detectors' warnings (SPEC §11): one per ticket for 45% of the tickets
    (confirmed into it, same shop and rule), as many again dismissed, and the
    rest waiting — open, answered, put right, expired — with the hot shop
    holding 50 of them; and the API's call log, a million calls at scale 1."""
    rnd = random.Random(seed + 3)
    now = timezone.now()
    n_tickets = max(int(1_000_000 * scale), 700)
    counts = dict.fromkeys(["warnings", "api_calls"], 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM compliance_violationwarning")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds warnings.")
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-merchant'")
        merchant_id = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-reviewer'")
        reviewer_id = cursor.fetchone()[0]
        cursor.execute("SELECT r.id, t.id FROM compliance_rule r JOIN compliance_ruletier t ON t.rule_id = r.id "
                       "WHERE r.code = 'fake_shipment' AND t.code = 'per_order' AND r.version = 1")
        fake_rule, fake_tier = cursor.fetchone()
        cursor.execute("SELECT id FROM shops_shop WHERE status IN ('open', 'suspended') ORDER BY id")
        live_shops = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT s.id FROM shops_shop s JOIN shops_shopmember m ON m.shop_id = s.id "
                       "WHERE m.user_id = %s ORDER BY (SELECT COUNT(*) FROM compliance_ticket t "
                       "WHERE t.shop_id = s.id) DESC LIMIT 1", [merchant_id])
        hot_shop = cursor.fetchone()[0]
        ids = {t: Ids(cursor, t) for t in ["compliance_integration", "compliance_violationwarning",
                                           "compliance_integrationcall"]}
    copy = Copies()
    integration_id = ids["compliance_integration"].take()
    copy("compliance_integration", ("id", "name", "description", "key_prefix", "key_hash", "scopes",
                                    "requests_per_minute", "is_active", "created_at", "created_by_id")).write_row(
        (integration_id, "scale-detector", "规模测试检测系统", "ck_scale", "0" * 64, '["warnings"]', None, True, now,
         reviewer_id))
    C_W = ("id", "number", "report_id", "order_nos", "evidence", "summary", "detected_at", "received_at",
           "deadline", "status", "answer", "answered_at", "decided_at", "decision_reason", "answered_by_id",
           "decided_by_id", "integration_id", "rule_id", "shop_id", "ticket_id", "tier_id")
    evidence = json.dumps({"物流单号": ["YT0000000001"], "揽收记录": "无"}, ensure_ascii=False)
    started = time.perf_counter()

    def write(status, shop_id, rule_id, tier_id, received, ticket_id=None):
        wid = ids["compliance_violationwarning"].take()
        answered = status in ("answered", "put_right") or (status in ("confirmed", "dismissed") and wid % 3 == 0)
        decided = status in ("confirmed", "dismissed")
        copy("compliance_violationwarning", C_W).write_row((
            wid, f"YJ{timezone.localtime(received, SHANGHAI):%Y%m%d}{wid:08X}", f"scale-{wid}",
            f'["69{wid:017d}"]', evidence, "系统识别到订单疑似虚假发货", received - datetime.timedelta(hours=1),
            received, received + datetime.timedelta(hours=48), status, "已发货，附物流凭证" if answered else "",
            received + datetime.timedelta(hours=5) if answered else None,
            received + datetime.timedelta(hours=50) if decided else None,
            "复核结论" if decided else "", merchant_id if answered else None, reviewer_id if decided else None,
            integration_id, rule_id, shop_id, ticket_id, tier_id))
        counts["warnings"] += 1

    with connection.cursor() as cursor:
        # Confirmed: the first 45% of the tickets, each from a warning of its shop and rule.
        cursor.execute("SELECT id, shop_id, rule_id, tier_id, issued_at FROM compliance_ticket ORDER BY id LIMIT %s",
                       [int(n_tickets * 0.45)])
        for ticket_id, shop_id, rule_id, tier_id, issued_at in tqdm(cursor.fetchall(), unit="warning",
                                                                    desc="confirmed", disable=not sys.stderr.isatty()):
            write("confirmed", shop_id, rule_id, tier_id, issued_at - datetime.timedelta(hours=50), ticket_id)
    for status, share in [("dismissed", 0.45), ("expired", 0.03), ("answered", 0.03), ("put_right", 0.01),
                          ("open", 0.03)]:
        for _ in range(int(n_tickets * share)):
            back = datetime.timedelta(hours=rnd.randint(1, 47)) if status in ("open", "answered", "put_right") \
                else datetime.timedelta(days=rnd.randint(3, 300))
            write(status, rnd.choice(live_shops), fake_rule, fake_tier, now - back)
    for i in range(50):  # the hot shop's own, for the portal pages
        write(["open", "answered", "dismissed", "expired", "put_right"][i % 5], hot_shop, fake_rule, fake_tier,
              now - datetime.timedelta(hours=1 + i))
    C_CALL = ("id", "method", "path", "status", "rows", "rows_rejected", "created_at", "integration_id")
    for i in tqdm(range(n_tickets), unit="call", desc="api calls", disable=not sys.stderr.isatty(), mininterval=1):
        copy("compliance_integrationcall", C_CALL).write_row((
            ids["compliance_integrationcall"].take(), "POST", "/api/v1/warnings/", 200, 1000, rnd.randint(0, 5),
            now - datetime.timedelta(seconds=i * 0.1), integration_id))
        counts["api_calls"] += 1
    finish(copy, ids)
    return {**counts, "warnings_seconds": round(time.perf_counter() - started, 1)}


def load_background(seed: int, scale: float) -> dict:
    """The outbox and the admin's jobs (issue #21): an e-mail for every
    ticket, as if each shop's merchant had an address — sent, but for a few
    thousand waiting for a retry and a few hundred undeliverable — and
    20,000 jobs of 50 reviewers, 500 of them the scale reviewer's."""
    rnd = random.Random(seed + 4)
    now = timezone.now()
    n = max(int(1_000_000 * scale), 700)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM compliance_outboxemail")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds outbox e-mails.")
        cursor.execute("SELECT id FROM auth_user WHERE username = 'scale-reviewer'")
        reviewer_id = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE is_staff ORDER BY id LIMIT 50")
        staff = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM shops_shop ORDER BY id")
        shops = [row[0] for row in cursor.fetchall()]
        ids = {t: Ids(cursor, t) for t in ["compliance_outboxemail", "compliance_job"]}
    copy = Copies()
    started = time.perf_counter()
    C_MAIL = ("id", "shop_id", "kind", '"to"', "subject", "body", "status", "created_at", "attempts", "next_attempt_at",
              "leased_until", "lease_token", "sent_at", "last_error")
    body = "您的店铺收到一张违规单，请登录商家后台查看。" * 6
    for i in tqdm(range(n), unit="mail", desc="outbox", disable=not sys.stderr.isatty(), mininterval=1):
        written = now - datetime.timedelta(seconds=(n - i) * 30)
        roll = rnd.random()
        status, attempts, error = ("pending", rnd.randint(1, 6), "ConnectionRefusedError") if roll < 0.004 else (
            ("dead", 10, "SMTPRecipientsRefused") if roll < 0.0045 else ("sent", 1, ""))
        shop = rnd.choice(shops)
        copy("compliance_outboxemail", C_MAIL).write_row((
            ids["compliance_outboxemail"].take(), shop, "ticket_issued", f"owner{shop}@shop.example",
            f"违规单通知 {i}", body, status, written, attempts, written + datetime.timedelta(minutes=attempts), None, "",
            written if status == "sent" else None, error))
    C_JOB = ("id", "kind", "title", "params", "language", "status", "done", "total", "created_at", "progress_at",
             "finished_at", "result", "file", "error", "user_id")
    for i in range(max(int(20_000 * scale), 100)):
        user = reviewer_id if i % 40 == 0 else rnd.choice(staff)
        at = now - datetime.timedelta(minutes=(20_000 - i) * 3)
        copy("compliance_job", C_JOB).write_row((
            ids["compliance_job"].take(), "ticket_export", "XLSX", '{"fmt": "xlsx", "query": ""}', "zh-hans", "done",
            1000, 1000, at, at, at, '{"rows": 1000, "name": "tickets.xlsx"}', "", "", user))
    finish(copy, ids)
    with connection.cursor() as cursor:
        # Yesterday's daily run, finished, as every day before it: today's run checks the
        # missing certificates of the shops changed since (services.daily), not every product.
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM shops_shop")
        shop_max = cursor.fetchone()[0]
        yesterday = timezone.localdate(now, timezone=SHANGHAI) - datetime.timedelta(days=1)
        cutoff = datetime.datetime.combine(yesterday + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI)
        cursor.execute("INSERT INTO compliance_dailyrun (day, cutoff, shards, shop_max, started_at, finished_at, step) "
                       "VALUES (%s, %s, 4, %s, %s, %s, 0)", [yesterday, cutoff, shop_max, cutoff + datetime.timedelta(
                           minutes=5), cutoff + datetime.timedelta(minutes=5, seconds=10)])
    return {"outbox_emails": n, "jobs": max(int(20_000 * scale), 100),
            "background_seconds": round(time.perf_counter() - started, 1)}


def load_webhooks(seed: int, scale: float) -> dict:
    """Outbound events and their deliveries (issue #22): a million events
    spread over the shops, each shop's in sequence, delivered to the
    platform's subscription — but for the last hour's, a few thousand still
    failing behind the first of their shop, and a few hundred given up —
    with each delivery's attempts."""
    import json
    import uuid

    from compliance.models import EVENT_TYPES, Integration, PublishState, WebhookSubscription

    rnd = random.Random(seed + 6)
    now = timezone.now()
    n = max(int(1_000_000 * scale), 700)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM compliance_outboundevent")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds outbound events.")
        cursor.execute("SELECT id, shop_no FROM shops_shop ORDER BY id")
        shops = cursor.fetchall()
    # Written directly, as the rest of the load is, and paused at an address on this machine: the
    # benches that start workers on this data (the daily job's) must not deliver — nor look a
    # name up, which is traffic too.
    hook = WebhookSubscription.objects.create(
        integration=Integration.objects.order_by("id").first(), url="https://127.0.0.1:9/hooks",
        events=EVENT_TYPES, secret="whsec_" + "x" * 43, created_at=now, status=WebhookSubscription.Status.PAUSED)
    with connection.cursor() as cursor:
        ids = {t: Ids(cursor, t) for t in ["compliance_outboundevent", "compliance_webhookdelivery",
                                            "compliance_webhookattempt"]}
    copy = Copies()
    started = time.perf_counter()
    C_EVENT = ("id", "uuid", "type", "shop_id", "sequence", "position", "occurred_at", "published_at", "data")
    C_DELIVERY = ("id", "subscription_id", "event_id", "stream", "sequence", "status", "created_at", "attempts",
                  "first_attempt_at", "next_attempt_at", "delivered_at", "last_code",
                  "last_ms", "last_error")
    C_ATTEMPT = ("id", "delivery_id", "at", "code", "ms", "error", "answer")
    sequences, failing = {}, set()
    for i in tqdm(range(n), unit="event", desc="webhooks", disable=not sys.stderr.isatty(), mininterval=1):
        at = now - datetime.timedelta(seconds=(n - i) * 3)
        shop_id, shop_no = rnd.choice(shops)
        sequences[shop_id] = sequence = sequences.get(shop_id, 0) + 1
        event_type = rnd.choice(EVENT_TYPES[:7])
        event_id = ids["compliance_outboundevent"].take()
        data = json.dumps({"number": f"WG{i:016d}", "shop": shop_no, "status": "issued"})
        copy("compliance_outboundevent", C_EVENT).write_row((
            event_id, uuid.UUID(int=rnd.getrandbits(128), version=4), event_type, shop_id, sequence, event_id, at,
            at, data))
        recent = (n - i) * 3 < 3600
        if shop_id in failing or (recent and rnd.random() < 0.003):
            failing.add(shop_id)  # the shop's first failing one holds the rest back
            status, attempts, code, delivered = "pending", rnd.randint(1, 5), 503, None
        elif rnd.random() < 0.0003:
            status, attempts, code, delivered = "dead", 12, 500, None
        else:
            status, attempts, code, delivered = "delivered", 1, 200, at + datetime.timedelta(milliseconds=40)
        delivery_id = ids["compliance_webhookdelivery"].take()
        copy("compliance_webhookdelivery", C_DELIVERY).write_row((
            delivery_id, hook.pk, event_id, shop_id, sequence, status, at, attempts, at,
            at + datetime.timedelta(minutes=attempts), delivered, code, 40, "" if code == 200 else "503"))
        for k in range(attempts):
            copy("compliance_webhookattempt", C_ATTEMPT).write_row((
                ids["compliance_webhookattempt"].take(), delivery_id, at + datetime.timedelta(minutes=k),
                code if k == attempts - 1 else 503, 40, "", ""))
    finish(copy, ids)
    with connection.cursor() as cursor:  # each shop's stream, due when its first pending delivery is
        cursor.execute(
            "INSERT INTO compliance_deliverystream (subscription_id, stream, next_attempt_at, lease_token) "
            "SELECT DISTINCT ON (subscription_id, stream) subscription_id, stream, next_attempt_at, '' "
            "FROM compliance_webhookdelivery WHERE status = 'pending' ORDER BY subscription_id, stream, sequence")
    PublishState.objects.update_or_create(pk=1, defaults={"position": ids["compliance_outboundevent"].next - 1})
    return {"outbound_events": n, "webhook_subscription": hook.pk,
            "webhooks_seconds": round(time.perf_counter() - started, 1)}


def load_claims(seed: int, scale: float) -> dict:
    """Claims (issue #23, ``--only claims``): one ended claim for every
    decided warning, appeal and reviewed certificate (the history a year of
    work leaves), and 40 reviewers — and the measuring superuser — each
    holding a few open warnings, appeals and certificates, some of the
    leases run out."""
    from django.contrib.auth.models import User

    from compliance.models import Claim

    if Claim.objects.exists():
        sys.exit("This database already holds claims.")
    started = time.perf_counter()
    holders = [User.objects.get_or_create(username=f"scale-claimer-{k}", defaults={"is_staff": True})[0].pk
               for k in range(40)]
    holders.append(User.objects.get_or_create(username="scale-superuser",
                                              defaults={"is_staff": True, "is_superuser": True})[0].pk)
    fallback = holders[0]
    history = [
        ("warning", "SELECT w.id, w.shop_id, w.decided_by_id, w.decided_at FROM compliance_violationwarning w "
                    "WHERE w.decided_at IS NOT NULL"),
        ("appeal", "SELECT a.id, t.shop_id, a.decided_by_id, a.decided_at FROM compliance_appeal a "
                   "JOIN compliance_ticket t ON t.id = a.ticket_id WHERE a.decided_at IS NOT NULL"),
        ("qualification", "SELECT q.id, q.shop_id, q.reviewed_by_id, q.reviewed_at FROM compliance_qualification q "
                          "WHERE q.reviewed_at IS NOT NULL"),
    ]
    open_items = [
        ("warning", "SELECT id, shop_id FROM compliance_violationwarning WHERE status IN ('answered', 'put_right', "
                    "'expired') ORDER BY deadline, id"),
        ("appeal", "SELECT a.id, t.shop_id FROM compliance_appeal a JOIN compliance_ticket t ON t.id = a.ticket_id "
                   "WHERE a.status = 'pending' ORDER BY a.due_at, a.id"),
        ("qualification", "SELECT id, shop_id FROM compliance_qualification WHERE status = 'submitted' "
                          "ORDER BY submitted_at, id"),
    ]
    rnd = random.Random(seed + 7)
    with connection.cursor() as cursor:
        for subject, select in history:
            cursor.execute(
                "INSERT INTO compliance_claim (subject, subject_id, shop_id, holder_id, claimed_at, leased_until, "
                "status, ended_at, ended_by_id) SELECT %s, x.id, x.shop_id, COALESCE(x.decider, %s), "
                "x.at - interval '12 minutes', x.at + interval '18 minutes', 'done', x.at, COALESCE(x.decider, %s) "
                f"FROM ({select}) AS x(id, shop_id, decider, at)", [subject, fallback, fallback])
        held = 0
        now = timezone.now()
        for subject, select in open_items:
            cursor.execute(select + " LIMIT %s", [len(holders) * 5])
            for k, (item_id, shop_id) in enumerate(cursor.fetchall()):
                lapsed = rnd.random() < 0.2
                cursor.execute(
                    "INSERT INTO compliance_claim (subject, subject_id, shop_id, holder_id, claimed_at, leased_until, "
                    "status) VALUES (%s, %s, %s, %s, %s, %s, 'held')",
                    [subject, item_id, shop_id, holders[k % len(holders)], now - datetime.timedelta(minutes=20),
                     now + datetime.timedelta(minutes=-5 if lapsed else 600)])
                held += 1
        cursor.execute("ANALYZE compliance_claim")
        cursor.execute("SELECT COUNT(*) FROM compliance_claim")
        total = cursor.fetchone()[0]
    return {"claims": total, "claims_held": held, "claims_seconds": round(time.perf_counter() - started, 1)}


def load_merchants(seed: int, scale: float) -> dict:
    """A merchant account with an e-mail address on every shop that has no
    member (``--only merchants``, not part of the default load): the daily
    job then writes a message and an e-mail for every reminder and closure,
    as on a platform where every shop has its merchant (bench/daily_job.py)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM auth_user WHERE username LIKE 'merchant-%'")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds the merchants.")
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined) SELECT '!', false, 'merchant-' || s.id, '', '', "
            "'merchant-' || s.id || '@merchants.example', false, true, now() FROM shops_shop s "
            "WHERE NOT EXISTS (SELECT 1 FROM shops_shopmember m WHERE m.shop_id = s.id)")
        added = cursor.rowcount
        cursor.execute("INSERT INTO shops_shopmember (role, created_at, shop_id, user_id) "
                       "SELECT 'owner', now(), s.id, u.id FROM shops_shop s JOIN auth_user u "
                       "ON u.username = 'merchant-' || s.id")
        cursor.execute("ANALYZE auth_user")
        cursor.execute("ANALYZE shops_shopmember")
    return {"merchants": added, "merchants_seconds": round(time.perf_counter() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100k shops, 1M tickets; 0.01 for a smoke run")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--only", choices=["certificates", "alliance", "warnings", "background", "merchants",
                                           "webhooks", "claims"],
                        help="add this part to a database loaded before")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("scale_load.py loads PostgreSQL with COPY: set DATABASE_URL to a PostgreSQL database.")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.only:
        part = {"certificates": load_certificates, "alliance": load_alliance, "warnings": load_warnings,
                "background": load_background, "merchants": load_merchants, "webhooks": load_webhooks,
                "claims": load_claims}[args.only]
        print(json.dumps(part(args.seed, args.scale), indent=2))
        return
    result = load(args.scale, args.seed)
    result.update(load_certificates(args.seed, args.scale))
    result.update(load_alliance(args.seed, args.scale))
    result.update(load_warnings(args.seed, args.scale))
    result.update(load_background(args.seed, args.scale))
    result.update(load_webhooks(args.seed, args.scale))
    result.update(load_claims(args.seed, args.scale))
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    result["scale"] = args.scale
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
