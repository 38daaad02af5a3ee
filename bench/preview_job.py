"""A policy preview as a job at a million tickets (issue #21): the time from
the admin's click (the job recorded and queued) to its first progress
update — the page's bar moves — and to its result, with one worker.

    DATABASE_URL=postgres://…/compliance_scale .venv/bin/python bench/preview_job.py [--repeat 3]

Runs on a database loaded by ``scale_load.py``; it only adds the jobs' own
rows. Writes ``bench/results/preview_job-postgresql.json``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import load_average, write_result  # noqa: E402  (sets Django up)

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from compliance.models import Job, PointNode, Rule  # noqa: E402
from compliance.services.jobs import job_start, serialize_objects  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def one(user, kind, params) -> dict:
    clicked = time.perf_counter()
    job = job_start(user=user, kind=kind, title="bench", params=params)
    first = None
    while True:
        job.refresh_from_db(fields=["status", "progress_at", "done", "total"])
        if first is None and job.progress_at is not None:
            first = time.perf_counter() - clicked
        if job.status in (Job.Status.DONE, Job.Status.FAILED):
            break
        time.sleep(0.01)
    return {"first_progress_s": round(first, 3), "result_s": round(time.perf_counter() - clicked, 2),
            "status": job.status, "shops": job.total}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default="preview_job")
    args = parser.parse_args()
    user, _ = get_user_model().objects.get_or_create(username="bench-preview", defaults={"is_staff": True})
    node = PointNode.objects.get(violation_class="A", threshold=12, is_active=True)
    node.threshold = 9
    rule = Rule.objects.filter(code="price_mismatch").order_by("-version").first()
    tier = rule.tiers.get(code="general")
    tier.deposit_amount += 1000
    kinds = {
        "node A12 → A9": (Job.Kind.NODE_PREVIEW, {"pk": node.pk, "objects": serialize_objects([node])}),
        "price mismatch, general tier +¥1,000": (Job.Kind.RULE_PREVIEW, {
            "rule_code": rule.code, "objects": serialize_objects([tier])}),
    }
    env = {**os.environ, "DJANGO_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "tests/guarded_manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                               "--worker-id", "bench-preview", "-v", "0"], cwd=ROOT, env=env)
    runs = []
    try:
        time.sleep(2)  # the worker is up and idle, as a production one waits
        for label, (kind, params) in kinds.items():
            for _ in range(args.repeat):
                load = load_average()
                runs.append({"preview": label, **one(user, kind, params), "load_average_1min": load})
                print(runs[-1], flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    summary = {label: {"first_progress_s_median": statistics.median(r["first_progress_s"] for r in runs
                                                                    if r["preview"] == label),
                       "result_s_median": statistics.median(r["result_s"] for r in runs if r["preview"] == label)}
               for label in kinds}
    write_result(args.output, connection.vendor, {"runs": runs, "summary": summary})


if __name__ == "__main__":
    main()
