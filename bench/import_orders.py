"""Nine million rows of daily orders through import_orders, then the 2024
renewal assessment over them (SPEC §9), on the loaded scale data.

    DATABASE_URL=postgres://…/compliance_scale .venv/bin/python bench/import_orders.py [--days 90]

Writes a CSV of every shop's paid and gift orders for each day of the 2024
campaign's period (100,008 shops × 90 days ≈ 9 million rows) into /tmp,
imports it with the management command (COPY into a staging table, one
upsert), imports it again (nothing changes), then binds the shops to 500
certified providers and runs assess_renewals. Times and peak memory go to
bench/results/import_orders-postgresql.json.
"""

import argparse
import csv
import datetime
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from _setup import ROOT, write_result

from django.db import connection

PROVIDERS = 500


def write_file(path: Path, days: int) -> int:
    from compliance.models import RenewalCampaign

    campaign = RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核")
    with connection.cursor() as cursor:
        cursor.execute("SELECT shop_no FROM shops_shop ORDER BY id")
        shop_nos = [row[0] for row in cursor.fetchall()]
    rnd = random.Random(9)
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["shop_id", "date", "paid_orders", "gift_orders"])
        for offset in range(days):
            day = (campaign.period_start + datetime.timedelta(days=offset)).isoformat()
            for shop_no in shop_nos:
                paid = rnd.randint(0, 60)
                writer.writerow([shop_no, day, paid, paid // 12])
                rows += 1
    return rows


def timed(*args) -> dict:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "tests/guarded_manage.py", *args], cwd=ROOT, capture_output=True, text=True)
    return {"seconds": round(time.perf_counter() - started, 1), "output": result.stdout.strip()[-300:],
            "errors": result.stderr.strip()[-300:], "returncode": result.returncode,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def bind_providers() -> None:
    from shops.models import ProviderBinding, ServiceProvider

    if ServiceProvider.objects.filter(name__startswith="bench-provider-").exists():
        return
    providers = ServiceProvider.objects.bulk_create([
        ServiceProvider(name=f"bench-provider-{i:03d}", certified_on=datetime.date(2023, 6, 1),
                        deposit_paid=Decimal("100000"), deposit_paid_on=datetime.date(2023, 11, 1))
        for i in range(PROVIDERS)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shops_shop ORDER BY id")
        shop_ids = [row[0] for row in cursor.fetchall()]
    ProviderBinding.objects.bulk_create([
        ProviderBinding(provider=providers[i % PROVIDERS], shop_id=shop_id,
                        starts_on=datetime.date(2023, 12, 1) + datetime.timedelta(days=i % 40))
        for i, shop_id in enumerate(shop_ids)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shops_providerbinding")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--file", type=Path, default=Path("/tmp/bench-orders.csv"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("import_orders.py measures PostgreSQL: set DATABASE_URL to the scale database.")
    started = time.perf_counter()
    rows = write_file(args.file, args.days)
    result = {"rows": rows, "file_mb": round(args.file.stat().st_size / 1e6, 1),
              "write_file_seconds": round(time.perf_counter() - started, 1)}
    print(result, flush=True)
    result["first_import"] = timed("import_orders", str(args.file), "--verbosity", "0")
    print(result["first_import"], flush=True)
    result["second_import"] = timed("import_orders", str(args.file), "--verbosity", "0")
    print(result["second_import"], flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shops_shopdailyorders")
    bind_providers()
    result["assess_renewals"] = timed("assess_renewals", "2024年产业带服务商续牌考核")
    print(result["assess_renewals"], flush=True)
    write_result("import_orders", "postgresql", result)


if __name__ == "__main__":
    main()
