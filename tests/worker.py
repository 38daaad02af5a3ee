"""Running tasks in tests.

``drain()`` runs every ready task in this process, inside the test's
transaction, with the worker's own code (django-tasks-db's ``run_task``):
for the many tests that only need the work done.

``WorkerProcess`` is the real thing: ``manage.py db_worker`` as another
process on the test database (the outbox and daily-job tests; they commit,
``transaction=True``, so that it sees their rows)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from compliance.worker import Worker

ROOT = Path(__file__).resolve().parent.parent


def drain(limit: int = 10_000) -> int:
    """Run the ready tasks — and those they enqueue — until none is left."""
    worker = Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-drain", excluded_queue_names=[])
    ran = 0
    while ran < limit:
        with transaction.atomic():
            task = DBTaskResult.objects.ready().get_locked()
            if task is None:
                return ran
            task.claim(worker.worker_id)
        worker.run_task(task)
        task.refresh_from_db()
        assert task.status == "SUCCESSFUL", task.traceback
        ran += 1
    raise AssertionError(f"more than {limit} tasks: one keeps enqueueing another")


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WorkerProcess:
    """``manage.py db_worker`` on the test database, with a quick heartbeat
    (a killed one's task is taken over within about a second)."""

    def __init__(self, tmp_path, name="w1", **env):
        self.name, self.log = name, tmp_path / f"{name}.log"
        self.env = {**os.environ, "DATABASE_URL": database_url(), "WORKER_BEAT_SECONDS": "0.2",
                    "WORKER_LEASE_SECONDS": "1", "DJANGO_LOG_LEVEL": "WARNING",
                    **{key: str(value) for key, value in env.items()}}
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "tests/guarded_manage.py", "db_worker", "--no-reload", "--interval", "0.05", "--no-startup-delay",
             "--worker-id", self.name], cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        return self

    def kill(self):
        """SIGKILL: no clean-up at all, as when a host dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_for(condition, timeout: float = 30, what: str = "the workers"):
    """Poll ``condition`` (on this test's connection) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not finish within {timeout} s")


def run_daily(day: str, *args) -> str:
    """``compliance_daily --date day`` with its tasks run here (``drain``):
    the command's own output, then the run's summary as it prints it."""
    from io import StringIO

    from django.core.management import call_command

    from compliance.management.commands.compliance_daily import summary_lines
    from compliance.models import DailyRun

    out = StringIO()
    call_command("compliance_daily", "--date", day, "--no-wait", *args, stdout=out)
    drain()
    run = DailyRun.objects.latest("pk")
    assert run.finished_at is not None, "the run did not finish"
    return out.getvalue() + "\n".join(summary_lines(run))
