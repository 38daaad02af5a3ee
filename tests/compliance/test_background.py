"""Background work with a real worker process (SPEC §10): ``manage.py
db_worker`` on the test database, a real SMTP server on loopback. The tests
commit (``transaction=True``) so that the worker sees their rows."""

import asyncio
import datetime
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from compliance.models import (
    AllianceClosure, AllianceMembership, DailyRun, Event, Message, OutboxEmail, PolicySettings, Ticket,
)
from tests.factories import fund, issue, make_merchant, make_shop
from tests.mailserver import MailServer, closed_port
from tests.worker import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ISSUED = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))


def merchant_shop(n: int, email: str | None = None):
    shop = fund(make_shop(experience_score=Decimal("85")), 100000)
    merchant = make_merchant(f"bg-merchant-{n}", shop)
    if email:
        merchant.email = email
        merchant.save(update_fields=["email"])
    return shop


def retry_every_second():
    PolicySettings.objects.filter(pk=PolicySettings.load().pk).update(
        mail_retry_seconds=1, mail_retry_max_seconds=1, mail_max_attempts=50)


def test_mail_server_down_loses_nothing_and_each_email_goes_out_once_it_is_back(reviewer, tmp_path):
    retry_every_second()
    shops = [merchant_shop(n, f"owner{n}@shop.example") for n in range(3)]
    tickets = [issue(shop, "false_advertising", "serious", reviewer, now=ISSUED) for shop in shops]
    port = closed_port()
    with WorkerProcess(tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{port}") as worker:
        # The mail server is down: each e-mail is tried, refused, and waits; the messages are there.
        wait_for(lambda: not OutboxEmail.objects.filter(attempts__lt=2).exists(), what="the failed attempts")
        assert set(OutboxEmail.objects.values_list("status", flat=True)) == {OutboxEmail.Status.PENDING}
        assert "ConnectionRefusedError" in OutboxEmail.objects.first().last_error
        assert Message.objects.filter(kind="ticket_issued").count() == 3
        with MailServer(port) as server:
            wait_for(lambda: not OutboxEmail.objects.exclude(status=OutboxEmail.Status.SENT).exists(),
                     what="the deliveries")
            # Exactly once each, even with retry tasks still queued: give them time to run.
            wait_for(lambda: len(server.received) >= 3)
            worker_log = worker.output()
            asyncio.run(asyncio.sleep(2))
            received = server.received
    assert sorted(rcpt for rcpt, _body in received) == [[f"owner{n}@shop.example"] for n in range(3)], worker_log
    for ticket in tickets:
        assert sum(ticket.number in body for _rcpt, body in received) == 1


class _HoldFirst:
    """An SMTP handler that, on the first message, tells the test it is in
    the middle of a delivery and waits until the test has killed the worker."""

    def __init__(self):
        self.received, self.lock = [], threading.Lock()
        self.in_delivery, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        first = not self.in_delivery.is_set()
        self.in_delivery.set()
        if first:
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        with self.lock:
            self.received.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


def test_a_worker_killed_between_sending_and_marking_sends_one_duplicate_at_most(reviewer, tmp_path):
    from aiosmtpd.controller import Controller

    shops = [merchant_shop(n, f"kill{n}@shop.example") for n in range(3)]
    handler = _HoldFirst()
    controller = Controller(handler, hostname="127.0.0.1", port=closed_port())
    controller.start()
    try:
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{controller.port}", "OUTBOX_LEASE_SECONDS": "1"}
        first = WorkerProcess(tmp_path, "killed", **env).start()
        tickets = [issue(shop, "false_advertising", "serious", reviewer, now=ISSUED) for shop in shops]
        assert handler.in_delivery.wait(30), first.output()
        first.kill()  # the mail server has the e-mail; the row is not marked sent
        handler.release.set()
        with WorkerProcess(tmp_path, "second", **env):
            wait_for(lambda: not OutboxEmail.objects.exclude(status=OutboxEmail.Status.SENT).exists(),
                     what="the deliveries after the kill")
            asyncio.run(asyncio.sleep(1.5))
        received = list(handler.received)
    finally:
        controller.stop()
    counts = sorted(sum(t.number in body for body in received) for t in tickets)
    assert counts in ([1, 1, 1], [1, 1, 2]), counts  # the one in flight at most twice, the others once


def daily_world(reviewer, shops=4, tickets_each=6, members=3):
    """Tickets whose appeal window has closed, and alliance members whose
    score fell: work for two steps, spread over the shops."""
    world = [merchant_shop(n) for n in range(shops)]
    for shop in world:
        for _ in range(tickets_each):
            issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=ISSUED)
    for shop in world[:members]:
        AllianceMembership.objects.create(shop=shop, status=AllianceMembership.Status.ACTIVE,
                                          activated_at=ISSUED - datetime.timedelta(days=90))
    from shops.models import Shop

    Shop.objects.filter(pk__in=[s.pk for s in world[:members]]).update(experience_score=Decimal("10"))
    return world


def outcome() -> dict:
    """What a day's run leaves: compared between an interrupted and a whole run."""
    return {
        "final": Ticket.objects.filter(status=Ticket.Status.FINAL).count(),
        "final_events_per_ticket": set(Event.objects.filter(action=Event.Action.TICKET_FINAL).values("ticket_id")
                                       .annotate(n=Count("id")).values_list("n", flat=True)),
        "closed": AllianceMembership.objects.filter(status=AllianceMembership.Status.CLOSED).count(),
        "closures": AllianceClosure.objects.count(),
        "closed_events": Event.objects.filter(action=Event.Action.ALLIANCE_CLOSED).count(),
        "closed_messages": Message.objects.filter(kind="alliance_closed").count(),
    }


WHOLE_RUN = {"final": 24, "final_events_per_ticket": {1}, "closed": 3, "closures": 3, "closed_events": 3,
             "closed_messages": 3}


def test_the_daily_job_runs_on_workers_and_a_second_run_changes_nothing(reviewer, tmp_path):
    daily_world(reviewer)
    with WorkerProcess(tmp_path, "a"), WorkerProcess(tmp_path, "b"):
        call_command("compliance_daily", "--date", "2026-11-20", "--timeout", "60", stdout=open(tmp_path / "out", "w"))
        assert outcome() == WHOLE_RUN
        events = Event.objects.count()
        call_command("compliance_daily", "--date", "2026-11-20", "--timeout", "60", stdout=open(tmp_path / "2", "w"))
    assert outcome() == WHOLE_RUN and Event.objects.count() == events
    assert DailyRun.objects.filter(finished_at=None).count() == 0


def test_a_worker_killed_mid_step_and_another_started_finish_the_day_as_a_whole_run(reviewer, tmp_path):
    daily_world(reviewer)
    # Two tickets a transaction and a pause after each: the step takes long enough to be killed in.
    slow = {"DAILY_BATCH": 2, "DAILY_BATCH_PAUSE_MS": 150, "DAILY_SHARDS": 2}
    first = WorkerProcess(tmp_path, "doomed", **slow).start()
    call_command("compliance_daily", "--date", "2026-11-20", "--no-wait", stdout=open(tmp_path / "out", "w"))
    wait_for(lambda: 0 < Ticket.objects.filter(status=Ticket.Status.FINAL).count(), what="the first batches")
    first.kill()
    assert 0 < Ticket.objects.filter(status=Ticket.Status.FINAL).count() < 24  # killed mid-step
    run = DailyRun.objects.get()
    assert run.finished_at is None
    with WorkerProcess(tmp_path, "rescuer", **slow):
        wait_for(lambda: DailyRun.objects.filter(pk=run.pk).exclude(finished_at=None).exists(), timeout=60,
                 what="the rescuing worker")
    assert outcome() == WHOLE_RUN


def test_an_uploaded_import_runs_on_a_worker_and_its_page_follows_it(client, compliance_admin, tmp_path, settings):
    """The upload page's job, through HTTP, run by a real worker; its progress
    is written on a connection of its own while the import's COPY runs."""
    from shops.models import ShopScore

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"  # the worker is told the same folder below
    shops = [make_shop() for _ in range(3)]
    day = timezone.localdate().isoformat()
    lines = "".join(f"{shop.shop_no},{day},{80 + n}\n" for n, shop in enumerate(shops))
    client.force_login(compliance_admin)
    from django.core.files.uploadedfile import SimpleUploadedFile

    started = client.post("/admin/imports/", {"kind": "scores", "file": SimpleUploadedFile("s.csv", lines.encode())})
    job_url = started["Location"]
    with WorkerProcess(tmp_path, DJANGO_PRIVATE_MEDIA_ROOT=settings.PRIVATE_MEDIA_ROOT):
        wait_for(lambda: client.get(job_url + "progress/").json()["finished"], what="the import job")
    progress = client.get(job_url + "progress/").json()
    assert (progress["status"], progress["percent"]) == ("done", 100)
    assert ShopScore.objects.count() == 3
    assert "3" in client.get(job_url).content.decode()
