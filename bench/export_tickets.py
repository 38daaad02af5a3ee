"""Peak memory and time of the streamed ticket export as the list grows.

    .venv/bin/python bench/export_tickets.py [--rows 10000 100000] [--format csv]

The export view is requested through Django's test client (real middleware,
real changelist filtering) and its streamed body is consumed chunk by chunk
and discarded, as a client would. ``tracemalloc`` records the peak of Python
allocations while streaming: flat peaks across sizes show that rows are not
held in memory. Writes ``bench/results/export_tickets-<vendor>.json``.
"""

import argparse
import datetime
import os
import platform
import time
import tracemalloc
from decimal import Decimal

from _setup import throwaway_database, write_result  # noqa: E402  (sets Django up)

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402


def grow_to(rows: int, shop, tier, reviewer):
    """Insert synthetic tickets (bulk, bypassing the workflow: only the
    export's reading side is measured here) until there are ``rows``."""
    from compliance.models import Ticket

    have = Ticket.objects.count()
    now = timezone.now()
    batch = []
    for i in range(have, rows):
        batch.append(Ticket(
            number=f"WGBENCH{i:010d}", idempotency_key=f"bench-{i}", shop=shop, rule=tier.rule, tier=tier,
            rule_snapshot={"rule_name_zh": "基准", "rule_name_en": "bench", "tier_name_zh": "一般",
                           "tier_name_en": "general"},
            violation_class="A", points=3, point_year=now.year, deposit_amount=Decimal("2000"),
            description="bench", occurred_at=now - datetime.timedelta(hours=1), issued_at=now,
            issued_by=reviewer, appeal_deadline=now + datetime.timedelta(days=7),
        ))
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)


def measure(client, fmt: str) -> dict:
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/admin/compliance/ticket/export/{fmt}/")
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"bytes": size, "seconds": round(elapsed, 2), "peak_python_mb": round(peak / 1_048_576, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()

    with throwaway_database():
        from django.contrib.auth.models import Group, User

        from compliance.models import RuleTier
        from shops.identifiers import uscc_check_char
        from shops.models import Controller, Shop

        vendor = connection.vendor
        reviewer = User.objects.create_user("bench-reviewer", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="Reviewer"))
        body = "91330100MA0000001"
        controller = Controller.objects.create(name="bench", kind="company", uscc=body + uscc_check_char(body))
        shop = Shop.objects.create(shop_no="90000001", name="bench", controller=controller, entity_type="enterprise",
                                   shop_type="ordinary", company_name="bench", uscc=controller.uscc)
        tier = RuleTier.objects.select_related("rule").get(rule__code="price_mismatch", code="general")
        client = Client()
        client.force_login(reviewer)
        runs = []
        for rows in sorted(args.rows):
            grow_to(rows, shop, tier, reviewer)
            runs.append({"rows": rows, **measure(client, args.format)})
            print(runs[-1], flush=True)
        result = {
            "benchmark": f"ticket export ({args.format}, streamed)",
            "date": timezone.now().isoformat(timespec="seconds"),
            "database": f"{vendor} {'.'.join(map(str, connection.get_database_version()))}",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "runs": runs,
        }
    write_result("export_tickets", vendor, result)


if __name__ == "__main__":
    main()
