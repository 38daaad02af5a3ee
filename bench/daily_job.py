"""The whole daily job at a million tickets, run by 1 and by 2 worker
processes (SPEC §10; issue #21's targets).

    DATABASE_URL=postgres://…/compliance_scale_base .venv/bin/python bench/daily_job.py [--workers 1 2]

``DATABASE_URL`` names a database loaded by ``scale_load.py`` and never run
on: it is the template. For each worker count a copy is made
(``CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY``: the files copied and
checkpointed — PostgreSQL 15's default writes the whole 7 GB copy to the WAL,
and the checkpoints flushing it then ran for minutes, through the run being
measured), the workers (``manage.py db_worker``) are
started on it, and ``compliance_daily --date <today>`` is timed from the
command's start to the run's end — every step, every shard — with the cores
busy meanwhile (/proc/stat: the workers, PostgreSQL and the command), then run again
for the same date once the e-mails the first run wrote are sent (the second
run must change nothing). Each worker's peak
resident memory (VmHWM) is read before it stops. What the run changed
(tickets made final, memberships closed, messages, e-mails) is compared
between the worker counts: it must be the same. The copies are dropped.

Writes ``bench/results/daily_job-postgresql.json``.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Production settings, as the workers would run (no query log, cached templates).
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "daily-bench-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")

COUNTS = {
    "tickets_final": "SELECT count(*) FROM compliance_ticket WHERE status = 'final'",
    "memberships_closed": "SELECT count(*) FROM compliance_alliancemembership WHERE status IN ('closed', 'closed_for_good')",
    "events": "SELECT count(*) FROM compliance_event",
    "messages": "SELECT count(*) FROM compliance_message",
    "emails": "SELECT count(*) FROM compliance_outboxemail",
}


def url_with(url: str, name: str) -> str:
    return re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", url, count=1) if url.count("/") >= 3 else url


def admin(url: str, sql: str) -> None:
    with psycopg.connect(url_with(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def counts(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in COUNTS.items()}


def pending(url: str) -> int:
    with psycopg.connect(url) as conn:
        # Due now: the loaded data's own e-mails waiting for a later retry are not the run's.
        return conn.execute("SELECT count(*) FROM compliance_outboxemail WHERE status = 'pending' "
                            "AND next_attempt_at <= now()").fetchone()[0]


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_reference() -> float:
    """Seconds a fixed pure-Python loop takes just before a run: the host's
    speed at that moment, beside the load average (on a shared VM the same
    loop takes 0.5–0.9 s from one minute to the next)."""
    started, total = time.perf_counter(), 0
    for i in range(5_000_000):
        total += i
    return round(time.perf_counter() - started, 3)


def cpu_ticks() -> tuple[int, int]:
    """(busy, all) jiffies of every core since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def daily(env: dict, day: str) -> tuple[float, str, float]:
    """The command's wall time, its output, and the cores busy meanwhile
    (the workers, PostgreSQL and the command together; of os.cpu_count())."""
    busy, total = cpu_ticks()
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "tests/guarded_manage.py", "compliance_daily", "--date", day], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    busy2, total2 = cpu_ticks()
    if result.returncode:
        raise SystemExit(f"compliance_daily failed:\n{result.stdout}\n{result.stderr}")
    return round(seconds, 2), result.stdout, round((busy2 - busy) / max(total2 - total, 1) * os.cpu_count(), 2)


def measure(template_url: str, workers: int, day: str, shards: int | None) -> dict:
    template = template_url.rsplit("/", 1)[1].split("?")[0]
    name = f"{template}_w{workers}"
    admin(template_url, f'DROP DATABASE IF EXISTS "{name}"')
    admin(template_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    url = url_with(template_url, name)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_LOG_LEVEL": "WARNING"}
    if shards:
        env["DAILY_SHARDS"] = str(shards)
    with psycopg.connect(url, autocommit=True) as conn:
        # The loaded data's own queued tasks (jobs the scale bench left) are not the day's:
        # the run is measured on an idle queue.
        conn.execute("DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'")
        conn.execute("ANALYZE")
    # The copy's files went through the page cache (a bench server may run with fsync off): flushed
    # now, not by the kernel while the run is measured.
    os.sync()
    before = counts(url)
    procs = [subprocess.Popen([sys.executable, "tests/guarded_manage.py", "db_worker", "--no-reload", "--interval", "0.05",
                               "--no-startup-delay", "--worker-id", f"bench-{i}", "-v", "0"], cwd=ROOT, env=env)
             for i in range(workers)]
    try:
        time.sleep(2)  # the workers are up and idle
        load = round(os.getloadavg()[0], 2)
        reference = cpu_reference()
        first, output, cores = daily(env, day)
        after = counts(url)
        # The e-mails the run wrote are sent by the same workers: the second run is timed once
        # they are out, as it would be the next time anyone runs it.
        drained = time.perf_counter()
        while pending(url):
            time.sleep(0.2)
        drained = round(time.perf_counter() - drained, 1)
        second, second_output, _cores = daily(env, day)
        again = counts(url)
        peaks = [peak_mb(p.pid) for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        admin(template_url, f'DROP DATABASE IF EXISTS "{name}"')
    changed = {key: after[key] - before[key] for key in before}
    run_seconds = float(re.search(r"done in ([0-9.]+) s", output).group(1))
    result = {"workers": workers, "seconds": first, "run_seconds": run_seconds, "cores_busy": cores,
              "cpu_count": os.cpu_count(), "second_run_seconds": second,
              "emails_still_sending_after_run_s": drained, "load_average_1min": load,
              "cpu_reference_s": reference,
              "worker_peak_rss_mb": peaks, "changed": changed,
              "second_run_changed": {key: again[key] - after[key] for key in after},
              "output": output.strip().splitlines(), "second_output": second_output.strip().splitlines()[-1:]}
    print(result, flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shards", type=int, help="shards a step (default: the settings' DAILY_SHARDS)")
    parser.add_argument("--date", help="the job's date (default: today in Asia/Shanghai)")
    parser.add_argument("--output", default="daily_job")
    args = parser.parse_args()
    template_url = os.environ["DATABASE_URL"]
    import _setup  # noqa: F401 (Django set up, for today's date and write_result)
    from django.utils import timezone

    day = args.date or timezone.localdate(timezone=timezone.get_default_timezone()).isoformat()
    runs = [measure(template_url, workers, day, args.shards) for workers in args.workers]
    same = all(run["changed"] == runs[0]["changed"] for run in runs)
    result = {"date": day, "runs": runs, "same_result_for_every_worker_count": same}
    _setup.write_result(args.output, "postgresql", result)
    if not same:
        raise SystemExit("the worker counts changed different things")


if __name__ == "__main__":
    main()
