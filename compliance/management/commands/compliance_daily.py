import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.services.daily import STEPS, cutoff_for


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Run the daily compliance jobs for a date (default: today, Asia/Shanghai). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=str, help="YYYY-MM-DD; default today in Asia/Shanghai")

    def handle(self, *args, **options):
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        day = parse_date(options["date"]) if options["date"] else today
        if day > today:
            raise CommandError(f"--date {day} is in the future; the daily job only runs for today or earlier.")
        cutoff = cutoff_for(day)
        self.stdout.write(f"compliance_daily for {day} (cut-off {timezone.localtime(cutoff):%Y-%m-%d %H:%M:%S %Z})")
        for name, step in STEPS:
            started = time.perf_counter()
            count = step(cutoff)
            self.stdout.write(f"  {name}: {count} ({time.perf_counter() - started:.1f} s)")
