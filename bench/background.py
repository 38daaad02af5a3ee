"""The task engine's own figures (issue #21), on a throw-away database:

- **outbox**: e-mails delivered per second by 1 and 2 workers to a real
  SMTP server on loopback (aiosmtpd), from ``--emails`` outbox rows written
  the way ``notify`` writes them;
- **queue latency**: how long a task waits between being enqueued and a
  worker starting it (``started_at − enqueued_at`` of ``ping`` tasks
  enqueued every 50 ms), with the queue idle and while the issuance bench's
  4 processes issue tickets to shops with merchants (each ticket writes its
  e-mail and a delivery task: the queue is busy).

    DATABASE_URL=postgres://…/compliance .venv/bin/python bench/background.py [--emails 5000]

Writes ``bench/results/background-<vendor>.json``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import load_average, throwaway_database, write_result  # noqa: E402  (sets Django up)

from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
from tests.mailserver import closed_port  # noqa: E402
from tests.worker import database_url  # noqa: E402  (the test database, for another process)


def workers(count: int, **env):
    full = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_LOG_LEVEL": "WARNING",
            **{k: str(v) for k, v in env.items()}}
    return [subprocess.Popen([sys.executable, "tests/guarded_manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                              "--worker-id", f"bench-{i}", "-v", "0"], cwd=ROOT, env=full) for i in range(count)]


def stop(processes):
    """SIGTERM, as a deployment stops a worker: the task in hand makes way
    after its batch (compliance.queueing), so each stops within seconds."""
    started = time.monotonic()
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            raise SystemExit(f"a worker did not stop within 30 s of SIGTERM (pid {p.pid})") from None
    return round(time.monotonic() - started, 2)


def outbox(count: int, worker_count: int) -> dict:
    """``count`` e-mails written at once, then delivered by the workers."""
    from aiosmtpd.controller import Controller

    from compliance.models import OutboxEmail
    from shops.models import Shop

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.received += 1
            return "250 OK"

    shop = Shop.objects.first()
    now = timezone.now()
    OutboxEmail.objects.bulk_create([
        OutboxEmail(shop=shop, kind="ticket_issued", to=f"m{i}@shop.example", subject=f"罚单通知 {i}",
                    body="您的店铺收到一张罚单。" * 20, created_at=now, next_attempt_at=now) for i in range(count)],
        batch_size=2000)
    from compliance.tasks import deliver_mail

    server = Controller(Sink(), hostname="127.0.0.1", port=closed_port())
    server.start()
    load = load_average()
    procs = workers(worker_count, EMAIL_URL=f"smtp://127.0.0.1:{server.port}")
    try:
        time.sleep(2)  # the workers are up and idle
        started = time.perf_counter()
        for _ in range(worker_count):  # one delivery task per worker: each takes batches until none is left
            deliver_mail.enqueue()
        while OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING).exists():
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        stop(procs)
        server.stop()
    sent = OutboxEmail.objects.filter(status=OutboxEmail.Status.SENT).count()
    OutboxEmail.objects.all().delete()
    return {"workers": worker_count, "emails": count, "sent": sent, "received_by_server": Sink.received,
            "seconds": round(seconds, 2), "emails_per_second": round(count / seconds, 1),
            "load_average_1min": load}


def latency(seconds: float, *, busy: bool) -> dict:
    """``ping`` tasks every 50 ms for ``seconds`` (under issuance when busy)."""
    import issue_tickets
    from django_tasks_db.models import DBTaskResult

    from compliance.tasks import ping

    load = load_average()
    procs = workers(1)
    ids, load_thread = [], None
    try:
        time.sleep(2)
        if busy:
            reviewer = issue_tickets.bench_reviewer().pk
            tier = issue_tickets.bench_tiers()["general"]
            tickets = int(seconds * 150)  # about what 4 processes issue in that time
            shops = issue_tickets.build_shops(-(-tickets // issue_tickets.PER_SHOP), start=900,
                                              products=issue_tickets.PER_SHOP, merchant=True)
            connections.close_all()
            outcome = {}
            def issue():
                try:
                    outcome.update(issue_tickets.run(
                        "latency load", key=f"lat{int(time.time())}", workers=4, shop_ids=shops, tier_id=tier,
                        reviewer_id=reviewer, tickets=tickets, one_shop=False))
                except BaseException as exc:  # SystemExit included: a thread would swallow it
                    outcome["error"] = repr(exc)

            load_thread = threading.Thread(target=issue)
            load_thread.start()
            time.sleep(1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (load_thread is None or load_thread.is_alive()):
            ids.append(ping.enqueue().id)
            time.sleep(0.05)
        if load_thread is not None:
            load_thread.join()
        waited = time.monotonic() + 60
        while DBTaskResult.objects.filter(id__in=ids, started_at=None).exists() and time.monotonic() < waited:
            time.sleep(0.1)
        during_load = load_average()
    finally:
        stopped_in = stop(procs)
    delays = sorted((started - enqueued).total_seconds() * 1000 for enqueued, started in
                    DBTaskResult.objects.filter(id__in=ids).exclude(started_at=None)
                    .values_list("enqueued_at", "started_at"))
    result = {"busy": busy, "tasks": len(ids), "started": len(delays),
              "p50_ms": round(statistics.median(delays), 1),
              "p99_ms": round(delays[max(int(len(delays) * 0.99) - 1, 0)], 1),
              "max_ms": round(delays[-1], 1), "load_average_1min": {"before": load, "during": during_load},
              "worker_stopped_in_seconds": stopped_in}
    if busy:
        if "error" in outcome:
            raise SystemExit(f"the issuance load failed: {outcome['error']}")
        result["issuance"] = {k: outcome.get(k) for k in ("tickets", "tickets_per_second")}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20, help="how long to measure the queue latency")
    parser.add_argument("--output", default="background")
    args = parser.parse_args()
    with throwaway_database():
        from tests.factories import make_shop  # the same shops the tests make

        make_shop()
        result = {"date": timezone.now().isoformat(timespec="seconds"), "database": connection.vendor,
                  "machine": f"{os.cpu_count()} cores",
                  "outbox": [outbox(args.emails, n) for n in (1, 2)],
                  "queue_latency": [latency(args.seconds, busy=False), latency(args.seconds, busy=True)]}
        vendor = connection.vendor
    write_result(args.output, vendor, result)


if __name__ == "__main__":
    main()
