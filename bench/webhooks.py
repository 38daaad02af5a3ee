"""Outbound events' figures (issue #22), on a throw-away database:

- **deliveries**: webhook deliveries per second by 1 and 4 worker processes
  to a receiver on loopback (a process of its own answering 200), from
  ``--deliveries`` events of ``--shops`` shops written as the relay writes
  them (one subscription; each shop's events in sequence);
- **commit to delivery**: while 4 processes issue tickets (the issuance
  bench's general tier, shops with merchants) and one worker publishes and
  delivers, the time from each event's decision to its delivery — p50, p99
  — and the events produced per second;
- **backlog** (``--backlog N``): a receiver down for an hour while N events
  of ``--backlog-shops`` shops were published — each shop's first delivery
  tried and refused for that hour (7 attempts, doubling from 30 s), the rest
  held back behind it — then back: the time until the workers have delivered
  them all, and whether each shop's order was kept.

    DATABASE_URL=postgres://…/compliance .venv/bin/python bench/webhooks.py [--deliveries 20000]

Writes ``bench/results/webhooks-<vendor>.json``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import load_average, throwaway_database, write_result  # noqa: E402  (sets Django up)

from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from background import stop, workers  # noqa: E402
from tests.mailserver import closed_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECEIVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # 4 workers x 10 threads connect at once
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""
PAYLOAD = {"number": "WG20261129ABCDEF01", "shop": "10000001", "rule": "false_advertising", "tier": "general",
           "violation_class": "A", "points": 3, "deposit_amount": "2000.00", "status": "issued",
           "issued_at": "2026-11-29T10:15:02.123456+08:00", "appeal_deadline": "2026-12-06T23:59:59.999999+08:00",
           "revoked_at": None, "warning": None,
           "measures": [{"kind": k, "status": "active", "ends_at": None, "ticket": "WG20261129ABCDEF01"}
                        for k in ("deposit", "warning", "delist")]}


def receiver():
    port = closed_port()
    process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    time.sleep(0.5)
    return process, f"http://127.0.0.1:{port}/hooks"


def subscription(url: str, events):
    from compliance.services.webhooks import webhook_subscribe
    from tests.factories import make_integration

    integration, _key = make_integration(f"bench-{uuid.uuid4().hex[:6]}", scopes=["webhooks"])
    return webhook_subscribe(integration=integration, url=url, events=list(events))[0]


def deliveries(count: int, shops: list, worker_count: int) -> dict:
    from compliance.models import OutboundEvent, PublishState, WebhookDelivery, WebhookSubscription
    from compliance.services.deliveries import queue

    shop_count = len(shops)
    process, url = receiver()
    hook = subscription(url, ["ticket.issued"])
    now = timezone.now()
    base = (OutboundEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0)
    after = OutboundEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    events = [OutboundEvent(uuid=uuid.uuid4(), type="ticket.issued", shop=shops[i % shop_count],
                            sequence=after + 1 + i // shop_count, position=base + i + 1, occurred_at=now,
                            published_at=now, data=PAYLOAD) for i in range(count)]
    OutboundEvent.objects.bulk_create(events, batch_size=2000)
    PublishState.objects.update_or_create(pk=1, defaults={"position": base + count})  # as the relay leaves it
    with connection.cursor() as cursor:  # statistics for the planner, as autovacuum would give them
        cursor.execute("ANALYZE compliance_outboundevent, compliance_webhookdelivery, compliance_webhooksubscription")
    with transaction.atomic():
        queue([WebhookDelivery(subscription=hook, event=e, stream=e.shop_id, sequence=e.sequence, created_at=now,
                               next_attempt_at=now) for e in events])
    load = load_average()
    try:
        seconds, during, _progress = _drain(hook, worker_count)
    finally:
        process.terminate()
    out_of_order = _out_of_order(hook)
    WebhookSubscription.objects.filter(pk=hook.pk).update(status=WebhookSubscription.Status.DELETED)
    return {"workers": worker_count, "deliveries": count, "shops": shop_count,
            "delivered": hook.deliveries.filter(status="delivered").count(), "out_of_order": out_of_order,
            "seconds": round(seconds, 2), "deliveries_per_second": round(count / seconds, 1),
            "load_average_1min": {"before": load, "during": during}}


def _drain(hook, worker_count: int):
    """Start the workers, a delivery task each, and wait until nothing of
    ``hook`` is pending: (seconds, load during, what was left each minute)."""
    from compliance.models import WebhookDelivery
    from compliance.tasks import deliver_webhooks

    procs = workers(worker_count, DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS="true")
    pending = hook.deliveries.filter(status=WebhookDelivery.Status.PENDING)
    progress = []
    try:
        time.sleep(2)
        started = time.perf_counter()
        for _ in range(worker_count):
            deliver_webhooks.enqueue()
        while left := pending.count():
            elapsed = time.perf_counter() - started
            if not progress or elapsed - progress[-1][0] >= 60:
                progress.append((round(elapsed), left))
            time.sleep(0.2)
        return time.perf_counter() - started, load_average(), progress
    finally:
        stop(procs)


def _out_of_order(hook) -> int:
    """Deliveries delivered before an earlier one of their shop (must be 0):
    within each shop, in the order delivered, a sequence lower than the one
    before it."""
    from compliance.models import WebhookDelivery

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM (SELECT sequence, LAG(sequence) OVER (PARTITION BY stream "
                       f"ORDER BY delivered_at, id) AS before FROM {WebhookDelivery._meta.db_table} "
                       "WHERE subscription_id = %s) AS d WHERE sequence < before", [hook.pk])
        return cursor.fetchone()[0]


def backlog(count: int, shop_count: int, worker_count: int) -> dict:
    """SPEC §13 after an outage: ``count`` events held for an hour, drained."""
    from compliance.models import OutboundEvent, PublishState, WebhookDelivery, WebhookSubscription
    from compliance.models.base import copy_rows
    from compliance.services.deliveries import queue
    from tests.factories import make_shop

    shops = [make_shop().pk for _ in range(shop_count)]
    process, url = receiver()
    hook = subscription(url, ["ticket.issued"])
    now = timezone.now()
    outage = now - timezone.timedelta(hours=1)
    base = OutboundEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
    written = time.perf_counter()
    for start in range(0, count, 100_000):  # the hour's events, in the order published
        chunk = range(start, min(start + 100_000, count))
        copy_rows([OutboundEvent(uuid=uuid.uuid4(), type="ticket.issued", shop_id=shops[i % shop_count],
                                 sequence=1 + i // shop_count, position=base + i + 1,
                                 occurred_at=outage + timezone.timedelta(seconds=3600 * i / count),
                                 published_at=outage + timezone.timedelta(seconds=3600 * i / count),
                                 data=PAYLOAD) for i in chunk])
        ids = dict(OutboundEvent.objects.filter(position__gt=base + start, position__lte=base + chunk[-1] + 1)
                   .values_list("position", "id"))
        queue([WebhookDelivery(
            subscription=hook, event_id=ids[base + i + 1], stream=shops[i % shop_count], sequence=1 + i // shop_count,
            created_at=outage + timezone.timedelta(seconds=3600 * i / count),
            # each shop's first: refused for the hour, due again now; the rest held back behind it
            **({"attempts": 7, "first_attempt_at": outage, "last_error": "connection refused", "next_attempt_at": now}
               if i < shop_count else {"next_attempt_at": outage + timezone.timedelta(seconds=3600 * i / count)}))
            for i in chunk])
    PublishState.objects.update_or_create(pk=1, defaults={"position": base + count})
    WebhookSubscription.objects.filter(pk=hook.pk).update(failing_since=outage)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE compliance_outboundevent")
        cursor.execute("VACUUM ANALYZE compliance_webhookdelivery")
    written = time.perf_counter() - written
    load = load_average()
    try:
        seconds, during, progress = _drain(hook, worker_count)
    finally:
        process.terminate()
    delivered = hook.deliveries.filter(status="delivered")
    return {"backlog": count, "shops": shop_count, "workers": worker_count, "written_in_seconds": round(written, 1),
            "delivered": delivered.count(), "dead": hook.deliveries.filter(status="dead").count(),
            "tried_more_than_once_after_the_outage": delivered.filter(attempts__gt=1).exclude(attempts=8).count(),
            "out_of_order": _out_of_order(hook), "seconds": round(seconds, 1),
            "deliveries_per_second": round(count / seconds, 1),
            "left_each_minute": progress, "load_average_1min": {"before": load, "during": during}}


def commit_to_delivery(seconds: float) -> dict:
    """One worker publishes and delivers while 4 processes issue tickets."""
    import issue_tickets

    from compliance.models import EVENT_TYPES, OutboundEvent, Publication, WebhookDelivery

    process, url = receiver()
    hook = subscription(url, EVENT_TYPES)
    reviewer = issue_tickets.bench_reviewer().pk
    tier = issue_tickets.bench_tiers()["general"]
    tickets = int(seconds * 150)
    shops = issue_tickets.build_shops(-(-tickets // issue_tickets.PER_SHOP), start=50_000,
                                      products=issue_tickets.PER_SHOP, merchant=True)
    connections.close_all()
    load = load_average()
    procs = workers(1, DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS="true")
    try:
        time.sleep(2)
        first = OutboundEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
        outcome = issue_tickets.run("webhooks load", key=f"wh{int(time.time())}", workers=4, shop_ids=shops,
                                    tier_id=tier, reviewer_id=reviewer, tickets=tickets, one_shop=False)
        during = load_average()
        deadline = time.monotonic() + 600
        while (Publication.objects.filter(published_at=None).exists()
               or hook.deliveries.filter(status=WebhookDelivery.Status.PENDING).exists()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop(procs)
        process.terminate()
    rows = list(hook.deliveries.filter(event__position__gt=first, status="delivered")
                .values_list("event__occurred_at", "delivered_at"))
    delays = sorted((delivered - occurred).total_seconds() * 1000 for occurred, delivered in rows)
    events = OutboundEvent.objects.filter(position__gt=first).count()
    return {"tickets": outcome.get("tickets"), "tickets_per_second": outcome.get("tickets_per_second"),
            "events": events, "events_per_second_of_issuance": round(events / outcome["seconds"], 1)
            if outcome.get("seconds") else None, "delivered": len(delays),
            "p50_ms": round(statistics.median(delays), 1), "p99_ms": round(delays[max(int(len(delays) * 0.99) - 1, 0)], 1),
            "load_average_1min": {"before": load, "during": during}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=20000)
    parser.add_argument("--shops", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=20, help="how long the issuance load lasts")
    parser.add_argument("--no-latency", action="store_true", help="deliveries per second only")
    parser.add_argument("--backlog", type=int, default=0, help="events held by an hour's outage, then drained")
    parser.add_argument("--backlog-shops", type=int, default=10_000)
    parser.add_argument("--backlog-workers", type=int, default=1)
    parser.add_argument("--output", default="webhooks")
    args = parser.parse_args()
    with throwaway_database():
        from tests.factories import make_shop

        shops = [make_shop() for _ in range(args.shops)]
        result = {"date": timezone.now().isoformat(timespec="seconds"), "database": connection.vendor,
                  "machine": f"{os.cpu_count()} cores", "deliveries": []}
        for n in args.workers:
            result["deliveries"].append(deliveries(args.deliveries, shops, n))
            print(result["deliveries"][-1], flush=True)
        if args.backlog:
            result["backlog"] = backlog(args.backlog, args.backlog_shops, args.backlog_workers)
            print(result["backlog"], flush=True)
        if not args.no_latency:
            result["commit_to_delivery"] = commit_to_delivery(args.seconds)
        vendor = connection.vendor
    write_result(args.output, vendor, result)


if __name__ == "__main__":
    main()
