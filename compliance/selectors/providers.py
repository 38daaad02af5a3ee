"""Industry-belt service providers (SPEC §9) as the renewal assessment
reads them: who is in a campaign's scope, the orders their bound shops
made, and the explanation of a result."""

from django.conf import settings
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from compliance.models import RenewalCampaign
from compliance.models.base import in_chinese
from shops.formats import money
from shops.models import ProviderBinding, ServiceProvider


def in_scope(campaign: RenewalCampaign):
    """Certified providers certified (and, when known, formally converted)
    before the campaign's days."""
    providers = ServiceProvider.objects.filter(status=ServiceProvider.Status.CERTIFIED,
                                               certified_on__lt=campaign.certified_before)
    if campaign.converted_before:
        providers = providers.filter(Q(converted_on=None) | Q(converted_on__lt=campaign.converted_before))
    return providers


def orders_counted(campaign: RenewalCampaign, provider_ids) -> dict[int, int]:
    """Each provider's bound shops' paid orders in the period, gift orders
    excluded, a shop's orders counting only on the days it was bound — one
    aggregate query over the bindings and the daily orders."""
    # One filter() call: every condition on the daily orders applies to the same joined row.
    day = "shop__daily_orders__day"
    bound = (
        ProviderBinding.objects.filter(
            Q(provider__in=list(provider_ids)), Q(**{f"{day}__gte": campaign.period_start}),
            Q(**{f"{day}__lte": campaign.period_end}), Q(**{f"{day}__gte": F("starts_on")}),
            Q(ends_on=None) | Q(**{f"{day}__lte": F("ends_on")}))
        .values("provider")
        .annotate(total=Coalesce(Sum(F("shop__daily_orders__paid_orders") - F("shop__daily_orders__gift_orders")), 0))
    )
    return {row["provider"]: row["total"] for row in bound}


def renewal_explanation(campaign, *, orders, deposit, paid_on, orders_ok, deposit_ok) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        parts = [
            _("Paid orders of bound shops in %(start)s – %(end)s, gift orders excluded: %(orders)s (%(threshold)s "
              "required).") % {"start": campaign.period_start.isoformat(), "end": campaign.period_end.isoformat(),
                               "orders": f"{orders:,}", "threshold": f"{campaign.order_threshold:,}"},
            _("Deposit: %(paid)s paid%(on)s; %(required)s required by %(end)s.") % {
                "paid": money(deposit), "on": _(" in full on %(day)s") % {"day": paid_on.isoformat()} if paid_on else "",
                "required": money(campaign.deposit_required), "end": campaign.period_end.isoformat()},
        ]
        if orders_ok and deposit_ok:
            parts.append(_("Passed."))
        else:
            failed = [text for ok, text in ((orders_ok, _("too few orders")), (deposit_ok, _("deposit not paid in full "
                                                                                             "in time"))) if not ok]
            parts.append(_("Failed: %(why)s.") % {"why": _(", ").join(failed)})
        return ("" if in_chinese() else " ").join(parts)  # Chinese sentences run on without spaces
