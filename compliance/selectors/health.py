"""The portal's health page (SPEC §6): everything it shows of a shop, read in
one go and kept for a minute under a key that changes whenever what it
shows can have changed — the merchants' most-opened page answers in
≤ 20 ms at a million tickets (bench/RESULTS.md), one statement when nothing
has changed instead of fourteen."""

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from compliance.calendar import shanghai_today
from compliance.models import Event, PolicySettings, QualificationGap, Ticket
from shops.models import Shop, ShopScore

from .alliance import ScoreTrend, alliance_summary, score_trend
from .qualifications import Certificates, shop_certificates
from .standing import MerchantHealth, Standing, merchant_health, shop_standing

# What no revision below notices shows on the page within this many seconds
# — as fresh as the alliance criteria's own cache (selectors.alliance): a
# score re-imported for a day already there, a sibling shop's ticket (the
# controller criterion), a change of the policy's figures or of the point
# nodes, a product renamed.
HEALTH_PAGE_SECONDS = 60


@dataclass
class HealthPage:
    standing: Standing
    health: MerchantHealth
    certificates: Certificates
    alliance: tuple  # (membership, eligibility or None)
    trend: ScoreTrend
    recent: list  # the five latest tickets
    key: str = ""  # the cache key: the template keeps its sections under it too


def health_revision(shop: Shop) -> str:
    """Changes whenever something the health page shows of ``shop`` can have
    changed. Every status change and every step (a ticket issued, a measure
    lifted, a warning answered, a certificate approved) writes an Event of
    the shop (STYLE §20; the journal is append-only), so
    their count moves — a count, not the last ID, so that a transaction that
    commits after a later one still changes it. The certificate check opens
    and resolves gaps without events: their counts; the scores are imported
    a day at a time: the latest day. The deposit, status and score are the
    shop row's, which the page reads afresh. One statement over indexes."""
    quote = connection.ops.quote_name
    event, gap, score = (quote(m._meta.db_table) for m in (Event, QualificationGap, ShopScore))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {event} WHERE shop_id = %s),"
            f" (SELECT COUNT(*) FROM {gap} WHERE shop_id = %s),"
            f" (SELECT COUNT(*) FROM {gap} WHERE shop_id = %s AND resolved_at IS NULL),"
            f" (SELECT MAX(day) FROM {score} WHERE shop_id = %s)", [shop.pk] * 4)
        return "-".join(str(value) for value in cursor.fetchone())


def health_page(shop: Shop, *, now: datetime.datetime | None = None) -> HealthPage:
    """The health page's reads of ``shop`` (the merchant's own, from
    MerchantScope), as of ``now``. Kept per shop, revision, day (the
    certificates' horizon, the point year) and language (the alliance
    criteria's sentences); what depends on the hour — which appeal windows
    and warnings are still open, the days and hours left — is worked out
    again on every request."""
    now = now or timezone.now()
    key = f"health-page:{shop.pk}:{health_revision(shop)}:{shanghai_today(now).isoformat()}:{get_language()}"
    page = cache.get(key)
    if page is None:
        page = _read(shop, now)
        page.key = key
        cache.set(key, page, HEALTH_PAGE_SECONDS)
    # The shop row is the request's own (status, deposit, score are read afresh each time).
    page.standing.shop = shop
    page.health.as_of(now)
    return page


def _read(shop: Shop, now: datetime.datetime) -> HealthPage:
    policy = PolicySettings.load()
    return HealthPage(
        standing=shop_standing(shop, now=now), health=merchant_health(shop, now=now, policy=policy),
        certificates=shop_certificates(shop, now=now, full=False, policy=policy),
        alliance=alliance_summary(shop, cached=True), trend=score_trend(shop, now=now),
        recent=list(Ticket.objects.filter(shop=shop).select_related("rule").order_by("-issued_at", "-id")[:5]),
    )
