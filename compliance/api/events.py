"""The objects outbound events carry (SPEC §13), as the API shows them: a
ticket as ``GET /tickets/<number>/``, a warning as ``GET /warnings/<id>/``,
and the others with their serializers here. ``render`` is the relay's
(services.outbound.publish): every object of a batch read with a query per
kind, not per event."""

from collections import defaultdict

from compliance.models import (
    AllianceMembership, Appeal, DepositEntry, Measure, MeasureProduct, Qualification, RectificationNotice, Ticket,
    ViolationWarning,
)
from shops.models import ServiceProvider

from . import serializers as s


def _tickets(ids):
    tickets = Ticket.objects.select_related("shop", "rule", "tier").in_bulk(ids)
    warnings = dict(ViolationWarning.objects.filter(ticket_id__in=ids).values_list("ticket_id", "number"))
    measures = defaultdict(list)
    for measure in Measure.objects.filter(ticket_id__in=ids).select_related("ticket").order_by("id"):
        measures[measure.ticket_id].append(measure)
    return _shown(s.TicketOut, {pk: {**{f: getattr(t, f) for f in (
        "number", "shop", "rule", "tier", "violation_class", "points", "deposit_amount", "status", "issued_at",
        "appeal_deadline", "revoked_at")}, "warning": warnings.get(pk), "measures": measures[pk]}
        for pk, t in tickets.items()})


def _measures(ids):
    rows = Measure.objects.select_related("ticket", "node").in_bulk(ids)
    products = defaultdict(list)
    for measure_id, product_no in (MeasureProduct.objects.filter(measure_id__in=ids).order_by("id")
                                   .values_list("measure_id", "product__product_no")):
        products[measure_id].append(product_no)
    for pk, measure in rows.items():
        measure.products_held = products[pk]
        measure.point_node = measure.node.threshold if measure.node_id else None
    return _shown(s.EventMeasureOut, {pk: {"id": m.pk, "kind": m.kind, "status": m.status, "ends_at": m.ends_at,
                                           "ticket": m.ticket, "amount": m.amount, "products": m.products_held,
                                           "point_node": m.point_node}
                                      for pk, m in rows.items()})


def _shown(serializer, objects: dict) -> dict:
    """``{pk: object}`` → ``{pk: the object as the API shows it}``: one
    serializer for the lot (``many=True`` builds its fields once, not per
    object — most of a relay batch's time before)."""
    return dict(zip(objects, serializer(list(objects.values()), many=True).data))


def _each(queryset, serializer):
    def read(ids):
        return _shown(serializer, queryset.in_bulk(ids))
    return read


READERS = {
    "ticket": _tickets,
    "measure": _measures,
    "deposit": _each(DepositEntry.objects.select_related("ticket"), s.DepositOut),
    "appeal": _each(Appeal.objects.select_related("ticket"), s.AppealOut),
    "warning": _each(ViolationWarning.objects.select_related("shop", "rule", "tier", "ticket"), s.WarningOut),
    "certificate": _each(Qualification.objects.select_related("shop", "qualification_type"), s.EventCertificateOut),
    "notice": _each(RectificationNotice.objects.select_related("qualification__qualification_type", "ticket"),
                    s.NoticeOut),
    "alliance": _each(AllianceMembership.objects.select_related("shop"), s.AllianceOut),
    "provider": _each(ServiceProvider.objects.all(), s.ProviderOut),
}


def render(items: list[tuple[str, int]]) -> list[dict]:
    """For each (kind, ID), the object as the API shows it ({} if it is gone)."""
    wanted = defaultdict(set)
    for kind, pk in items:
        wanted[kind].add(pk)
    shown = {kind: READERS[kind](sorted(ids)) for kind, ids in wanted.items()}
    return [dict(shown[kind].get(pk, {})) for kind, pk in items]
