"""Jobs (SPEC §10): work a user starts in the admin that can take longer
than a page may — previews of policy changes, large exports, uploaded
imports — runs as a task. A job belongs to the user who started it; its
status changes through ``Job.TRANSITIONS`` (who ran which export or import
is in the journal), its progress is two counters the page polls."""

import datetime
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from compliance.models import Event, Job

from .events import transition

Status = Job.Status
PROGRESS_EVERY = 0.25  # seconds: the page polls once a second; the row is not written more often than this


@dataclass
class PreviewJob:
    """A preview to run as a job: its kind and parameters (the admin's form
    checked, the changed objects serialised)."""

    kind: str
    params: dict


def serialize_objects(objects) -> list:
    """Unsaved (or changed) model instances as a job's parameters."""
    return serializers.serialize("python", objects)


def objects_of(params_objects) -> list:
    """The unsaved model instances ``serialize_objects`` described."""
    return [item.object for item in serializers.deserialize("python", params_objects)]


def job_start(*, user, kind: str, title: str, params: dict, now: datetime.datetime | None = None) -> Job:
    """Record the job and queue its task, both or neither."""
    # cycle: the task runs the job through the runners, which call services.
    from compliance.tasks import run_job

    with transaction.atomic():
        job = Job.objects.create(user=user, kind=kind, title=title[:200], params=params,
                                 language=translation.get_language() or settings.LANGUAGE_CODE,
                                 created_at=now or timezone.now())
        run_job.enqueue(job.pk)
    return job


def job_begin(job_id: int) -> Job | None:
    """The task took the job: queued → running. A job already running was
    taken by a worker that died; it is run again from the start (every
    runner is safe to run twice). None when it is finished."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status == Status.QUEUED:
            transition(job, Status.RUNNING, action=Event.Action.JOB_STARTED, at=timezone.now(), actor=job.user,
                       shop=None)
        elif job.status != Status.RUNNING:
            return None
    # The first progress: the page shows the job has started.
    Job.objects.filter(pk=job.pk).update(done=0, total=0, progress_at=timezone.now())
    return job


class Progress:
    """What a runner calls as it goes: ``progress(done, total)``. A thread of
    its own writes the latest figures every PROGRESS_EVERY seconds, on its
    own database connection: the runner may be inside a transaction (the
    page would see nothing until it commits) or in the middle of a COPY (its
    connection can run nothing else). Inside a caller's transaction — a
    test running the job in-process — nothing is written until the end."""

    def __init__(self, job: Job):
        self.job_id, self.latest, self.written = job.pk, None, None
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.thread = None
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name=f"job-{job.pk}-progress", daemon=True)
            self.thread.start()

    def __call__(self, done: int, total: int) -> None:
        with self.lock:
            self.latest = (done, total)

    def close(self) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self.stop.wait(PROGRESS_EVERY):
                self._flush()
            self._flush()
        finally:
            connection.close()

    def _flush(self) -> None:
        with self.lock:
            latest = self.latest
        if latest is None or latest == self.written:
            return
        try:
            Job.objects.filter(pk=self.job_id, status=Status.RUNNING).update(
                done=latest[0], total=latest[1], progress_at=timezone.now())
            self.written = latest
        except DatabaseError:  # SQLite busy with the job's own writes: the next beat tries again
            connection.close()


def job_finish(job: Job, *, result: dict | None = None, file: str = "") -> Job:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        job.result, job.file, job.finished_at = result, file, timezone.now()
        job.done = job.total = max(job.total, job.done)
        transition(job, Status.DONE, action=Event.Action.JOB_DONE, at=job.finished_at, actor=job.user, shop=None,
                   fields=["result", "file", "finished_at", "done", "total"])
    return job


def job_fail(job: Job, error: str) -> Job:
    """A job that could not finish says why; the user sees it in "My jobs"."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return job
        job.error, job.finished_at = error[:4000], timezone.now()
        transition(job, Status.FAILED, action=Event.Action.JOB_FAILED, at=job.finished_at, actor=job.user,
                   shop=None, reason=job.error[:500], fields=["error", "finished_at"])
    return job


def job_path(job: Job, name: str) -> Path:
    """Where a job's file is kept: private storage, served only to its user
    (the job page's download view). Workers on other hosts need this folder
    shared, as uploads already are (docs/SCALING.md)."""
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job.pk}-{name}"
