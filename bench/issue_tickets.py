"""Tickets issued per second through ``ticket_issue`` (the whole workflow:
locks, points, nodes, deposit ledger, measures, events).

    .venv/bin/python bench/issue_tickets.py [--tickets 2000] [--shops 200] [--workers 4]

Runs on a database of its own (Django's test database for the configured
DATABASE_URL, created and dropped here), so it never touches real data.
Writes ``bench/results/issue_tickets-<vendor>.json`` and prints the figures.
Serial throughput is measured on every database; the parallel run (workers
issuing to different shops, and all to one shop) only on PostgreSQL, where
row locks are real.
"""

import argparse
import datetime
import os
import platform
import statistics
import threading
import time
from decimal import Decimal

from _setup import throwaway_database, write_result  # noqa: E402  (sets Django up)

from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402


def build_world(shops: int, *, start: int = 0, reviewer=None):
    from django.contrib.auth.models import Group, User

    from compliance.services.deposits import deposit_top_up
    from shops.identifiers import uscc_check_char
    from shops.models import Controller, Product, Shop

    if reviewer is None:
        reviewer = User.objects.create_user("bench-reviewer", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewer"))
    world = []
    for i in range(start, start + shops):
        body = f"91330100MA{i:07d}"
        controller = Controller.objects.create(name=f"bench-{i}", kind="company", uscc=body + uscc_check_char(body))
        shop = Shop.objects.create(shop_no=f"9{i:07d}", name=f"bench shop {i}", controller=controller,
                                   entity_type="enterprise", shop_type="ordinary", company_name=controller.name,
                                   uscc=controller.uscc, required_deposit=Decimal("10000000"))
        deposit_top_up(shop=shop, amount=Decimal("10000000"), actor=None)
        products = [Product(shop=shop, product_no=f"8{i:07d}{j:02d}", title=f"p{j}", price=Decimal("1"))
                    for j in range(5)]
        world.append((shop, Product.objects.bulk_create(products)))
    return reviewer, world


def issue_many(reviewer, targets, n, offset=0, tier_code=("price_mismatch", "general")):
    """Issue n tickets round-robin over ``targets``; returns latencies. With
    the default A·3 tier a shop crosses the 12 and 24 nodes on the way; keep
    it under 12 tickets a shop, or the 36 node clears it."""
    from compliance.models import RuleTier
    from compliance.services.tickets import ticket_issue

    tier = RuleTier.objects.select_related("rule").get(rule__code=tier_code[0], code=tier_code[1])
    latencies = []
    now = timezone.now()
    for k in range(n):
        shop, products = targets[k % len(targets)]
        started = time.perf_counter()
        ticket_issue(shop=shop, tier=tier, actor=reviewer, products=[products[k % len(products)]],
                     description="bench", occurred_at=now - datetime.timedelta(hours=1),
                     idempotency_key=f"bench-{offset}-{k}")
        latencies.append(time.perf_counter() - started)
    return latencies


def summary(latencies, elapsed):
    ordered = sorted(latencies)
    return {
        "tickets": len(latencies),
        "seconds": round(elapsed, 3),
        "tickets_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms_median": round(statistics.median(ordered) * 1000, 2),
        "latency_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
    }


def parallel(reviewer, world, tickets, workers, *, one_shop):
    """Workers issue to disjoint shops, or all to the first shop (a 0-point
    tier there, so that it is never cleared): the cost of the row locks."""
    chunks = [[] for _ in range(workers)]
    errors = []

    def work(w):
        try:
            targets = world[:1] if one_shop else world[w::workers]
            tier_code = ("qualification_materials", "product_first_minor") if one_shop else ("price_mismatch",
                                                                                              "general")
            chunks[w] = issue_many(reviewer, targets, tickets // workers, offset=(1000 + w) * (2 if one_shop else 1),
                                   tier_code=tier_code)
        except Exception as exc:  # noqa: BLE001 — reported below, fails the run
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return summary([x for chunk in chunks for x in chunk], elapsed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    with throwaway_database():
        vendor = connection.vendor
        reviewer, world = build_world(args.shops)
        started = time.perf_counter()
        serial = summary(issue_many(reviewer, world, args.tickets), time.perf_counter() - started)
        result = {
            "benchmark": "ticket_issue",
            "date": timezone.now().isoformat(timespec="seconds"),
            "database": f"{vendor} {connection.Database.__name__} {'.'.join(map(str, connection.get_database_version()))}",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "shops": args.shops,
            "serial": serial,
        }
        if vendor == "postgresql":
            fresh = build_world(args.shops, start=args.shops, reviewer=reviewer)[1]
            result["parallel_many_shops"] = {"workers": args.workers, **parallel(
                reviewer, fresh, args.tickets, args.workers, one_shop=False)}
            lone = build_world(1, start=2 * args.shops, reviewer=reviewer)[1]
            result["parallel_one_shop"] = {"workers": args.workers, **parallel(
                reviewer, lone, args.tickets // 4, args.workers, one_shop=True)}
    write_result("issue_tickets", vendor, result)


if __name__ == "__main__":
    main()
