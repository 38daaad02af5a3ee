"""The work workers run (SPEC §10), on the Django Tasks API: each task is a
thin shell over a service and safe to run twice (a killed worker's task is
run again, compliance/worker.py)."""

from django_tasks import task

from compliance import jobs
from compliance.services import daily, outbox

# E-mail before the daily job's shards: a merchant's notice should not wait
# behind a million rows of bookkeeping.
MAIL_PRIORITY = 10


@task(priority=MAIL_PRIORITY)
def deliver_mail() -> dict:
    """Send the outbox's due e-mails (services.outbox)."""
    return outbox.deliver()


@task(queue_name="daily")
def daily_shard(shard_id: int) -> int | None:
    """One shard of one step of the daily job (services.daily.run_shard)."""
    return daily.run_shard(shard_id)


@task(queue_name="jobs")
def run_job(job_id: int) -> str:
    """A job a user started in the admin (compliance.jobs)."""
    return jobs.run(job_id)


@task()
def ping() -> str:
    """Does nothing: how long it waits for a worker is the queue's latency
    (bench/background.py; a health check may enqueue it too)."""
    return "pong"
