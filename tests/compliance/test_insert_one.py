"""models.base.insert_one: the issuing path's INSERT compiled once per model
writes exactly the row ``save()`` writes, and steps aside where it cannot."""

import datetime

import pytest
from django.db.models import Value
from django.utils import timezone

from compliance.models import Event, PointEntry, Ticket
from compliance.models.base import insert_one
from tests.factories import issue, make_product, make_shop

pytestmark = pytest.mark.django_db


def row(model, pk):
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k != "id"}


def test_the_row_is_the_one_save_writes(reviewer):
    shop = make_shop()
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    at = timezone.now() - datetime.timedelta(hours=1)

    def event():
        return Event(shop=shop, ticket=ticket, actor=reviewer, action=Event.Action.TICKET_ISSUED,
                     subject=Event.Subject.TICKET, subject_id=ticket.pk, to_status="issued",
                     data={"points": 3, "nodes": [12], "名": "值"}, created_at=at)

    saved = event()
    saved.save(force_insert=True)  # AppendOnlyModel.save itself goes through insert_one
    inserted = insert_one(event())
    stock = event()
    Event.save_base(stock, force_insert=True)  # Django's own path, for the comparison
    assert inserted.pk not in (saved.pk, stock.pk) and not inserted._state.adding
    assert row(Event, inserted.pk) == row(Event, saved.pk) == row(Event, stock.pk)
    assert Event.objects.get(pk=inserted.pk).ticket == ticket

    copy = Ticket.objects.get(pk=ticket.pk)
    copy.pk, copy._state.adding = None, True
    copy.number, copy.idempotency_key = "WG-COPY-1", "copy-1"
    insert_one(copy)
    assert {k: v for k, v in row(Ticket, copy.pk).items() if k not in ("number", "idempotency_key")} == {
        k: v for k, v in row(Ticket, ticket.pk).items() if k not in ("number", "idempotency_key")}


def test_an_expression_goes_through_save_and_an_update_is_refused(reviewer):
    shop = make_shop()
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    entry = insert_one(PointEntry(shop=shop, ticket=ticket, violation_class="A", year=ticket.point_year,
                                  points=Value(1) + Value(1)))  # an expression: Django's own path
    assert PointEntry.objects.get(pk=entry.pk).points == 2
    with pytest.raises(TypeError):
        insert_one(entry)  # not a new row
    with pytest.raises(TypeError):
        entry.save()  # append-only


def test_several_rows_in_one_statement_are_the_rows_bulk_create_writes(reviewer, django_assert_num_queries):
    from compliance.models import Measure
    from compliance.models.base import insert_rows
    from compliance.services.measures import new_measure

    shop = make_shop()
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])

    def measures():
        return [new_measure(ticket=ticket, kind=kind, at=ticket.issued_at, details=details) for kind, details in (
            (Measure.Kind.WARNING, {}), (Measure.Kind.DEPOSIT, {"taken": "2000.00"}), (Measure.Kind.DELIST, {}))]

    with django_assert_num_queries(1):
        ours = insert_rows(measures())
    stock = Measure.objects.bulk_create(measures())
    assert len({m.pk for m in ours + stock}) == 6 and all(m.pk for m in ours)
    assert [row(Measure, m.pk) for m in ours] == [row(Measure, m.pk) for m in stock]
    assert [Measure.objects.get(pk=m.pk).kind for m in ours] == ["warning", "deposit", "delist"]  # keys in order


def test_copied_rows_are_the_rows_bulk_create_writes(reviewer):
    """models.base.copy_rows (the daily job's messages, e-mails and events):
    COPY on PostgreSQL, bulk_create elsewhere — the same rows either way."""
    from compliance.models import Message
    from compliance.models.base import copy_rows

    shop = make_shop()
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    at = timezone.now() - datetime.timedelta(hours=1)

    def events(tag):
        return [Event(shop=shop, ticket=ticket, action=Event.Action.TICKET_FINAL, subject=Event.Subject.TICKET,
                      subject_id=ticket.pk, from_status="issued", to_status="final", reason=f"{tag} 申诉期已过\t\n",
                      data={"n": n, "名": "值", "tag": tag}, created_at=at) for n in range(3)]

    assert copy_rows(events("ours")) == 3
    Event.objects.bulk_create(events("stock"))
    ours = [row(Event, pk) for pk in Event.objects.filter(data__tag="ours").order_by("id").values_list("pk", flat=True)]
    stock = [row(Event, pk) for pk in Event.objects.filter(data__tag="stock").order_by("id")
             .values_list("pk", flat=True)]
    assert len(ours) == 3 and [{**r, "reason": r["reason"][4:], "data": {**r["data"], "tag": ""}} for r in ours] == [
        {**r, "reason": r["reason"][5:], "data": {**r["data"], "tag": ""}} for r in stock]

    before = timezone.now()
    copy_rows([Message(user=reviewer, shop=shop, kind=Message.Kind.TICKET_ISSUED, subject="主题", body="正文\n")])
    message = Message.objects.get(subject="主题")
    assert message.created_at >= before and message.body == "正文\n"  # auto_now_add, as save() sets it
    with pytest.raises(TypeError):
        copy_rows([message])  # not a new row
