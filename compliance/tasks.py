"""The work workers run (SPEC §10), on the Django Tasks API: each task is a
thin shell over a service and safe to run twice (a killed worker's task is
run again, compliance/worker.py)."""

from django_tasks import task

from compliance import jobs
from compliance.services import daily, outbox

# Every task has the same priority: first queued, first run, so no kind of
# work can starve another (a priority for e-mail kept every other task
# waiting while tickets were being issued: bench/RESULTS.md). A platform that
# wants e-mail never to wait behind the daily job runs a worker of its own
# for the "mail" queue (README).
@task(queue_name="mail")
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
