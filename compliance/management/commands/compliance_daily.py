import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from compliance.models import DailyRun, DailyShard
from compliance.services.daily import daily_start, daily_summary


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}.") from None


def summary_lines(run: DailyRun) -> list[str]:
    return [f"  {name}: {count} ({seconds:.1f} s of work in {done}/{shards} shards)" if shards
            else f"  {name}: 0 (nothing due)" for name, count, done, shards, seconds in daily_summary(run)]


class Command(BaseCommand):
    help = ("Run the daily compliance jobs for a date (default: today, Asia/Shanghai): its steps are enqueued as "
            "tasks, split into shards of shops, for the workers (manage.py db_worker) to run. Idempotent.")
    # Run from a scheduler every day: the system checks (every URL and view
    # imported, a third of a second) are the deployment's (check --deploy), not each run's.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--date", type=str, help="YYYY-MM-DD; default today in Asia/Shanghai")
        parser.add_argument("--shards", type=int, help="shards of shops per step (default: settings.DAILY_SHARDS)")
        parser.add_argument("--no-wait", action="store_true", help="enqueue the run and return at once")
        parser.add_argument("--timeout", type=float, default=3600,
                            help="seconds to wait for the workers before giving up (the run goes on)")

    def handle(self, *args, **options):
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        day = parse_date(options["date"]) if options["date"] else today
        if day > today:
            raise CommandError(f"--date {day} is in the future; the daily job only runs for today or earlier.")
        if options["shards"] is not None and not 1 <= options["shards"] <= 1000:
            raise CommandError("--shards must be between 1 and 1000.")
        run = daily_start(day, shards=options["shards"])
        self.stdout.write(f"compliance_daily for {day} (cut-off {timezone.localtime(run.cutoff):%Y-%m-%d %H:%M:%S %Z})"
                          f": run {run.pk}, {run.shards} shards a step")
        if options["no_wait"]:
            self.stdout.write("Enqueued; the workers (manage.py db_worker) run it.")
            return
        started = checked = time.monotonic()
        # The end is noticed within 20 ms (one indexed read); a failed shard within half a second.
        while not DailyRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            time.sleep(0.02)
            if time.monotonic() - checked < 0.5:
                continue
            checked = time.monotonic()
            failed = DBTaskResult.objects.filter(
                status="FAILED", id__in=DailyShard.objects.filter(run=run).values("task_id")).first()
            if failed is not None:
                self.stdout.write("\n".join(summary_lines(run)))
                raise CommandError(f"A shard of run {run.pk} failed: {failed.exception_class_path}\n{failed.traceback}")
            if time.monotonic() - started > options["timeout"]:
                self.stdout.write("\n".join(summary_lines(run)))
                raise CommandError(f"Run {run.pk} is not finished after {options['timeout']:.0f} s: are workers "
                                   "running (manage.py db_worker)? It goes on when they are.")
        run.refresh_from_db()
        self.stdout.write("\n".join(summary_lines(run)))
        self.stdout.write(f"done in {(run.finished_at - run.started_at).total_seconds():.1f} s")
