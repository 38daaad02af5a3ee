"""Tickets issued per second through ``ticket_issue`` (the whole workflow:
locks, points, nodes, deposit ledger, measures, events), by worker
processes as gunicorn's are.

    .venv/bin/python bench/issue_tickets.py [--tickets 4000] [--workers 4] [--profile]

Runs on a database of its own (Django's test database for the configured
DATABASE_URL, created and dropped here), so it never touches real data.
Writes ``bench/results/issue_tickets-<vendor>.json`` and prints the figures.

Two tiers, each measured with one worker and with ``--workers`` processes to
different shops — as the target names it, shops without a merchant account,
then again with one merchant per shop, who gets each ticket as a portal
message and an e-mail — and with ``--workers`` processes all to one shop:

- **general** — price mismatch, 情节一般 (SPEC §5): 3 points, ¥2,000 from the
  deposit, a warning and the product delisted — the tier the target names. Shops take ten tickets each,
  so every shop crosses the A12 and A24 nodes on the way (a suspension and a
  node deduction each). For the one-shop run the shop would be cleared at A36
  after twelve tickets, so in this throw-away database the A36 node suspends
  for 14 days and deducts ¥10,000 instead: the shop keeps trading and every
  ticket still goes through the node evaluation.
- **¥1, 0 points** — a bench tier that only charges ¥1: the floor of the
  path (locks, ledger, event), the figure earlier benches reported.

Statements per ticket are counted on a serial run of each tier. After every
run each shop's cached balance must equal its ledger and every entry's
``balance_after`` must follow from the one before (``lost updates``).
Parallel runs need PostgreSQL (real row locks); on SQLite only the serial
figures are measured.
"""

import argparse
import datetime
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from decimal import Decimal

# Production settings, as the workers run them: no debug cursor recording every statement.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "issue-bench-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")

from _setup import load_average, lost_updates, throwaway_database, write_result  # noqa: E402  (sets Django up)

from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

PER_SHOP = 10  # general tickets per shop: A 30 (A12 and A24 crossed, A36 not reached)


def bench_reviewer():
    from django.contrib.auth.models import Group, User

    reviewer = User.objects.create_user("bench-reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    return reviewer


def build_shops(count: int, *, start: int, products: int, merchant: bool = False) -> list[int]:
    """``count`` funded shops of their own controller, each with its merchant
    and ``products`` products."""
    from django.contrib.auth.models import User

    from compliance.services.deposits import deposit_top_up
    from shops.identifiers import uscc_check_char
    from shops.models import Controller, Product, Shop, ShopMember

    ids = []
    for i in range(start, start + count):
        body = f"91330100MA{i:07d}"
        controller = Controller.objects.create(name=f"bench-{i}", kind="company", uscc=body + uscc_check_char(body))
        shop = Shop.objects.create(shop_no=f"9{i:07d}", name=f"bench shop {i}", controller=controller,
                                   entity_type="enterprise", shop_type="ordinary", company_name=controller.name,
                                   uscc=controller.uscc, required_deposit=Decimal("100000000"))
        deposit_top_up(shop=shop, amount=Decimal("100000000"), actor=None)
        # Its merchant, who receives every ticket in the message centre and by e-mail.
        merchant and ShopMember.objects.create(shop=shop, role="owner", user=User.objects.create_user(
            f"bench-merchant-{i}", email=f"merchant-{i}@example.com"))
        Product.objects.bulk_create([Product(shop=shop, product_no=f"8{i:07d}{j:04d}", title=f"p{j}",
                                             price=Decimal("1")) for j in range(products)])
        ids.append(shop.pk)
    return ids


def bench_tiers() -> dict:
    """The two tiers measured: ``general`` (from the shipped catalogue) and
    ``floor`` (a bench rule: ¥1, no points)."""
    from compliance.models import Rule, RuleTier

    rule = Rule.objects.create(code="bench_deposit", version=1, name_zh="压测扣款", name_en="Bench deduction",
                               effective_from=datetime.date(2020, 1, 1))
    RuleTier.objects.create(rule=rule, code="charge", name_zh="扣款", name_en="Charge", violation_class="A",
                            points_default=0, points_min=0, points_max=0, deposit_amount=Decimal("1"))
    general = RuleTier.objects.get(rule__code="price_mismatch", rule__version=1, code="general")
    floor = RuleTier.objects.get(rule=rule, code="charge")
    assert (general.points_default, general.deposit_amount) == (3, Decimal("2000"))
    return {"general": general.pk, "floor": floor.pk}


def keep_a_hot_shop_trading(reviewer_id):
    """The one-shop run of the general tier passes A36: there it suspends
    instead of clearing (this database only; see the module's docstring)."""
    from django.contrib.auth.models import User

    from compliance.models import PointNode
    from compliance.services.catalogue import node_revise

    saved = PointNode.objects.get(violation_class="A", threshold=36, clear_shop=True, is_active=True)
    changed = PointNode.objects.get(pk=saved.pk)
    changed.clear_shop, changed.suspend_days, changed.deposit_amount = False, 14, Decimal("10000")
    node_revise(saved=saved, changed=changed, actor=User.objects.get(pk=reviewer_id), reason="issuance bench: keep one shop trading")


class Issuer:
    """What a worker reads once, then ``issue(k)`` issues its ``k``-th ticket:
    round-robin over the shops, each ticket naming a product of its own."""

    def __init__(self, shop_ids, tier_id, reviewer_id, key):
        from django.contrib.auth.models import User

        from compliance.models import RuleTier
        from shops.models import Product, Shop

        self.shop_ids, self.key = shop_ids, key
        self.reviewer = User.objects.get(pk=reviewer_id)
        self.tier = RuleTier.objects.select_related("rule").get(pk=tier_id)
        self.shops = {s.pk: s for s in Shop.objects.filter(pk__in=shop_ids)}
        self.products = {pk: list(Product.objects.filter(shop=pk).order_by("pk")) for pk in shop_ids}
        self.occurred = timezone.now() - datetime.timedelta(hours=1)

    def issue(self, k):
        from compliance.services.tickets import ticket_issue

        shop_id = self.shop_ids[k % len(self.shop_ids)]
        products = self.products[shop_id]
        return ticket_issue(shop=self.shops[shop_id], tier=self.tier, actor=self.reviewer,
                            products=[products[(k // len(self.shop_ids)) % len(products)]], description="压测",
                            occurred_at=self.occurred, idempotency_key=f"bench-{self.key}-{k}")

    def latencies(self, count):
        times = []
        for k in range(count):
            started = time.perf_counter()
            self.issue(k)
            times.append(time.perf_counter() - started)
        return times


def _worker(barrier, results, errors, shop_ids, tier_id, reviewer_id, count, key):
    """One worker process: its own connection, like a gunicorn worker."""
    connections.close_all()  # never share the parent's connection
    latencies = None
    try:
        issuer = Issuer(shop_ids, tier_id, reviewer_id, key)
        barrier.wait()
        latencies = issuer.latencies(count)
    except Exception as exc:  # noqa: BLE001 — reported by the parent, fails the run
        errors.put(f"{type(exc).__name__}: {exc}")
        barrier.abort()
    finally:
        results.put(latencies)  # always one answer, so that the parent never waits for a dead worker
        connections.close_all()


def run(name, *, key, workers, shop_ids, tier_id, reviewer_id, tickets, one_shop) -> dict:
    """``workers`` processes issuing ``tickets`` in all: each to shops of its
    own, or all of them to the one shop of ``shop_ids``."""
    if not one_shop and len(shop_ids) < workers:
        raise ValueError(f"{name}: {workers} workers need as many shops, not {len(shop_ids)}")
    context = multiprocessing.get_context("fork")
    barrier, results, errors = context.Barrier(workers + 1), context.Queue(), context.Queue()
    connections.close_all()
    processes = [context.Process(target=_worker, args=(
        barrier, results, errors, shop_ids if one_shop else shop_ids[w::workers], tier_id, reviewer_id,
        tickets // workers, f"{key}-{w}")) for w in range(workers)]
    for process in processes:
        process.start()
    load_before = load_average()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a worker failed before it started: its error is reported below
    started = time.perf_counter()
    answers = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    if not errors.empty():
        raise SystemExit(f"{name}: {errors.get()}")
    latencies = [x for answer in answers for x in answer]
    ordered = sorted(latencies)
    return {
        "run": name, "workers": workers, "one_shop": one_shop, "tickets": len(latencies),
        "seconds": round(seconds, 2), "tickets_per_second": round(len(latencies) / seconds, 1),
        "latency_ms_median": round(statistics.median(ordered) * 1000, 1),
        "latency_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "load_average_1min": {"before": load_before, "after": load_average()},
    }


def statements_per_ticket(shop_id, tier_id, reviewer_id, key) -> dict:
    """Statements of one shop's first PER_SHOP tickets, in the order issued."""
    issuer = Issuer([shop_id], tier_id, reviewer_id, key)
    counts = []
    for k in range(PER_SHOP):
        with CaptureQueriesContext(connection) as queries:
            issuer.issue(k)
        counts.append(len(queries))
    return {"per_ticket": counts, "mean": round(sum(counts) / len(counts), 1)}


def profile(shop_ids, tier_id, reviewer_id):
    """A pyinstrument profile of serial tickets (``--profile``)."""
    from pyinstrument import Profiler

    issuer = Issuer(shop_ids, tier_id, reviewer_id, "profile")
    profiler = Profiler(interval=0.0005)
    with profiler:
        issuer.latencies(len(shop_ids) * PER_SHOP)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=4000, help="tickets per run (default 4000)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="profile 600 serial tickets and stop")
    parser.add_argument("--output", default="issue_tickets", help="results file name (CI: issue_tickets-smoke)")
    args = parser.parse_args()

    with throwaway_database():
        vendor = connection.vendor
        reviewer = bench_reviewer().pk
        tiers = bench_tiers()
        shops_needed = max(-(-args.tickets // PER_SHOP), args.workers)  # each worker a shop at least
        start = 0

        def fresh(count, products=PER_SHOP, merchant=False):
            nonlocal start
            ids = build_shops(count, start=start, products=products, merchant=merchant)
            start += count
            return ids

        if args.profile:
            return profile(fresh(60), tiers["general"], reviewer)
        result = {
            "benchmark": "ticket_issue",
            "date": timezone.now().isoformat(timespec="seconds"),
            "database": f"{vendor} {connection.Database.__name__} "
                        f"{'.'.join(map(str, connection.get_database_version()))}",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "statements": {
                **{name: statements_per_ticket(fresh(1)[0], tier, reviewer, f"count-{name}")
                   for name, tier in tiers.items()},
                "general, with a merchant": statements_per_ticket(fresh(1, merchant=True)[0], tiers["general"],
                                                                  reviewer, "count-merchant"),
            },
            "runs": [],
        }
        checked = []

        def measure(name, *, workers, one_shop=False, merchant=False):
            shops = fresh(1, products=args.tickets, merchant=merchant) if one_shop else fresh(
                shops_needed, merchant=merchant)
            checked.extend(shops)
            label = f"{name}, {workers} worker(s), {'one shop' if one_shop else 'different shops'}" + (
                ", each with a merchant" if merchant else "")
            key = f"r{len(result['runs'])}"  # idempotency keys are at most 64 characters
            result["runs"].append(run(label, key=key, workers=workers, shop_ids=shops, tier_id=tiers[name],
                                      reviewer_id=reviewer, tickets=args.tickets // 2 if one_shop else args.tickets,
                                      one_shop=one_shop))
            print(result["runs"][-1], flush=True)

        parallel = vendor == "postgresql"  # real row locks
        for name in tiers:
            measure(name, workers=1)
            if parallel:
                measure(name, workers=args.workers)
                measure(name, workers=args.workers, merchant=True)
        if parallel:
            measure("floor", workers=args.workers, one_shop=True)
            keep_a_hot_shop_trading(reviewer)
            measure("general", workers=args.workers, one_shop=True)
        result["shops_with_lost_updates"] = lost_updates(checked)
    write_result(args.output, vendor, result)
    if result["shops_with_lost_updates"]:
        sys.exit("lost updates in the deposit ledger")


if __name__ == "__main__":
    main()
