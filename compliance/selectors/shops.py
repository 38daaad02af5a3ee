"""Whether a controller may open a shop (SPEC §3 re-entry)."""

import datetime

from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from compliance.exceptions import ReentryRefused
from compliance.models import PolicySettings
from shops.models import Controller, Shop


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """Calendar months, clamping the day (31 August + 6 months = 28/29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def reentry_allowed_from(controller: Controller) -> datetime.datetime | None:
    """When a controller who left voluntarily may open a shop again, or None
    when nothing holds them back (the permanent bar is checked separately)."""
    last_exit = (
        controller.shops.filter(status=Shop.Status.EXITED, ended_at__isnull=False)
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    if last_exit is None:
        return None
    return add_months(last_exit, PolicySettings.load().reentry_wait_months)


def check_reentry(controller: Controller, *, now: datetime.datetime | None = None) -> None:
    """SPEC §3 re-entry: a barred controller never opens a shop again; after a
    voluntary exit they wait the policy's number of months."""
    if controller.is_barred:
        raise ReentryRefused(
            _(
                "%(controller)s is permanently barred from opening shops "
                "(a shop was cleared for serious violations or qualification fraud)."
            )
            % {"controller": controller.name}
        )
    allowed_from = reentry_allowed_from(controller)
    now = now or timezone.now()
    if allowed_from and now < allowed_from:
        raise ReentryRefused(
            _("%(controller)s exited voluntarily and may open a new shop from %(date)s.")
            % {
                "controller": controller.name,
                "date": date_format(timezone.localtime(allowed_from), "DATE_FORMAT"),
            }
        )


def within(queryset, shops: tuple[int, int] | None, field: str = "shop_id"):
    """``queryset`` restricted to the shops with IDs in ``[lo, hi)`` — one
    shard of the daily job (services.daily) — or all of it for None."""
    if shops is None:
        return queryset
    return queryset.filter(**{f"{field}__gte": shops[0], f"{field}__lt": shops[1]})


def controllers_with_several_shops(controller_ids) -> list[int]:
    """Of ``controller_ids`` (IDs, or a query of them), those that control
    more than one shop: only their shops can have "another shop of the same
    controller" (SPEC §8's re-check). One grouped read of the shops."""
    return list(Shop.objects.filter(controller__in=controller_ids).values("controller")
                .annotate(shops=Count("id")).filter(shops__gt=1).values_list("controller", flat=True))
