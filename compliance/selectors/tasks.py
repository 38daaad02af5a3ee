"""The task queue, read where work is queued (STYLE §21: coalesced wake-ups)."""

import datetime

from django.db import connections, router
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from compliance.models import DailyRun


def task_waiting(task_path: str) -> bool:
    """Whether a task of ``task_path`` waits to start (ready now). Every
    ticket asks (its e-mail's and its events' wake-ups): one written-out probe
    of the queue's partial index of ready tasks — the ORM's ``ready()`` took
    longer to assemble than the database took to answer (bench/RESULTS.md)."""
    return _ready("task_path = %s", task_path)


def priority_waiting(priority: int) -> bool:
    """Whether a task of at least ``priority`` waits to start (ready now):
    the same index, read in its own order (priority first). A task draining
    e-mail, the relay or webhooks asks after each batch (queueing.Share)."""
    return _ready("priority >= %s", priority)


# A run not finished this long after it started is no longer followed (no
# worker ran it, or its command gave up): the queues stop making way for it.
RUN_FOLLOWED = datetime.timedelta(hours=1)


def daily_run_under_way() -> bool:
    """Whether a run of the daily job is under way: each of its stages ends
    by queueing the next, which a worker taking e-mail or the relay in the
    meantime would hold up for as long as its batch (queueing.Share)."""
    return DailyRun.objects.filter(finished_at=None, started_at__gte=timezone.now() - RUN_FOLLOWED).exists()


def _ready(condition: str, value) -> bool:
    connection = connections[router.db_for_read(DBTaskResult)]
    run_after = DBTaskResult._meta.get_field("run_after")
    moments = [run_after.get_db_prep_value(moment, connection) for moment in (get_date_max(), timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {DBTaskResult._meta.db_table} WHERE status = %s AND {condition} "
                       "AND (run_after = %s OR run_after <= %s) LIMIT 1", ["READY", value, *moments])
        return cursor.fetchone() is not None
