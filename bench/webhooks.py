"""Outbound events' figures (issue #22), on a throw-away database:

- **deliveries**: webhook deliveries per second by 1 and 4 worker processes
  to a receiver on loopback (a process of its own answering 200), from
  ``--deliveries`` events of ``--shops`` shops written as the relay writes
  them (one subscription; each shop's events in sequence);
- **commit to delivery**: while 4 processes issue tickets (the issuance
  bench's general tier, shops with merchants) and one worker publishes and
  delivers, the time from each event's decision to its delivery — p50, p99
  — and the events produced per second.

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

from django.db import connection, connections  # noqa: E402
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
    from compliance.models.base import copy_rows
    from compliance.tasks import deliver_webhooks

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
    copy_rows([WebhookDelivery(subscription=hook, event=e, stream=e.shop_id, sequence=e.sequence, created_at=now,
                               next_attempt_at=now) for e in events])
    load = load_average()
    procs = workers(worker_count, DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS="true")
    try:
        time.sleep(2)
        started = time.perf_counter()
        for _ in range(worker_count):
            deliver_webhooks.enqueue()
        pending = hook.deliveries.filter(status=WebhookDelivery.Status.PENDING)
        while pending.exists():
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        during = load_average()
    finally:
        stop(procs)
        process.terminate()
    out_of_order = _out_of_order(hook)
    WebhookSubscription.objects.filter(pk=hook.pk).update(status=WebhookSubscription.Status.DELETED)
    return {"workers": worker_count, "deliveries": count, "shops": shop_count,
            "delivered": hook.deliveries.filter(status="delivered").count(), "out_of_order": out_of_order,
            "seconds": round(seconds, 2), "deliveries_per_second": round(count / seconds, 1),
            "load_average_1min": {"before": load, "during": during}}


def _out_of_order(hook) -> int:
    """Deliveries delivered before an earlier one of their shop (must be 0)."""
    late = 0
    for stream in hook.deliveries.values_list("stream", flat=True).distinct():
        sequences = list(hook.deliveries.filter(stream=stream).order_by("delivered_at", "id")
                         .values_list("sequence", flat=True))
        late += sum(1 for a, b in zip(sequences, sequences[1:]) if b < a)
    return late


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
        if not args.no_latency:
            result["commit_to_delivery"] = commit_to_delivery(args.seconds)
        vendor = connection.vendor
    write_result(args.output, vendor, result)


if __name__ == "__main__":
    main()
