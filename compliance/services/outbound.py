"""Outbound events (SPEC §13), from the journal.

Every journal step that ``models.webhooks.PUBLISHED`` names writes, beside
its Event and in the same transaction, a ``Publication`` (``note``): a
rolled-back step leaves none, a committed one is published even if its
process dies the moment after. The relay (``publish``, the
``publish_events`` task) takes the publications in the order they were
written, one relay at a time, and turns each into its events: the step's
own object, and for a ticket or a point node the measures and deposit
entries it took or gave back, read from the rows the step wrote. Each event
gets its UUID, the shop's next ``sequence`` and the next ``position`` (the
feed's cursor), the object as the API shows it (``render``, given by the
caller: the API owns that representation), and a delivery for every
subscription that wants its type — all in one transaction.

The object is rendered when the relay publishes, moments after the step
committed (the step's own facts — its type and time — are the step's).
"""

import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compliance.models import (
    DepositEntry, Event, Measure, OutboundEvent, Publication, PublishState, WebhookDelivery, WebhookSubscription,
)
from compliance.models.base import copy_rows, copy_values, insert_one
from compliance.models.webhooks import TEST_EVENT_TYPE, published_types
from compliance.queueing import Share, wake

BATCH = 1000  # publications a relay transaction takes
TASK_LIMIT = 20 * BATCH  # publications one relay task publishes before it makes way (queueing.Share)
# The task, queued by path (compliance.queueing.wake): it imports this module.
RELAY_TASK = "compliance.tasks.publish_events"
Subject = Event.Subject


def published(action, to_status, data) -> str:
    """The event types, comma-separated, a journal step publishes (SPEC §13;
    empty for most): what its Publication's ``types`` says."""
    outcome = data.get("outcome", "") if isinstance(data, dict) else ""
    return ",".join(published_types(action, to_status, outcome))


def note(events) -> int:
    """The publications of ``events`` (Event objects being journalled in the
    caller's transaction) that SPEC §13 publishes. Returns how many. (The
    daily job's set-based steps write theirs in the statement that moves
    their rows: services.events.transition_due, then ``relay``.)"""
    rows = []
    for event in events:
        data = event.data or {}
        types = published(event.action, event.to_status, data)
        if types:
            rows.append((str(event.action), types, str(event.subject), event.subject_id, event.shop_id,
                         data, event.created_at))
    if len(rows) == 1:
        # A single step's (a ticket's: each of its steps journals on its own) in an INSERT — a COPY
        # costs more round trips; a step over many rows (the daily job's) streamed, as values.
        insert_one(Publication(**dict(zip(PUBLICATION_FIELDS, rows[0]))))
    else:
        copy_values(Publication, PUBLICATION_FIELDS, rows)
    if rows:
        relay()
    return len(rows)


def relay() -> None:
    """Publications were written: the relay is queued (once for many)."""
    wake(RELAY_TASK, coalesce=True)


PUBLICATION_FIELDS = ["action", "types", "subject", "subject_id", "shop_id", "data", "occurred_at"]


def sweep() -> bool:
    """The heartbeat's check: publications waiting and no relay queued."""
    if not Publication.objects.filter(published_at=None).exists():
        return False
    return wake(RELAY_TASK)


# What each event is about: (kind of object, its ID). The relay reads the
# measures and deposit entries a ticket's or node's step wrote.
_OWN = {Subject.TICKET: "ticket", Subject.APPEAL: "appeal", Subject.WARNING: "warning",
        Subject.QUALIFICATION: "certificate", Subject.NOTICE: "notice", Subject.ALLIANCE: "alliance",
        Subject.PROVIDER: "provider", Subject.MEASURE: "measure"}


def _objects(publications: list[Publication]) -> list[list[tuple[str, str, int]]]:
    """For each publication, its events as (type, kind of object, object ID), in order."""
    tickets = [p.subject_id for p in publications if p.subject == Subject.TICKET]
    nodes = [p.subject_id for p in publications if p.subject == Subject.NODE]
    measures, deposits = defaultdict(list), defaultdict(list)
    for row in (Measure.objects.filter(ticket_id__in=tickets, node_application=None)
                .exclude(status=Measure.Status.COVERED).values("id", "ticket_id", "status").order_by("id")):
        measures[("ticket", row["ticket_id"])].append(row)
    for row in (Measure.objects.filter(node_application_id__in=nodes).exclude(status=Measure.Status.COVERED)
                .values("id", "node_application_id", "status").order_by("id")):
        measures[("node", row["node_application_id"])].append(row)
    for row in (DepositEntry.objects.filter(ticket_id__in=tickets, node_application=None)
                .values("id", "ticket_id", "kind").order_by("id")):
        deposits[("ticket", row["ticket_id"])].append(row)
    for row in (DepositEntry.objects.filter(node_application_id__in=nodes)
                .values("id", "node_application_id", "kind").order_by("id")):
        deposits[("node", row["node_application_id"])].append(row)

    result = []
    for p in publications:
        owner = ("node" if p.subject == Subject.NODE else "ticket", p.subject_id)
        items = []
        for event_type in p.types.split(","):
            if event_type == "appeal.submitted":
                items.append((event_type, "appeal", p.data["appeal"]))
            elif event_type in ("measure.started", "measure.lifted") and p.subject != Subject.MEASURE:
                # Started: what the step took; lifted: what it reversed (measures taken earlier).
                wanted = Measure.Status.REVERSED if event_type == "measure.lifted" else None
                items += [(event_type, "measure", row["id"]) for row in measures[owner]
                          if wanted is None or row["status"] == wanted]
            elif event_type in ("deposit.deducted", "deposit.refunded"):
                kind = DepositEntry.Kind.DEDUCTION if event_type == "deposit.deducted" else DepositEntry.Kind.REFUND
                items += [(event_type, "deposit", row["id"]) for row in deposits[owner] if row["kind"] == kind]
            else:
                items.append((event_type, _OWN[p.subject], p.subject_id))
        result.append(items)
    return result


def publish(render, *, limit: int = BATCH, now=None) -> int:
    """Publish up to ``limit`` waiting publications, in the order they were
    written: their events numbered, rendered (``render(items)``: for each
    (kind, id) the object as the API shows it) and queued for every
    subscription that wants them. One relay at a time: the state row is
    locked. Returns how many publications."""
    now = now or timezone.now()
    with transaction.atomic():
        PublishState.objects.bulk_create([PublishState(pk=1)], ignore_conflicts=True)  # one statement, always
        state = PublishState.objects.select_for_update().get(pk=1)
        publications = list(Publication.objects.filter(published_at=None).order_by("id")[:limit])
        if not publications:
            return 0
        per_publication = _objects(publications)
        flat = [(p, item) for p, items in zip(publications, per_publication) for item in items]
        data = render([(kind, pk) for _p, (_type, kind, pk) in flat])
        shops = {p.shop_id for p, _item in flat}
        last = dict(OutboundEvent.objects.filter(shop_id__in=[s for s in shops if s is not None])
                    .values("shop_id").annotate(m=Max("sequence")).values_list("shop_id", "m"))
        if None in shops:
            last[None] = OutboundEvent.objects.filter(shop=None).aggregate(m=Max("sequence"))["m"]
        position = state.position
        events = []
        for (p, (event_type, _kind, _pk)), payload in zip(flat, data):
            position += 1
            last[p.shop_id] = (last.get(p.shop_id) or 0) + 1
            events.append(OutboundEvent(uuid=uuid.uuid4(), type=event_type, shop_id=p.shop_id,
                                        sequence=last[p.shop_id], position=position, occurred_at=p.occurred_at,
                                        published_at=now, data=payload))
        copy_rows(events)  # streamed; their keys, where deliveries need them, by position
        queued = _queue_deliveries(events, now)
        Publication.objects.filter(pk__in=[p.pk for p in publications]).update(published_at=now)
        PublishState.objects.filter(pk=1).update(position=position)
        if queued:
            wake(_deliveries().DELIVERY_TASK)
    return len(publications)


def _queue_deliveries(events: list[OutboundEvent], now) -> int:
    """A delivery of each event to each subscription that wants its type;
    paused ones too, so that nothing is missed while paused."""
    subscriptions = list(WebhookSubscription.objects.exclude(status=WebhookSubscription.Status.DELETED)
                         .only("id", "events"))
    if not subscriptions:
        return 0
    keys = dict(OutboundEvent.objects.filter(position__gte=events[0].position, position__lte=events[-1].position)
                .values_list("position", "id"))
    for event in events:
        event.pk = keys[event.position]
    rows = [WebhookDelivery(subscription_id=s.pk, event_id=e.pk, stream=e.shop_id or 0, sequence=e.sequence,
                            created_at=now, next_attempt_at=now)
            for e in events for s in subscriptions if e.type in s.events]
    _deliveries().queue(rows)
    return len(rows)


def publish_test(subscription: WebhookSubscription, *, actor, now=None) -> WebhookDelivery:
    """A compliance admin's test event for ``subscription``: numbered like
    the others (its position: the feed leaves it out), in no shop's
    sequence, and one delivery, to that subscription only."""
    now = now or timezone.now()
    with transaction.atomic():
        PublishState.objects.bulk_create([PublishState(pk=1)], ignore_conflicts=True)
        state = PublishState.objects.select_for_update().get(pk=1)
        event = OutboundEvent.objects.create(
            uuid=uuid.uuid4(), type=TEST_EVENT_TYPE, shop=None, sequence=0, position=state.position + 1,
            occurred_at=now, published_at=now,
            data={"subscription": subscription.pk, "url": subscription.url, "sent_by": actor.get_username()})
        PublishState.objects.filter(pk=1).update(position=event.position)
        delivery = WebhookDelivery(subscription=subscription, event=event, stream=-subscription.pk, sequence=0,
                                   created_at=now, next_attempt_at=now)
        _deliveries().queue([delivery])
        delivery = WebhookDelivery.objects.get(event=event)  # its key (queue streams the rows)
        wake(_deliveries().DELIVERY_TASK)
    return delivery


def _deliveries():
    # The relay reaches deliveries (their queue, their task) through the module, imported when first used.
    # cycle: services.deliveries journals through services.events, which notes each step here.
    from . import deliveries

    return deliveries


def publish_all(render, *, limit: int = TASK_LIMIT) -> int:
    """``publish`` batch after batch for a task's share (``queueing.Share``);
    queues another relay for the rest. Returns how many were published."""
    share = Share(limit)
    while asked := share.take(BATCH):
        share.took(publish(render, limit=asked), asked)
    if share.more:
        wake(RELAY_TASK)
    return share.done
