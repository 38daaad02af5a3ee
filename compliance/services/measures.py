"""Measures (SPEC §6.3): taking them, and deriving the shop's and products'
state from the measures still in force.

State is never "undone" step by step. After any change, the shop's status and
each touched product's status are recomputed from the live measures, so that
an effect another live ticket still causes stays in place (SPEC §7)."""

import datetime

from django.db import connection
from django.db.models import Count, Max, Q
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from compliance.models import Event, Measure, MeasureProduct
from shops.models import Product, Shop

from .events import record_event

LIVE = Measure.Status.ACTIVE


def new_measure(*, ticket, kind, at, node_application=None, ends_at=None, amount=None, details=None,
                status=LIVE) -> Measure:
    """A ticket's own measure, or with ``node_application`` a point node's (unsaved)."""
    return Measure(
        ticket=ticket, shop=ticket.shop, kind=kind, node_application=node_application,
        node=node_application.node if node_application else None, ends_at=ends_at, amount=amount,
        details=details or {}, created_at=at, status=status,
    )


def take_measure(**kwargs) -> Measure:
    measure = new_measure(**kwargs)
    measure.save(force_insert=True)
    return measure


def take_product_measure(*, ticket, kind, products, at, node_application=None) -> Measure | None:
    """Delist or ban ``products`` (a measure of their own)."""
    products = list(products)
    if not products:
        return None
    measure = take_measure(ticket=ticket, kind=kind, at=at, node_application=node_application)
    hold_products([measure], products)
    return measure


# The links of newly taken measures to the products they hold, each with the
# product's base status — the one its latest live link recorded, or else its
# status now — read by the INSERT itself, before the links exist. Written
# out: the ORM took four times longer to assemble it than to run it, on
# every ticket that delists (bench/RESULTS.md, issuance). Portable SQL.
HOLD_SQL = (
    f"INSERT INTO {MeasureProduct._meta.db_table} (measure_id, product_id, previous_status) "
    f"SELECT held.column1, p.id, COALESCE("
    f"(SELECT link.previous_status FROM {MeasureProduct._meta.db_table} link "
    f"JOIN {Measure._meta.db_table} measure ON measure.id = link.measure_id "
    f"WHERE link.product_id = p.id AND measure.status = %s ORDER BY link.measure_id DESC LIMIT 1), p.status) "
    f"FROM {Product._meta.db_table} p, (VALUES {{measures}}) AS held WHERE p.id IN ({{products}})"
)
# Then the products go off sale unless already as far off: banned beats delisted (SPEC §6.3).
OFF_SALE_SQL = (f"UPDATE {Product._meta.db_table} SET status = %s "
                f"WHERE id IN ({{products}}) AND status NOT IN ({{kept}})")
HOLD_CHUNK = 1000


def hold_products(measures, products) -> None:
    """``products`` held by newly taken (saved) delisting or ban measures:
    each link remembers the product's status before any measure (its base
    status), so that the last reversal restores it; then the products go
    off sale — banned beats delisted (SPEC §6.3). Two statements for up to
    HOLD_CHUNK products."""
    products = list(products)
    if not measures or not products:
        return
    if any(measure.kind == Measure.Kind.BAN for measure in measures):
        status, kept = Product.Status.BANNED, [Product.Status.BANNED]
    else:
        status, kept = Product.Status.DELISTED, [Product.Status.BANNED, Product.Status.DELISTED]
    ids = [p.pk for p in products]
    with connection.cursor() as cursor:
        for start in range(0, len(ids), HOLD_CHUNK):
            chunk = ids[start:start + HOLD_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(HOLD_SQL.format(measures=", ".join(["(CAST(%s AS BIGINT))"] * len(measures)),
                                           products=placeholders),
                           [str(LIVE), *(measure.pk for measure in measures), *chunk])
            cursor.execute(OFF_SALE_SQL.format(products=placeholders, kept=", ".join(["%s"] * len(kept))),
                           [str(status), *chunk, *map(str, kept)])


def refresh_products(product_ids) -> None:
    """Banned beats delisted beats the base status (SPEC §6.3)."""
    product_ids = list(product_ids)
    live = {}
    for product_id, kind in MeasureProduct.objects.filter(
        product_id__in=product_ids, measure__status=LIVE
    ).values_list("product_id", "measure__kind"):
        live.setdefault(product_id, set()).add(kind)
    # The latest link knows the latest base status (dict() keeps the last).
    base = dict(
        MeasureProduct.objects.filter(product_id__in=product_ids).order_by("measure_id")
        .values_list("product_id", "previous_status")
    )
    changes: dict[str, list[int]] = {}
    for pk, status in Product.objects.filter(pk__in=product_ids).values_list("pk", "status"):
        kinds = live.get(pk, set())
        if Measure.Kind.BAN in kinds:
            wanted = Product.Status.BANNED
        elif Measure.Kind.DELIST in kinds:
            wanted = Product.Status.DELISTED
        else:
            wanted = base.get(pk, status)
        if status != wanted:
            changes.setdefault(wanted, []).append(pk)
    # One UPDATE per resulting status, however many products a clearance touches.
    for wanted, pks in changes.items():
        Product.objects.filter(pk__in=pks).update(status=wanted, changed_at=Now())


def refresh_shop_status(shop: Shop, *, now: datetime.datetime, actor=None, ticket=None, reason="") -> None:
    """Open, suspended or cleared, from the shop's live measures. A closed or
    exited shop is the merchant's or the contract's doing, not a measure's."""
    if shop.status in (Shop.Status.CLOSED, Shop.Status.EXITED):
        return
    before = (shop.status, shop.suspended_until, shop.ended_at)
    # One statement: is a clearance in force, and the latest suspension end.
    live = Measure.objects.filter(shop=shop, status=LIVE, kind__in=[Measure.Kind.CLEAR, Measure.Kind.SUSPEND])
    found = live.aggregate(clear=Count("id", filter=Q(kind=Measure.Kind.CLEAR)),
                           until=Max("ends_at", filter=Q(kind=Measure.Kind.SUSPEND, ends_at__gt=now)))
    if found["clear"]:
        shop.status, shop.suspended_until = Shop.Status.CLEARED, None
        shop.ended_at = shop.ended_at or now
    else:
        # SPEC §6.2: suspensions extend to the latest end, never add up.
        until = found["until"]
        shop.status = Shop.Status.SUSPENDED if until else Shop.Status.OPEN
        shop.suspended_until = until
        shop.ended_at = None
    if (shop.status, shop.suspended_until, shop.ended_at) == before:
        return
    shop.save(update_fields=["status", "suspended_until", "ended_at", "updated_at"])
    if shop.status != before[0]:
        # Derived from the measures in force (STYLE §17), not a workflow of its own: recorded, not declared.
        record_event(shop=shop, ticket=ticket, actor=actor, action=Event.Action.SHOP_STATUS,
                     subject=Event.Subject.SHOP, subject_id=shop.pk, from_status=before[0], to_status=shop.status,
                     reason=reason, at=now,
                     data={"suspended_until": shop.suspended_until.isoformat() if shop.suspended_until else None})


def clear_shop(*, ticket, shop: Shop, at, actor, node_application=None) -> Measure:
    """SPEC §6.5: all products delisted, controller barred, the controller's
    other shops flagged for review. The alliance closure is recorded by the
    caller with the other measures of the ticket or node."""
    controller = shop.controller
    details = {"barred_controller": controller.barred_at is None, "flagged_shops": []}
    if details["barred_controller"]:
        controller.barred_at = at
        controller.barred_reason = _("Shop %(shop)s was cleared by ticket %(number)s.") % {
            "shop": shop.shop_no, "number": ticket.number}
        controller.save(update_fields=["barred_at", "barred_reason"])
    others = Shop.objects.filter(controller=controller, review_flagged_at__isnull=True).exclude(pk=shop.pk)
    details["flagged_shops"] = list(others.values_list("pk", flat=True))
    others.update(review_flagged_at=at)
    measure = take_measure(ticket=ticket, kind=Measure.Kind.CLEAR, at=at, node_application=node_application,
                           details=details)
    # Every product that is on sale or off sale only because of a measure: a
    # second clearance (the ticket's and a node's) then holds them on its own.
    under_measure = MeasureProduct.objects.filter(measure__shop=shop, measure__status=LIVE).values("product_id")
    products = shop.products.filter(
        Q(pk__in=under_measure) | ~Q(status__in=[Product.Status.DELISTED, Product.Status.BANNED]))
    take_product_measure(ticket=ticket, kind=Measure.Kind.DELIST, products=products, at=at,
                         node_application=node_application)
    record_event(shop=shop, ticket=ticket, actor=actor, subject=Event.Subject.SHOP, subject_id=shop.pk,
                 action=Event.Action.CONTROLLER_BARRED if details["barred_controller"] else Event.Action.SHOP_CLEARED,
                 reason=controller.barred_reason, data=details, at=at)
    return measure


def reverse_clearance(measure: Measure, *, at) -> None:
    """When no clearance of the controller stands any more, lift the bar and
    the review flags that its clearances set (SPEC §6.5, §7)."""
    controller = measure.shop.controller
    clearances = Measure.objects.filter(kind=Measure.Kind.CLEAR, shop__controller=controller)
    if clearances.filter(status=LIVE).exclude(pk=measure.pk).exists():
        return
    details = list(clearances.values_list("details", flat=True))
    if controller.barred_at and any(d.get("barred_controller") for d in details):
        controller.barred_at, controller.barred_reason = None, ""
        controller.save(update_fields=["barred_at", "barred_reason"])
    flagged = {pk for d in details for pk in d.get("flagged_shops") or []}
    Shop.objects.filter(pk__in=flagged).update(review_flagged_at=None)


def reverse_measures(measures, *, at, status=Measure.Status.REVERSED) -> None:
    """Reverse measures still in force (a revoked ticket's own, or a lifted
    node's) and recompute the products they held; the caller refreshes the
    shop's status. With ``status=ENDED`` the measure ran its course instead
    (a delisting whose certificate was replaced, SPEC §4)."""
    measures = [x for x in measures if x.status == LIVE]
    if not measures:
        return
    ids = [x.pk for x in measures]
    Measure.objects.filter(pk__in=ids).update(status=status, closed_at=at)
    refresh_products(MeasureProduct.objects.filter(measure_id__in=ids).values_list("product_id", flat=True))
    for measure in measures:
        if measure.kind == Measure.Kind.CLEAR and status == Measure.Status.REVERSED:
            reverse_clearance(measure, at=at)
