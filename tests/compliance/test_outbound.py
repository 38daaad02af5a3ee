"""Outbound events (SPEC §13) end to end, with a real HTTP receiver on
loopback: the journal's steps published in each shop's sequence, signed,
delivered once; a failing receiver holds back only that shop; a receiver
down for a day makes deliveries dead, which a compliance admin sends again;
the feed serves the same events."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from compliance import queueing, webhooks
from compliance.models import (
    Event, OutboundEvent, OutboxEmail, PolicySettings, Publication, WebhookDelivery, WebhookSubscription,
)
from compliance.services import deliveries
from compliance.services.tickets import ticket_revoke
from compliance.services.webhooks import webhook_subscribe
from tests.factories import fund, issue, make_integration, make_product, make_shop
from tests.receiver import Receiver, answer
from tests.test_webhooks_doc import documented_verify
from tests.worker import drain

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receivers run on this machine


def subscribe(receiver, actor, events=None):
    integration, _key = make_integration("enforcement", scopes=["webhooks"])
    subscription, secret = webhook_subscribe(
        integration=integration, url=f"http://127.0.0.1:{receiver.port}/hooks",
        events=events or webhooks_all(), actor=actor)
    return subscription, secret


def webhooks_all():
    from compliance.models import EVENT_TYPES

    return list(EVENT_TYPES)


def bodies(receiver):
    return [json.loads(body) for _path, _headers, body in receiver.received]


def funded_shop_with_product():
    shop = fund(make_shop(), 50000)
    return shop, make_product(shop)


def test_a_ticket_issued_arrives_as_its_events_signed_and_in_sequence(reviewer, compliance_admin):
    with Receiver(answer(200)) as receiver:
        subscription, secret = subscribe(receiver, compliance_admin)
        shop, product = funded_shop_with_product()
        ticket = issue(shop, "false_advertising", "general", reviewer, products=[product])
        drain()
    events = bodies(receiver)
    assert [e["type"] for e in events] == ["ticket.issued", "measure.started", "measure.started",
                                           "measure.started", "deposit.deducted"]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5] and {e["shop"] for e in events} == {shop.shop_no}
    assert len({e["id"] for e in events}) == 5
    issued, deducted = events[0], events[-1]
    assert issued["data"]["number"] == ticket.number and issued["data"]["status"] == "issued"
    assert issued["occurred_at"].endswith("+08:00")
    assert deducted["data"]["amount"] == "-2000.00" and deducted["data"]["ticket"] == ticket.number
    delist = next(e for e in events if e["data"].get("kind") == "delist")
    assert delist["data"]["products"] == [product.product_no]  # what the catalogue takes off sale
    verify = documented_verify()
    for _path, headers, body in receiver.received:  # the documented function, on the bytes as they arrived
        assert verify(secret, body, headers["X-Compliance-Signature"])
        assert headers["X-Compliance-Event-Id"] == json.loads(body)["id"]
        assert headers["X-Compliance-Event-Type"] == json.loads(body)["type"]
    assert set(subscription.deliveries.values_list("status", flat=True)) == {Status.DELIVERED}
    assert subscription.deliveries.filter(attempts=1).count() == 5


def test_revoking_the_ticket_sends_revoked_lifted_and_refunded(reviewer, compliance_admin):
    with Receiver(answer(200)) as receiver:
        subscribe(receiver, compliance_admin)
        shop, product = funded_shop_with_product()
        ticket = issue(shop, "false_advertising", "general", reviewer, products=[product])
        drain()
        receiver.received.clear()
        ticket_revoke(ticket=ticket, actor=reviewer, reason="证据不足")
        drain()
    events = bodies(receiver)
    assert [e["type"] for e in events] == ["ticket.revoked", "measure.lifted", "measure.lifted", "measure.lifted",
                                           "deposit.refunded"]
    assert [e["sequence"] for e in events] == [6, 7, 8, 9, 10]  # the shop's sequence goes on
    assert events[0]["data"]["status"] == "revoked"
    assert sorted(e["data"]["kind"] for e in events[1:4]) == ["delist", "deposit", "warning"]
    assert {e["data"]["status"] for e in events[1:4]} == {"reversed"}
    assert events[4]["data"]["amount"] == "2000.00" and events[4]["data"]["kind"] == "refund"


def test_a_rolled_back_change_publishes_nothing(reviewer):
    shop, product = funded_shop_with_product()
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(shop, "false_advertising", "general", reviewer, products=[product])
        assert Publication.objects.count() == 1
        raise RuntimeError("the request failed after the ticket")
    assert Publication.objects.count() == 0
    drain()
    assert OutboundEvent.objects.count() == 0


def test_the_relay_makes_way_for_the_daily_run_after_a_batch_and_then_goes_on(reviewer, monkeypatch):
    """A worker that took the relay while the day's run waited at a stage's
    end is back for the next stage's shards after the batch in hand
    (queueing.Share): a relay task for the rest waits at the back."""
    from django_tasks_db.models import DBTaskResult

    from compliance.api.events import render
    from compliance.services import outbound
    from compliance.tasks import daily_shard, publish_events

    monkeypatch.setattr(outbound, "BATCH", 2)
    for _ in range(3):
        shop, product = funded_shop_with_product()
        issue(shop, "false_advertising", "general", reviewer, products=[product])
    assert Publication.objects.filter(published_at=None).count() == 3
    DBTaskResult.objects.all().delete()
    daily_shard.enqueue(0)  # a shard of the day's run is queued
    assert outbound.publish_all(render) == 2  # one batch, then it makes way
    relays = DBTaskResult.objects.ready().filter(task_path=publish_events.module_path)
    assert relays.count() == 1
    DBTaskResult.objects.filter(task_path=daily_shard.module_path).delete()
    assert outbound.publish_all(render) == 1 and not Publication.objects.filter(published_at=None).exists()


def test_while_the_daily_run_is_under_way_the_relay_takes_a_tenth_of_a_batch_at_a_time(reviewer, monkeypatch):
    """Between two stages of the day's run (its next shards not queued yet), a
    worker that took the relay takes small batches, so that it is back for the
    next stage soon after it is queued (queueing.Share); once the run is over,
    whole batches again."""
    from compliance.api.events import render
    from compliance.models import DailyRun
    from compliance.services import outbound

    monkeypatch.setattr(outbound, "BATCH", 20)
    for _ in range(3):
        shop, product = funded_shop_with_product()
        issue(shop, "false_advertising", "general", reviewer, products=[product])
    waiting = Publication.objects.filter(published_at=None)
    assert waiting.count() == 3
    run = DailyRun.objects.create(day=timezone.localdate(), cutoff=timezone.now(), shards=1, shop_max=1,
                                  started_at=timezone.now())
    assert outbound.publish(render, limit=queueing.Share(20).take(outbound.BATCH)) == 2  # 20 // 10
    DailyRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    assert queueing.Share(20).take(outbound.BATCH) == 20
    assert outbound.publish_all(render) == 1 and not waiting.exists()


def test_steps_that_are_not_published_write_no_publication(compliance_admin):
    with Receiver(answer(200)) as receiver:
        subscription, _secret = subscribe(receiver, compliance_admin)  # journalled, not published
    assert Event.objects.filter(subject="webhook", subject_id=subscription.pk).exists()
    assert Publication.objects.count() == 0


def test_a_failing_delivery_holds_back_its_shop_only_and_goes_out_once_in_order(reviewer, compliance_admin):
    failures = {"left": 3}

    def flaky(request):
        body = json.loads(request.received_body)
        if body["shop"] == first.shop_no and failures["left"]:
            failures["left"] -= 1
            return answer(500, b"busy")(request)
        return answer(200)(request)

    first, product_a = funded_shop_with_product()
    second, product_b = funded_shop_with_product()
    with Receiver(flaky) as receiver:
        subscribe(receiver, compliance_admin)
        issue(first, "false_advertising", "general", reviewer, products=[product_a])
        issue(second, "false_advertising", "general", reviewer, products=[product_b])
        drain()  # the relay, then a delivery task
        now = timezone.now()
        # The other shop went through; this one's first event was refused and holds the rest.
        by_shop = lambda shop: [e for e in bodies(receiver) if e["shop"] == shop.shop_no]  # noqa: E731
        assert [e["sequence"] for e in by_shop(second)] == [1, 2, 3, 4, 5]
        assert [e["sequence"] for e in by_shop(first)] == [1]
        held = WebhookDelivery.objects.filter(event__shop=first, status=Status.PENDING)
        assert held.count() == 5 and held.get(sequence=1).attempts == 1 and held.get(sequence=1).last_code == 500
        for step in range(1, 4):  # the retries, each after its (doubling) delay
            deliveries.deliver(now=now + datetime.timedelta(hours=step))
    sequences = [e["sequence"] for e in by_shop(first)]
    assert sequences == [1, 1, 1, 1, 2, 3, 4, 5]  # refused three times, then each once, in order
    assert not WebhookDelivery.objects.exclude(status=Status.DELIVERED).exists()
    attempts = WebhookDelivery.objects.get(event__shop=first, sequence=1).attempt_log.order_by("id")
    assert [a.code for a in attempts] == [500, 500, 500, 200]
    assert WebhookSubscription.objects.get().failing_since is None  # it answers again


def test_a_receiver_down_for_a_day_leaves_dead_deliveries_that_are_sent_again(reviewer, compliance_admin):
    with Receiver(answer(200)) as receiver:
        port = receiver.port
    # Nothing listens on the port now: every attempt is refused.
    integration, _key = make_integration("enforcement", scopes=["webhooks"])
    subscription, _secret = webhook_subscribe(integration=integration, url=f"http://127.0.0.1:{port}/hooks",
                                              events=["ticket.issued"], actor=compliance_admin)
    shop, product = funded_shop_with_product()
    issue(shop, "false_advertising", "general", reviewer, products=[product])
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1 and delivery.last_error
    start = delivery.first_attempt_at
    for hours in (1, 6, 12, 23, 25):  # time travelled
        deliveries.deliver(now=start + datetime.timedelta(hours=hours))
    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD and delivery.attempts == 6
    assert Event.objects.filter(subject="delivery", subject_id=delivery.pk, action="delivery_dead").exists()
    # Back up: a compliance admin sends the dead ones again.
    with Receiver(answer(200)) as receiver:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=f"http://127.0.0.1:{receiver.port}/h")
        assert deliveries.resend_dead_since(subscription, start - datetime.timedelta(hours=1),
                                            actor=compliance_admin) == 1
        drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and [e["type"] for e in bodies(receiver)] == ["ticket.issued"]


def test_a_subscription_failing_for_three_days_is_paused_and_compliance_admins_are_told(reviewer, compliance_admin):
    compliance_admin.email = "admin@platform.example"
    compliance_admin.save()
    # Deliveries given up later than the pause, so that one keeps failing (the times are data).
    PolicySettings.objects.filter(pk=PolicySettings.load().pk).update(webhook_give_up_hours=100)
    with Receiver(answer(503)) as receiver:
        subscription, _secret = subscribe(receiver, compliance_admin, events=["ticket.issued"])
        shop, product = funded_shop_with_product()
        issue(shop, "false_advertising", "general", reviewer, products=[product])
        drain()
        start = WebhookDelivery.objects.get().first_attempt_at
        for hours in (20, 50, 71):
            deliveries.deliver(now=start + datetime.timedelta(hours=hours))
        assert WebhookSubscription.objects.get().status == WebhookSubscription.Status.ACTIVE
        deliveries.deliver(now=start + datetime.timedelta(hours=73))
    subscription.refresh_from_db()
    assert subscription.status == WebhookSubscription.Status.PAUSED
    mail = OutboxEmail.objects.get(to="admin@platform.example")
    assert mail.shop_id is None and subscription.url in mail.subject
    # Paused: nothing more is attempted, nothing is lost.
    count = len(receiver.received)
    deliveries.deliver(now=start + datetime.timedelta(hours=80))
    assert len(receiver.received) == count
    assert WebhookDelivery.objects.filter(status=Status.PENDING).exists()


def test_policy_delays_are_data(db):
    policy = PolicySettings.load()
    assert [policy.webhook_retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert policy.webhook_retry_delay(30) == 3600
    assert Decimal(policy.webhook_give_up_hours) == 24 and policy.webhook_pause_hours == 72


def test_the_feed_serves_the_same_events_in_order_a_page_at_a_time(reviewer, compliance_admin, monkeypatch):
    from compliance.selectors import outbound as feed
    from tests.compliance.test_api import api

    with Receiver(answer(200)) as receiver:
        subscribe(receiver, compliance_admin)
        for _ in range(2):
            shop, product = funded_shop_with_product()
            issue(shop, "false_advertising", "general", reviewer, products=[product])
        drain()
    _integration, key = make_integration("poller", scopes=["webhooks"])
    monkeypatch.setattr(feed, "FEED_PAGE", 4)  # small pages, to walk the cursor
    monkeypatch.setattr("compliance.api.views.FEED_PAGE", 4)
    seen, after = [], "0"
    while True:
        page = api(key, "get", f"/api/v1/events/?after={after}")
        assert page.status_code == 200, page.content
        body = page.json()
        seen += body["events"]
        after = body["next"]
        if not body["has_more"]:
            break
    def by_shop(events):
        return sorted(events, key=lambda e: (e["shop"], e["sequence"]))

    assert by_shop(seen) == by_shop(bodies(receiver))  # the very events delivered, byte for byte the same
    # In the order the steps committed: each ticket's events together, in its shop's sequence.
    assert [e["sequence"] for e in seen] == [1, 2, 3, 4, 5] * 2
    assert len({e["shop"] for e in seen[:5]}) == len({e["shop"] for e in seen[5:]}) == 1
    assert api(key, "get", f"/api/v1/events/?after={after}").json() == {"events": [], "next": after,
                                                                       "has_more": False}
    assert api(key, "get", "/api/v1/events/?after=-1").status_code == 400
    _other, no_scope = make_integration("detector-only", scopes=["warnings"])
    assert api(no_scope, "get", "/api/v1/events/").status_code == 403


def test_a_process_that_saw_the_relay_waiting_does_not_ask_again_for_a_moment(
        reviewer, settings, django_capture_on_commit_callbacks):
    """queueing.wake(coalesce=True): after a committed wake-up the next
    tickets' publications skip the question "is a relay waiting?" for
    WAKE_COALESCE_SECONDS; what the relay then misses, the heartbeat's
    sweep queues it for."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from compliance.services import outbound

    settings.WAKE_COALESCE_SECONDS = 60
    shop, product = funded_shop_with_product()
    relays = DBTaskResult.objects.filter(task_path="compliance.tasks.publish_events")
    with django_capture_on_commit_callbacks(execute=True):
        issue(shop, "false_advertising", "general", reviewer, products=[product])
    assert relays.count() == 1
    relays.delete()  # it ran, and took the first ticket's publication

    def probes():
        with CaptureQueriesContext(connection) as captured:
            issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
        return sum(1 for q in captured.captured_queries if "compliance.tasks.publish_events" in q["sql"])

    assert probes() == 0 and not relays.exists()  # not asked: no relay for this one yet
    assert outbound.sweep() and relays.count() == 1  # the heartbeat's check queues it
    settings.WAKE_COALESCE_SECONDS = 0
    assert probes() == 1  # asked every time again
