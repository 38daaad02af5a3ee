import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext

from compliance.models import DailyRun, DailyShard, Event, Ticket
from shops.models import Shop
from tests.worker import run_daily
from tests.factories import fund, issue, make_product, make_shop

pytestmark = pytest.mark.django_db


def run(day: str, *args) -> str:
    return run_daily(day, *args)


def test_daily_ends_suspensions_and_finalises_tickets_once(reviewer):
    shop = fund(make_shop(), 10000)
    issued = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))
    ticket = issue(shop, "false_advertising", "serious", reviewer, now=issued)  # suspended until 8 Nov 10:00
    assert "end_suspensions: 0" in run("2026-11-07")
    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED

    out = run("2026-11-08")  # the 7-day window closes at the end of 8 Nov (SPEC §7)
    assert "end_suspensions: 1" in out and "finalise_tickets: 1" in out
    shop.refresh_from_db()
    ticket.refresh_from_db()
    assert shop.status == Shop.Status.OPEN and shop.suspended_until is None
    assert ticket.status == Ticket.Status.FINAL
    events = Event.objects.count()

    out = run("2026-11-08")  # the same date again changes nothing
    assert "end_suspensions: 0 (nothing due)" in out and "finalise_tickets: 0 (nothing due)" in out
    assert Event.objects.count() == events
    # Only the checks that read every member or changed shop were queued; the others found nothing due.
    again = DailyRun.objects.latest("started_at")
    assert set(DailyShard.objects.filter(run=again, task_id__isnull=False).values_list("step", flat=True)) == {
        "recheck_alliance", "refresh_qualification_gaps"}
    assert again.finished_at is not None


@pytest.mark.parametrize("hour", [0, 18, 23])
def test_finalisation_uses_the_whole_day_deadline(reviewer, hour):
    shop = fund(make_shop(), 10000)
    issued = timezone.make_aware(datetime.datetime(2026, 5, 1, hour, 30))
    ticket = issue(shop, "false_advertising", "serious", reviewer, now=issued)
    run("2026-05-08")  # the last day of the window: still appealable until 23:59:59
    ticket.refresh_from_db()
    # The job for 8 May runs after that day has ended, so the window is closed by then.
    assert ticket.status == Ticket.Status.FINAL
    late = issue(fund(make_shop(), 10000), "false_advertising", "serious", reviewer, now=issued)
    run("2026-05-07")
    late.refresh_from_db()
    assert late.status == Ticket.Status.ISSUED


def test_tickets_under_appeal_or_revoked_are_not_finalised(reviewer):
    shop = fund(make_shop(), 10000)
    issued = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))
    appealing = issue(shop, "false_advertising", "serious", reviewer, now=issued)
    Ticket.objects.filter(pk=appealing.pk).update(status=Ticket.Status.APPEALING)
    run("2026-11-20")
    appealing.refresh_from_db()
    assert appealing.status == Ticket.Status.APPEALING


def test_a_batch_claims_no_more_than_its_limit(reviewer):
    """A step's claim is evaluated once: on PostgreSQL an unordered LIMIT …
    SKIP LOCKED subquery under IN may be run again for every row the UPDATE
    looks at, each time skipping the rows that statement already changed —
    every due row in one statement (tickets a merchant may be appealing
    included in the same lock). The claim is a materialised CTE."""
    from compliance.services.daily import tickets_due
    from compliance.services.events import transition_due

    shop = fund(make_shop(), 100000)
    issued = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))
    for _ in range(7):
        issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=issued)
    cutoff = timezone.make_aware(datetime.datetime(2026, 11, 20))
    moved = []
    while batch := transition_due(Ticket, tickets_due(cutoff), limit=2, source=Ticket.Status.ISSUED,
                                  to=Ticket.Status.FINAL, action=Event.Action.TICKET_FINAL, at=cutoff):
        moved.append(len(batch))
    assert moved == [2, 2, 2, 1]
    assert Event.objects.filter(action=Event.Action.TICKET_FINAL).count() == 7


def test_a_moved_row_is_journalled_as_one_moved_by_hand(reviewer):
    """A daily step's set-based transition writes the journal ``journal``
    would: on PostgreSQL the events and publications come from the UPDATE's
    own statement, elsewhere from Python — the same rows either way."""
    from compliance.models import Publication, Qualification
    from compliance.services.daily import expire_certificates, finalise_tickets
    from tests.factories import approved_certificate

    shop = fund(make_shop(), 100000)
    issued = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))
    ticket = issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=issued)
    cert = approved_certificate(shop, "ccc", reviewer, products=[make_product(shop, category="数码")],
                                expires_on=datetime.date(2026, 11, 10), now=issued)
    cutoff = timezone.make_aware(datetime.datetime(2026, 11, 20))
    assert finalise_tickets(cutoff) == 1 and expire_certificates(cutoff) == 1
    final = Event.objects.get(action=Event.Action.TICKET_FINAL)
    assert (final.ticket_id, final.shop_id, final.subject, final.subject_id, final.actor_id, final.from_status,
            final.to_status, final.reason, final.data, final.created_at) == (
        ticket.pk, shop.pk, Event.Subject.TICKET, ticket.pk, None, "issued", "final",
        gettext("The appeal window closed."), {}, cutoff)
    lapsed = Event.objects.get(action=Event.Action.QUALIFICATION_LAPSED)
    assert (lapsed.ticket_id, lapsed.shop_id, lapsed.subject, lapsed.subject_id, lapsed.from_status,
            lapsed.to_status, lapsed.data) == (None, shop.pk, Event.Subject.QUALIFICATION, cert.pk, "approved",
                                               "expired", {"qualification": cert.pk})
    assert Qualification.objects.get(pk=cert.pk).lapsed_at == lapsed.created_at
    published = {(p.action, p.types, p.subject, p.subject_id, p.shop_id, str(p.data), p.occurred_at, p.published_at)
                 for p in Publication.objects.filter(action__in=[final.action, lapsed.action])}
    assert published == {
        (final.action, "ticket.final", Event.Subject.TICKET, ticket.pk, shop.pk, "{}", cutoff, None),
        (lapsed.action, "certificate.expired", Event.Subject.QUALIFICATION, cert.pk, shop.pk,
         str({"qualification": cert.pk}), lapsed.created_at, None)}


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-02-30", "2999-01-01"])
def test_bad_dates_are_refused_clearly(bad):
    with pytest.raises(CommandError, match="date"):
        run(bad)


def test_daily_cost_grows_with_the_rows_that_change(reviewer, django_assert_max_num_queries):
    """Set-based: the same statements for 12 due tickets as for 24, whatever
    the number of untouched tickets; events written in one insert."""
    first = timezone.make_aware(datetime.datetime(2026, 11, 1, 10, 0))
    later = first + datetime.timedelta(days=10)
    shops = [fund(make_shop(), 100000) for _ in range(3)]
    for shop in shops:
        for _ in range(4):
            issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=first)
        for _ in range(8):
            issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=later)
    untouched = issue(shops[0], "fake_shipment", "per_order", reviewer, order_count=1,
                      now=later + datetime.timedelta(days=20))
    counts = []
    run("2026-11-02", "--shards", "1")  # the requirement matrix is read once and cached
    for day, due in (("2026-11-10", 12), ("2026-11-19", 24)):  # neither a Monday (the full queue check)
        with CaptureQueriesContext(connection) as queries:
            out = run(day, "--shards", "1")
        assert f"finalise_tickets: {due} " in out
        counts.append(len(queries))
    # Per step: its task claimed and marked (3), its shard read and marked, the next step's shard and
    # task written (7), and the step's own statements: 12 for the tickets' steps, one for each step
    # with nothing due (its probe as its stage is queued: no shard runs), the queue's check and the alliance re-check a few (the selections); the relay
    # publishing the day's events (SPEC §13) about a dozen, whatever their number.
    assert counts[0] == counts[1] <= 225, counts
    assert Ticket.objects.filter(status=Ticket.Status.FINAL).count() == 36
    assert Event.objects.filter(action="ticket_final").count() == 36
    untouched.refresh_from_db()
    assert untouched.status == Ticket.Status.ISSUED


def test_appeal_reminder_the_day_before_the_window_closes_once(reviewer):
    from compliance.models import Message
    from compliance.services.appeals import appeal_submit
    from tests.factories import make_merchant

    shop = fund(make_shop(), 10000)
    merchant = make_merchant("remind-me", shop)
    issued = timezone.make_aware(datetime.datetime(2026, 5, 1, 10, 0))
    ticket = issue(shop, "false_advertising", "general", reviewer, now=issued, products=[make_product(shop)])
    appealed = issue(shop, "false_advertising", "general", reviewer, now=issued, products=[make_product(shop)])
    appeal_submit(ticket=appealed, actor=merchant, reason="r", statement="s",
                  now=issued + datetime.timedelta(days=1))
    assert "appeal_reminders: 0" in run("2026-05-06")
    assert "appeal_reminders: 1" in run("2026-05-07")  # the window closes at the end of 8 May
    assert "appeal_reminders: 0" in run("2026-05-07")
    message = Message.objects.get(kind="appeal_closing")
    assert ticket.number in message.subject and message.user == merchant


def test_the_command_says_when_no_worker_ran_the_run_and_when_a_shard_failed(monkeypatch):
    """The waiting command gives up after --timeout (the run goes on) and
    stops at a failed shard, naming it; both print the summary so far."""
    from django_tasks_db.models import DBTaskResult

    from compliance.management.commands import compliance_daily as command
    from compliance.models import DailyRun, DailyShard

    out = StringIO()
    with pytest.raises(CommandError, match="not finished after 0 s: are workers running"):
        call_command("compliance_daily", "--date", "2026-11-20", "--timeout", "0.3", stdout=out)
    # The steps with nothing due were passed over; the first queued one is nobody's yet.
    assert "expire_certificates: 0 (nothing due)\n" in out.getvalue()
    assert "recheck_alliance: 0 (0.0 s of work in 0/" in out.getvalue()

    run_ = DailyRun.objects.get()
    shard = DailyShard.objects.filter(run=run_, task_id__isnull=False).first()
    DBTaskResult.objects.filter(pk=shard.task_id).update(
        status="FAILED", exception_class_path="builtins.RuntimeError", traceback="Traceback: boom")
    monkeypatch.setattr(command, "daily_start", lambda day, shards=None: run_)  # wait for that run again
    with pytest.raises(CommandError, match=f"A shard of run {run_.pk} failed: builtins.RuntimeError"):
        call_command("compliance_daily", "--date", "2026-11-20", "--timeout", "60", stdout=StringIO())


def test_the_missing_certificate_check_follows_changes_and_reads_every_product_weekly():
    """SPEC §10: the cost follows the day's changes — a new product is
    checked the next day; one changed behind the product's back (no change
    time) waits for the weekly full check (Mondays by default)."""
    from compliance.models import QualificationGap

    run("2026-11-20")  # a Friday, the first run: every product is checked
    seen = make_product(fund(make_shop(), 20000), category="美妆")
    unseen_shop = fund(make_shop(), 20000)
    unseen = make_product(unseen_shop, category="美妆")
    long_ago = timezone.make_aware(datetime.datetime(2020, 1, 1))
    type(unseen).objects.filter(pk=unseen.pk).update(changed_at=long_ago)
    Shop.objects.filter(pk=unseen_shop.pk).update(updated_at=long_ago)

    run("2026-11-21")  # Saturday: the shops changed since the last run
    assert set(QualificationGap.objects.open().values_list("product_id", flat=True)) == {seen.pk}
    run("2026-11-23")  # Monday: every product on sale
    assert set(QualificationGap.objects.open().values_list("product_id", flat=True)) == {seen.pk, unseen.pk}
