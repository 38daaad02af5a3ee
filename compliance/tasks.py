"""The work workers run (SPEC §10), on the Django Tasks API: each task is a
thin shell over a service and safe to run twice (a killed worker's task is
run again, compliance/worker.py)."""

from django_tasks import task

from compliance import jobs
from compliance.api.events import render
from compliance.queueing import WAITED_FOR
from compliance.services import daily, deliveries, outbound, outbox

# Work someone is waiting for — the day's run (its command waits, and the
# next step waits for the last shard of this one) and a job a user follows in
# the admin — goes first; e-mail and everything else share the default
# priority, first queued, first run. The daily run and a job end, so they
# delay e-mail by their length at most and cannot starve it (a priority for
# e-mail, which is written without end while tickets are issued, kept every
# other task waiting: bench/RESULTS.md). The portal message is there at once;
# its e-mail copy follows. A platform that wants e-mail never to wait runs a
# worker of its own for the "mail" queue (README). (queueing.WAITED_FOR: a task
# draining e-mail, the relay or webhooks makes way for it after a batch.)


@task(queue_name="mail")
def deliver_mail() -> dict:
    """Send the outbox's due e-mails (services.outbox)."""
    return outbox.deliver()


@task(queue_name="daily", priority=WAITED_FOR)
def daily_shard(shard_id: int) -> int | None:
    """One shard of one step of the daily job (services.daily.run_shard)."""
    return daily.run_shard(shard_id)


@task(queue_name="jobs", priority=WAITED_FOR)
def run_job(job_id: int) -> str:
    """A job a user started in the admin (compliance.jobs)."""
    return jobs.run(job_id)


@task(queue_name="events")
def publish_events() -> int:
    """Turn the journal's new publications into outbound events and their
    deliveries (services.outbound). Before e-mail: deliveries and the feed
    wait for it. Queues another for the rest of a large backlog."""
    return outbound.publish_all(render)


@task(queue_name="webhooks")
def deliver_webhooks() -> dict:
    """POST due deliveries to the receivers (services.deliveries)."""
    return deliveries.deliver()


@task()
def ping() -> str:
    """Does nothing: how long it waits for a worker is the queue's latency
    (bench/background.py; a health check may enqueue it too)."""
    return "pong"
