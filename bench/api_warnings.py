"""Warnings accepted per second through the integration API (SPEC §12):
batches of 1,000 POSTed to /api/v1/warnings/ through Django's whole request
stack (middleware, key check, rate limit, per-row validation, the bulk
insert, events, one message per shop), on the loaded scale data.

    DATABASE_URL=postgres://…/scale .venv/bin/python bench/api_warnings.py [--batches 20]

Each batch is 1,000 new warnings for shops drawn from the open ones (a few
with merchants, so messages are written); then the same batches are sent
again, which must create nothing. Results go to
bench/results/api_warnings-postgresql.json.
"""

import argparse
import json
import random
import statistics
import time
import uuid

from _setup import write_result

from django.db import connection
from django.test import Client
from django.utils import timezone


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--output", default="api_warnings")
    args = parser.parse_args()
    from django.contrib.auth.models import User

    from compliance.models import ViolationWarning
    from compliance.services.integrations import integration_create
    from shops.models import Shop

    run = uuid.uuid4().hex[:8]
    creator = User.objects.filter(is_staff=True).order_by("id").first()
    _integration, key = integration_create(name=f"bench-{run}", actor=creator, scopes=["warnings"],
                                           requests_per_minute=1_000_000)
    shops = list(Shop.objects.filter(status="open").values_list("shop_no", flat=True)[:20000])
    rnd = random.Random(11)
    detected = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    batches = [{"warnings": [{
        "report_id": f"{run}-{b}-{i}", "shop": rnd.choice(shops), "rule": "fake_shipment", "tier": "per_order",
        "summary": "系统识别到订单疑似虚假发货", "detected_at": detected,
        "order_nos": [f"69{b:05d}{i:012d}"], "evidence": {"物流单号": [f"YT{b:04d}{i:06d}"], "揽收记录": "无"}}
        for i in range(args.size)]} for b in range(args.batches)]
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def send(label):
        times = []
        for batch in batches:
            body = json.dumps(batch, ensure_ascii=False)
            started = time.perf_counter()
            response = client.post("/api/v1/warnings/", data=body, content_type="application/json", **headers)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:500]
            result = response.json()
            print(json.dumps({"run": label, "seconds": round(times[-1], 3), "created": result["created"],
                              "duplicates": result["duplicates"], "rejected": result["rejected"]}), flush=True)
        total = sum(times)
        return {"batches": len(times), "warnings": len(times) * args.size, "seconds": round(total, 2),
                "warnings_per_second": round(len(times) * args.size / total),
                "median_batch_ms": round(statistics.median(times) * 1000), "max_batch_ms": round(max(times) * 1000)}

    first = send("new")
    again = send("resubmitted")
    created = ViolationWarning.objects.filter(report_id__startswith=f"{run}-").count()
    assert created == args.batches * args.size, created
    result = {"benchmark": "warnings through /api/v1/warnings/ in batches", "vendor": connection.vendor,
              "batch_size": args.size, "new": first, "resubmitted": again,
              "warnings_in_table": ViolationWarning.objects.count()}
    write_result(args.output, connection.vendor, result)


if __name__ == "__main__":
    main()
