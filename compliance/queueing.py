"""What the queues the workers drain have in common — e-mail's outbox, the
events relay and webhook deliveries (STYLE §21):

- ``wake(task path)``: queue the task unless one already waits to start.
  Under a burst (a ticket a second, each writing e-mail and events) one task
  takes everything in batches instead of a task each crowding the queue.
  Called in the transaction that wrote the rows, so the task commits with
  them; every worker's heartbeat calls it too (``sweep``s), which catches the
  one case coalescing misses: a waiting task that started before that
  transaction committed. ``wake_at``: the same for a retry's time.
- ``Share``: how much one task takes before it makes way — a number of rows,
  ``TASK_SHARE_SECONDS`` of work, or less when its worker is asked to stop
  (``stopping``) or work someone waits for is queued (``WAITED_FOR``: the
  day's next shards, a job a user follows), so a worker told to stop stops
  after the batch in hand, a backlog never holds a worker away from other
  queues for long, and a worker that took e-mail or the events relay while
  the day's run waited at a stage's end is back for its next shards within a
  batch. The task queues another for the rest (``wake``)."""

import math
import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from compliance.selectors.tasks import daily_run_under_way, priority_waiting, task_waiting

# The priority of work someone waits for (compliance.tasks: the daily run's
# shards, a user's job): it goes before e-mail, the relay and webhooks, and a
# task draining one of those makes way for it after the batch in hand.
WAITED_FOR = 10

# While the day's run is under way a queue's batch is this many times smaller (Share).
SMALL_BATCH_DIVISOR = 10

# Set in a worker process when it is asked to stop (compliance.worker): the
# task running finishes its batch and returns; what is left waits for the
# next worker. Process state, not a request's.
stopping = threading.Event()


# Task path → when this process last knew (committed) that such a task
# waited: ``wake(coalesce=True)`` does not ask again for WAKE_COALESCE_SECONDS.
# Process state, not a request's.
_known_waiting: dict[str, float] = {}


def wake(task_path: str, *, coalesce: bool = False) -> bool:
    """Queue the task at ``task_path`` unless one waits to start. Returns
    whether it queued one.

    ``coalesce`` (the writers that wake on every ticket: the journal's
    publications, a merchant's e-mail): once this process has seen such a
    task waiting, or queued one and committed, it does not ask again for
    ``WAKE_COALESCE_SECONDS`` — a statement fewer for every ticket issued
    (bench/RESULTS.md). The cost: a row written in that window just after
    the task it counted on took its last batch waits for the next wake-up —
    this process's next one, another's, or a worker's heartbeat
    (``WORKER_BEAT_SECONDS``)."""
    if coalesce and time.monotonic() - _known_waiting.get(task_path, -math.inf) < settings.WAKE_COALESCE_SECONDS:
        return False
    queued = not task_waiting(task_path)
    if queued:
        import_string(task_path).enqueue()
    # Known once committed: a rolled-back transaction takes its task with it.
    transaction.on_commit(lambda: _known_waiting.__setitem__(task_path, time.monotonic()))
    return queued


def wake_at(task_path: str, at) -> bool:
    """Queue the task at ``task_path`` to start at ``at`` (a retry's time),
    unless one already waits to start by then — a second would find nothing
    to do. ``at`` past: ``wake``. Returns whether it queued one."""
    if at <= timezone.now():
        return wake(task_path)
    if DBTaskResult.objects.filter(status="READY", task_path=task_path, run_after__lte=at).exists():
        return False
    import_string(task_path).using(run_after=at).enqueue()
    return True


class Share:
    """A task's share of a queue: up to ``limit`` rows, for up to
    ``TASK_SHARE_SECONDS``, while its worker is not stopping and no work
    someone waits for is queued (one indexed probe a batch) — one batch
    whatever the clock says. ``take(n)`` says how many to ask for next (0:
    the share is used up or the queue empty); ``took`` counts a batch."""

    def __init__(self, limit: int):
        self.limit = limit
        self.done = 0
        self.emptied = False
        self._until = time.monotonic() + settings.TASK_SHARE_SECONDS

    def take(self, batch: int) -> int:
        if self.emptied or self.done >= self.limit:
            return 0
        if self.done and (time.monotonic() >= self._until or stopping.is_set() or priority_waiting(WAITED_FOR)):
            return 0  # a batch at least: every task moves the queue on
        if daily_run_under_way():
            # A worker between two stages of the day's run takes a tenth of a batch at a time, so
            # that it is back for the next stage's shards within a small batch (bench/RESULTS.md).
            batch = max(1, batch // SMALL_BATCH_DIVISOR)
        return min(batch, self.limit - self.done)

    def took(self, count: int, asked: int | None = None) -> None:
        """A batch of ``count``: none, or fewer than ``asked`` where a batch
        takes everything due, means the queue is empty. (Webhook deliveries
        take each shop's first only: a short batch may uncover the next.)"""
        self.done += count
        if count == 0 or (asked is not None and count < asked):
            self.emptied = True

    @property
    def more(self) -> bool:
        """Whether rows may be left: the share ran out before the queue did."""
        return not self.emptied
