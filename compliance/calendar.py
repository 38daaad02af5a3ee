"""The platform's calendar (SPEC §1: Asia/Shanghai, settings.TIME_ZONE): the
one place that knows what a day, a year and a working day are. Below the
selectors and the services; imports nothing of the project.

Whole-day rules — an appeal window of 7 days, a rectification deadline of 7
days (SPEC §4, §7) — count Shanghai calendar days: ``whole_day_deadline``
is their one function, built on ``day_ends`` (the midnight that ends a day),
which is also when a certificate valid until that day expires and the
cut-off of the daily job's run for it."""

import datetime

from django.utils import timezone


def shanghai(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def shanghai_today(moment: datetime.datetime | None = None) -> datetime.date:
    return shanghai(moment or timezone.now()).date()


def point_year(moment: datetime.datetime) -> int:
    # SPEC §6.2: points reset at 23:59:59 on 31 December, Shanghai time.
    return shanghai(moment).year


def shanghai_day_start(moment: datetime.datetime) -> datetime.datetime:
    """Midnight that begins ``moment``'s calendar day in Shanghai."""
    return shanghai(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def day_ends(day: datetime.date) -> datetime.datetime:
    """The Shanghai midnight that ends ``day`` (the first moment of the next)."""
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)), timezone.get_default_timezone())
    return shanghai_day_start(noon) + datetime.timedelta(days=1)


def whole_day_deadline(start: datetime.datetime, days: int) -> datetime.datetime:
    """The last moment of the Shanghai day ``days`` days after ``start``'s:
    a ticket issued at any time on 1 May with a 7-day window may be appealed
    until 23:59:59.999999 on 8 May (SPEC §7)."""
    return shanghai(day_ends(shanghai(start).date() + datetime.timedelta(days=days))
                    - datetime.timedelta(microseconds=1))


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """``days`` working days (Monday–Friday, Shanghai calendar) after ``start``,
    at the same time of day. Public holidays are not modelled."""
    moment = shanghai(start)
    while days > 0:
        moment += datetime.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment
