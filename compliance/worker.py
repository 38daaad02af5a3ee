"""The worker process (``manage.py db_worker``): django-tasks-db's worker,
plus a heartbeat so that a worker killed mid-task does not leave its task
"running" for ever.

Every worker writes its heartbeat (``WorkerBeat``) every
``WORKER_BEAT_SECONDS`` from a thread of its own, and at each beat looks for
workers silent for ``WORKER_LEASE_SECONDS``: the tasks they were running go
back to the queue (READY) for any worker to take. Every task is safe to run
again (SPEC §10): the daily job's shards find only what is still due, the
outbox sends only what is not marked sent. The beat also queues the work no
task is waiting for: e-mails due (services.outbox), journal steps to publish
(services.outbound) and webhook deliveries due (services.deliveries)."""

import gc
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult

# The tasks a worker runs, imported as it starts rather than by its first task
# (with the API's renderer they take ~0.4 s to import: the first shard of a
# daily run waited for them).
from compliance import queueing, tasks  # noqa: F401
from compliance.models import WorkerBeat
from compliance.services import deliveries, outbound, outbox

logger = logging.getLogger(__name__)

GC_YOUNG_THRESHOLD = 10_000  # allocations between two collections of the youngest generation (Worker.run)


def requeue_lost(now=None) -> int:
    """Tasks held by workers whose heartbeat stopped go back to the queue.
    Returns how many."""
    now = now or timezone.now()
    horizon = now - timezone.timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    with transaction.atomic():
        lost = list(WorkerBeat.objects.select_for_update(skip_locked=True)
                    .filter(stopped_at=None, beat_at__lt=horizon).values_list("worker_id", flat=True))
        if not lost:
            return 0
        lost_ids = set(lost)
        running = [task.pk for task in DBTaskResult.objects.select_for_update(skip_locked=True)
                   .filter(status="RUNNING").only("id", "worker_ids")
                   if task.worker_ids and task.worker_ids[-1] in lost_ids]
        requeued = DBTaskResult.objects.filter(pk__in=running, status="RUNNING").update(status="READY",
                                                                                          started_at=None)
        WorkerBeat.objects.filter(worker_id__in=lost).update(stopped_at=now)
    if requeued:
        logger.warning("%d task(s) of %d lost worker(s) queued again", requeued, len(lost))
    return requeued


class Worker(DBWorker):
    """django-tasks-db's worker with a heartbeat (module docstring)."""

    def run(self) -> None:
        # A worker runs task after task: it keeps its database connection
        # (the library closes it after each task when CONN_MAX_AGE is 0, as a
        # web process's is, and a new one costs more than a small task).
        for alias in connections:
            connections[alias].settings_dict["CONN_MAX_AGE"] = settings.WORKER_CONN_MAX_AGE
            if connections[alias].vendor == "postgresql" and not settings.WORKER_JIT:
                # PostgreSQL's JIT compiles a query it estimates as costly: the daily
                # job's set-based statements, over the large tables, are, and it
                # spent longer compiling them than running them (bench/RESULTS.md:
                # the whole job 15.7 s with JIT, 10.4 s without). Off for workers.
                options = connections[alias].settings_dict.setdefault("OPTIONS", {})
                options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        # Python's cycle collector: what the start-up imported stays for the process's life, so it is
        # set aside (gc.freeze) rather than walked by every full collection; and the youngest
        # generation is collected every GC_YOUNG_THRESHOLD allocations, not 700 — a daily step
        # builds tens of thousands of short-lived rows, and the collector took 0.2 s of the day's
        # run at a million tickets (bench/RESULTS.md), now ~0.01 s. Garbage in cycles waits a little
        # longer: a few megabytes at most.
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        now = timezone.now()
        WorkerBeat.objects.update_or_create(worker_id=self.worker_id, defaults={
            "host": socket.gethostname()[:200], "pid": os.getpid(), "started_at": now, "beat_at": now,
            "stopped_at": None})
        requeue_lost()
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), name="worker-heartbeat", daemon=True)
        beat.start()
        try:
            super().run()
        finally:
            stop.set()
            beat.join(timeout=settings.WORKER_BEAT_SECONDS + 5)
            WorkerBeat.objects.filter(worker_id=self.worker_id).update(stopped_at=timezone.now())

    def shutdown(self, signum, frame) -> None:
        """Asked to stop: the queue a task is draining makes way after the
        batch in hand (compliance.queueing), then the library's worker ends."""
        queueing.stopping.set()
        super().shutdown(signum, frame)

    def _beat(self, stop: threading.Event) -> None:
        """The heartbeat thread, on its own database connection."""
        try:
            while not stop.wait(settings.WORKER_BEAT_SECONDS):
                try:
                    WorkerBeat.objects.filter(worker_id=self.worker_id).update(beat_at=timezone.now(), stopped_at=None)
                    requeue_lost()
                    outbox.sweep()
                    outbound.sweep()
                    deliveries.sweep()
                except Exception:  # a database blip: the next beat tries again
                    logger.exception("worker heartbeat failed")
                    close_old_connections()
        finally:
            connection.close()
