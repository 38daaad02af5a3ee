"""Concurrency claims, proven on PostgreSQL with real threads (SPEC §6,
STYLE §2): row locks serialise tickets to one shop, exactly."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from compliance.exceptions import DomainError
from compliance.models import DepositEntry, Measure, PointEntry, Ticket
from shops.models import Shop
from tests.factories import fund, issue, make_product, make_shop, make_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKERS = 8


def race(target, n=WORKERS):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def work(i):
        try:
            barrier.wait(timeout=10)
            results.append(target(i))
        except DomainError as exc:
            results.append(exc)
        except Exception as exc:  # anything else reaching a user is a failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def pg(on_postgres):
    return connection


def test_eight_workers_on_one_shop_give_exact_totals(pg):
    reviewer = make_staff("race-reviewer", "Reviewer")
    shop = fund(make_shop(), 100000)
    products = [make_product(shop) for _ in range(WORKERS)]
    race(lambda i: issue(shop, "price_mismatch", "general", reviewer, products=[products[i]]))
    assert Ticket.objects.filter(shop=shop).count() == WORKERS
    assert PointEntry.objects.filter(shop=shop).aggregate(s=Sum("points"))["s"] == 24
    # 8 × ¥2,000 of the tickets, plus node A12's ¥2,000 and node A24's ¥5,000 (SPEC §6.2: they add up).
    shop.refresh_from_db()
    assert shop.deposit_balance == Decimal("100000") - Decimal("23000")
    from compliance.models import NodeApplication

    assert sorted(NodeApplication.objects.in_force().filter(shop=shop).values_list("node__threshold", flat=True)) == [
        12, 24]
    assert DepositEntry.objects.filter(shop=shop).aggregate(s=Sum("amount"))["s"] == shop.deposit_balance
    nodes = sorted(Measure.objects.filter(shop=shop, kind="suspend").values_list("node__threshold", flat=True))
    assert nodes == [12, 24]


def test_eight_workers_racing_to_clearance_clear_once(pg):
    reviewer = make_staff("race-reviewer", "Reviewer")
    shop = fund(make_shop(), 10000)
    products = [make_product(shop) for _ in range(WORKERS)]
    results = race(lambda i: issue(shop, "counterfeit", "general", reviewer, products=[products[i]]))
    issued = [r for r in results if isinstance(r, Ticket)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(issued) == 4 and len(refused) == 4  # B reaches 12 on the 4th; the shop is then cleared
    assert Measure.objects.filter(kind="clear").count() == 1
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED and shop.deposit_balance == 0
    assert PointEntry.objects.filter(shop=shop).aggregate(s=Sum("points"))["s"] == 12


def test_shops_of_one_controller_clearing_at_once_do_not_deadlock(pg):
    reviewer = make_staff("race-reviewer", "Reviewer")
    first = fund(make_shop(), 1000)
    shops = [first] + [fund(make_shop(first.controller), 1000) for _ in range(3)]
    results = race(lambda i: issue(shops[i], "counterfeit", "especially_serious", reviewer), n=4)
    assert all(isinstance(r, Ticket) for r in results)
    assert Shop.objects.filter(controller=first.controller, status="cleared").count() == 4


def test_lock_shop_takes_the_controller_before_the_shop(pg):
    """The fixed lock order (services.locks) in one statement: while another
    transaction holds the shop, ``lock_shop`` already holds the controller —
    so a workflow that locks the controller and then the shop waits behind
    it instead of deadlocking with it."""
    from compliance.services.locks import lock_shop
    from django.db import DatabaseError, transaction
    from shops.models import Controller

    shop = make_shop()
    holding, waiting, done = threading.Event(), threading.Event(), threading.Event()
    outcome = {}

    def hold_the_shop():
        with transaction.atomic():
            Shop.objects.select_for_update(no_key=True).get(pk=shop.pk)
            holding.set()
            waiting.wait(timeout=10)
        connections.close_all()

    def lock_it():
        holding.wait(timeout=10)
        with transaction.atomic():
            outcome["locked"] = lock_shop(shop.pk).pk
        connections.close_all()
        done.set()

    holder, locker = threading.Thread(target=hold_the_shop), threading.Thread(target=lock_it)
    holder.start()
    locker.start()
    holding.wait(timeout=10)
    try:
        for _ in range(100):  # until lock_shop is waiting for the shop, holding the controller
            try:
                with transaction.atomic():
                    Controller.objects.select_for_update(nowait=True, no_key=True).get(pk=shop.controller_id)
            except DatabaseError:
                outcome["controller_taken"] = True
                break
            threading.Event().wait(0.05)
    finally:
        waiting.set()
        holder.join(timeout=10)
        locker.join(timeout=10)
    assert outcome == {"controller_taken": True, "locked": shop.pk} and done.is_set()


def test_a_double_submitted_form_issues_one_ticket(pg):
    reviewer = make_staff("race-reviewer", "Reviewer")
    shop = fund(make_shop(), 10000)
    results = race(lambda i: issue(shop, "false_advertising", "serious", reviewer, idempotency_key="same"), n=4)
    assert len({r.pk for r in results}) == 1
    assert Ticket.objects.count() == 1 and PointEntry.objects.count() == 1


def test_two_reviewers_deciding_one_appeal_give_one_decision(pg):
    import datetime

    from django.utils import timezone

    from compliance.exceptions import InvalidTransition
    from compliance.models import Appeal, Event
    from compliance.services.appeals import appeal_decide, appeal_submit
    from tests.factories import make_merchant

    reviewer = make_staff("race-reviewer", "Reviewer")
    deciders = [make_staff(f"race-appeals-{i}", "Appeal reviewer") for i in range(2)]
    shop = fund(make_shop(), 10000)
    merchant = make_merchant("race-merchant", shop)
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    appeal = appeal_submit(ticket=ticket, actor=merchant, reason="证据不足", statement="附质检报告",
                           now=timezone.now() + datetime.timedelta(minutes=1))
    results = race(lambda i: appeal_decide(appeal=appeal, approve=i == 0, reason=f"decision {i}",
                                           actor=deciders[i]), n=2)
    decided = [r for r in results if isinstance(r, Appeal)]
    refused = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(decided) == 1 and len(refused) == 1
    appeal.refresh_from_db()
    assert appeal.status in ("approved", "rejected")
    assert Event.objects.filter(action__in=["appeal_approved", "appeal_rejected"]).count() == 1


def test_revocations_racing_lift_a_node_exactly_once(pg):
    """Five general tickets (A15, node A12 in force); four reviewers revoke
    four of them at once. The node is re-evaluated under the shop's lock by
    each: it is lifted once, and its ¥2,000 refunded once."""
    from compliance.models import NodeApplication
    from compliance.services.tickets import ticket_revoke

    reviewers = [make_staff(f"race-revoker-{i}", "Reviewer") for i in range(4)]
    shop = fund(make_shop(), 100000)
    tickets = [issue(shop, "price_mismatch", "general", reviewers[0], products=[make_product(shop)])
               for _ in range(5)]
    race(lambda i: ticket_revoke(ticket=tickets[i], actor=reviewers[i], reason=f"误判 {i}"), n=4)
    application = NodeApplication.objects.get(shop=shop)
    assert application.status == NodeApplication.Status.LIFTED and application.total_after_lift == 9
    assert PointEntry.objects.filter(shop=shop).aggregate(s=Sum("points"))["s"] == 3
    assert application.deposit_entries.filter(kind=DepositEntry.Kind.REFUND).count() == 1
    shop.refresh_from_db()
    assert shop.status == Shop.Status.OPEN
    assert shop.deposit_balance == Decimal("100000") - Decimal("2000")  # the one live ticket's own
    assert DepositEntry.objects.filter(shop=shop).aggregate(s=Sum("amount"))["s"] == shop.deposit_balance


def test_daily_job_and_an_appeal_racing_never_lose_the_appeal(pg):
    """The set-based finalisation skips rows a merchant is appealing right now
    (SKIP LOCKED); a ticket is either final or under appeal, never both, and
    every ticket that was due and not appealed is final."""
    import datetime

    from django.utils import timezone

    from compliance.models import Appeal, Event
    from compliance.services.appeals import appeal_submit
    from compliance.services.daily import finalise_tickets
    from tests.factories import make_merchant

    reviewer = make_staff("race-reviewer", "Reviewer")
    shop = fund(make_shop(), 100000)
    merchant = make_merchant("race-merchant", shop)
    issued = timezone.now() - datetime.timedelta(days=8, hours=12)
    tickets = [issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, now=issued) for _ in range(30)]
    # The merchant appeals at the window's last moment while the job runs at the cut-off.
    last_moment = tickets[0].appeal_deadline
    cutoff = last_moment + datetime.timedelta(microseconds=1)
    results = race(lambda i: finalise_tickets(cutoff) if i == 0 else appeal_submit(
        ticket=tickets[i], actor=merchant, reason="证据不足", statement="附检测报告", now=last_moment), n=4)
    appealed = {r.ticket_id for r in results if isinstance(r, Appeal)}
    for ticket in tickets:
        ticket.refresh_from_db()
        if ticket.pk in appealed:
            assert ticket.status == Ticket.Status.APPEALING
        else:
            assert ticket.status in (Ticket.Status.FINAL, Ticket.Status.ISSUED)
    finalise_tickets(cutoff)  # a second run picks up anything skipped, and is idempotent
    statuses = set(Ticket.objects.filter(shop=shop).exclude(pk__in=appealed).values_list("status", flat=True))
    assert statuses == {Ticket.Status.FINAL}
    assert Event.objects.filter(action="ticket_final").count() == 30 - len(appealed)


# Certificates (SPEC §4) -----------------------------------------------------------------------------

def test_two_reviewers_approving_one_certificate_record_one_review(pg):
    from compliance.exceptions import InvalidTransition
    from compliance.models import Event, Qualification
    from compliance.services.qualifications import qualification_review
    from tests.factories import submit_certificate

    reviewers = [make_staff(f"race-cert-{i}", "Reviewer") for i in range(4)]
    shop = make_shop()
    q = submit_certificate(shop, "business_licence", reviewers[0])
    results = race(lambda i: qualification_review(qualification=q, approve=i % 2 == 0, reason="核验", actor=reviewers[i]),
                   n=4)
    assert sum(isinstance(r, InvalidTransition) for r in results) == 3
    assert Event.objects.filter(action="qualification_reviewed").count() == 1
    assert Qualification.objects.get().status in ("approved", "rejected")


def test_replacement_approved_while_the_job_tickets_the_notice(pg):
    """The review and the daily job both lock the shop first: whichever
    commits first, the end is consistent — either the notice closed as
    replaced with no ticket, or ticketed and the product relisted."""
    import datetime

    from django.utils import timezone

    from compliance.models import RectificationNotice
    from compliance.services.daily import expire_certificates, ticket_overdue_notices
    from compliance.services.qualifications import qualification_review
    from tests.factories import approved_certificate, submit_certificate

    reviewer = make_staff("race-cert-reviewer", "Reviewer")
    shop = fund(make_shop(), 10000)
    product = make_product(shop, category="数码")
    at = timezone.make_aware(datetime.datetime(2026, 3, 1, 12))
    old = approved_certificate(shop, "ccc", reviewer, products=[product], expires_on=datetime.date(2026, 3, 10),
                               now=at)
    expire_certificates(timezone.make_aware(datetime.datetime(2026, 3, 11, 1)))
    notice = RectificationNotice.objects.get()
    RectificationNotice.objects.filter(pk=notice.pk).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    renewal = submit_certificate(shop, "ccc", reviewer, renews=old, products=[product],
                                 expires_on=datetime.date(2031, 3, 10))

    def work(i):
        if i == 0:
            return ticket_overdue_notices(timezone.now())
        return qualification_review(qualification=renewal, approve=True, reason="", actor=reviewer)

    race(work, n=2)
    notice.refresh_from_db()
    product.refresh_from_db()
    assert notice.status == "closed" and notice.replacement_id == renewal.pk
    assert (notice.outcome == "replaced" and notice.ticket_id is None) or (
        notice.outcome == "ticketed" and notice.relisted_at is not None)
    assert product.status == "on_sale"


def test_two_reviewers_deciding_one_warning_make_one_decision(pg):
    """SPEC §11: of reviewers confirming and dismissing at once, one decides;
    the others are told who did."""
    import datetime

    from django.utils import timezone

    from compliance.models import ViolationWarning
    from compliance.services.warnings import warning_decide
    from tests.factories import make_integration, receive_warning

    reviewers = [make_staff(f"race-w{i}", "Reviewer") for i in range(WORKERS)]
    shop = fund(make_shop(), 100000)
    long_ago = timezone.now() - datetime.timedelta(days=3)
    warning = receive_warning(make_integration("race")[0], shop, now=long_ago)
    results = race(lambda i: warning_decide(warning=warning, actor=reviewers[i], confirm=i % 2 == 0,
                                            reason="复核结论"))
    decided = [r for r in results if isinstance(r, ViolationWarning)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(decided) == 1 and len(refused) == WORKERS - 1
    # Each was told the decision was taken (threads do not share the test's English: check the kind).
    from compliance.exceptions import InvalidTransition

    assert all(isinstance(r, InvalidTransition) for r in refused)
    warning.refresh_from_db()
    assert Ticket.objects.filter(shop=shop).count() == (1 if warning.status == "confirmed" else 0)


def test_an_answer_racing_a_confirmation_is_one_or_the_other(pg):
    """The merchant answers in the last second while a reviewer confirms: the
    warning's row lock orders them; neither is lost half-way."""
    import datetime

    from django.utils import timezone

    from compliance.models import ViolationWarning
    from compliance.services.warnings import warning_answer, warning_decide
    from tests.factories import make_integration, make_merchant, receive_warning

    reviewer = make_staff("race-answer", "Reviewer")
    shop = fund(make_shop(), 100000)
    merchant = make_merchant("race-merchant", shop)
    warning = receive_warning(make_integration("race2")[0], shop, now=timezone.now() - datetime.timedelta(hours=47))
    deadline = warning.deadline

    def work(i):
        if i == 0:
            return warning_answer(warning=warning, actor=merchant, text="最后一刻的解释",
                                  now=deadline - datetime.timedelta(seconds=1))
        return warning_decide(warning=warning, actor=reviewer, confirm=True, now=deadline + datetime.timedelta(seconds=1))

    results = race(work, n=2)
    warning.refresh_from_db()
    # Either order ends confirmed with one ticket: an answer first is then decided; a confirmation
    # first refuses the late answer, whole (no text, no files, no event).
    assert warning.status == ViolationWarning.Status.CONFIRMED and Ticket.objects.filter(shop=shop).count() == 1
    refused = [r for r in results if isinstance(r, DomainError)]
    if warning.answer:
        assert not refused
    else:
        assert len(refused) == 1 and not warning.files.exists()


def test_a_batch_sent_twice_at_once_is_received_once(pg):
    from compliance.models import ViolationWarning
    from compliance.services.warnings import warnings_receive
    from tests.factories import make_integration, warning_row

    shop = fund(make_shop(), 100000)
    detector = make_integration("race3")[0]
    rows = [warning_row(shop, f"dup-{i}") for i in range(20)]
    results = race(lambda i: warnings_receive(integration=detector, rows=rows), n=4)
    assert ViolationWarning.objects.filter(integration=detector).count() == 20
    outcomes = sorted(sum(1 for r in batch if r.outcome == "created") for batch in results)
    assert outcomes == [0, 0, 0, 20]


def test_the_expiry_step_skips_a_warning_a_reviewer_is_deciding(pg):
    """The daily job marks open warnings past their deadline as expired; one
    a reviewer is deciding at that moment is left to the decision — it gets
    no "expired" event — and the others are marked, each with one event."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from compliance.models import Event, ViolationWarning
    from compliance.services.locks import lock_shop
    from compliance.services.warnings import warning_decide, warnings_expire
    from tests.factories import make_integration, receive_warning

    reviewer = make_staff("race-expire", "Reviewer")
    detector = make_integration("race-expire")[0]
    long_ago = timezone.now() - datetime.timedelta(days=3)
    shops = [fund(make_shop(), 10000) for _ in range(3)]
    deciding, *others = [receive_warning(detector, shop, f"r-{i}", now=long_ago) for i, shop in enumerate(shops)]
    locked, proceed = threading.Event(), threading.Event()

    def reviewer_decides():
        try:
            with transaction.atomic():
                lock_shop(deciding.shop_id)  # the decision's own lock order: controller, shop, warning
                ViolationWarning.objects.select_for_update().get(pk=deciding.pk)
                locked.set()
                proceed.wait(10)
                warning_decide(warning=deciding, actor=reviewer, confirm=False, reason="检测有误")
        finally:
            connections.close_all()

    thread = threading.Thread(target=reviewer_decides)
    thread.start()
    assert locked.wait(10)
    threading.Timer(1.0, proceed.set).start()  # an expiry that waited for the row would see the decision
    try:
        expired = warnings_expire(timezone.now())
    finally:
        proceed.set()
        thread.join(30)
    assert expired == 2
    statuses = dict(ViolationWarning.objects.values_list("pk", "status"))
    assert statuses[deciding.pk] == "dismissed" and all(statuses[w.pk] == "expired" for w in others)
    events = Event.objects.filter(action=Event.Action.WARNING_EXPIRED)
    assert sorted(events.values_list("data__warning", flat=True)) == sorted(w.number for w in others)


def test_workers_taking_from_the_outbox_at_once_never_hold_one_row(pg):
    """services.leases.take: eight workers lease batches of the same due
    e-mails at the same moment — each e-mail goes to one of them."""
    from django.utils import timezone

    from compliance.models import OutboxEmail
    from compliance.services import outbox

    now = timezone.now()
    OutboxEmail.objects.bulk_create([OutboxEmail(shop=None, kind="race", to=f"r{i}@shop.example", subject="s",
                                                 body="b", created_at=now, next_attempt_at=now)
                                     for i in range(WORKERS * 20)])
    taken = race(lambda i: [row.pk for row in outbox.take(timezone.now(), limit=30)])
    ids = [pk for batch in taken for pk in batch]
    assert len(ids) == len(set(ids)) == WORKERS * 20  # each once, and every one (8 × 30 ≥ 160)
    tokens = OutboxEmail.objects.values_list("lease_token", flat=True).distinct()
    assert len(tokens) == sum(1 for batch in taken if batch)


@pytest.mark.parametrize("first", ["relay", "worker"])
def test_a_relay_adding_to_a_stream_a_worker_empties_leaves_it_due(pg, first, settings):
    """services.deliveries: a worker finishing a shop's last pending delivery
    and the relay queueing that shop's next one, at the same moment, in
    either order — the stream ends due, never empty with a delivery pending
    (which would hold the shop's events for ever)."""
    import uuid

    from django.db import transaction
    from django.utils import timezone

    from compliance.models import DeliveryStream, OutboundEvent, WebhookDelivery
    from compliance.services import deliveries
    from compliance.services.webhooks import webhook_subscribe
    from tests.factories import make_integration

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # nothing is sent: the receiver is never asked
    shop = make_shop()
    integration, _key = make_integration("race-hooks", scopes=["webhooks"])
    hook, _secret = webhook_subscribe(integration=integration, url="http://127.0.0.1:9/in",
                                      events=["ticket.issued"])
    now = timezone.now()

    def delivery(sequence):
        event = OutboundEvent.objects.create(uuid=uuid.uuid4(), type="ticket.issued", shop=shop, sequence=sequence,
                                             position=sequence, occurred_at=now, published_at=now, data={})
        return WebhookDelivery(subscription=hook, event=event, stream=shop.pk, sequence=sequence, created_at=now,
                               next_attempt_at=now)

    with transaction.atomic():
        deliveries.queue([delivery(1)])
    stream = DeliveryStream.objects.get(subscription=hook, stream=shop.pk)
    second = delivery(2)
    holding, release = threading.Event(), threading.Event()

    def relay():
        try:
            with transaction.atomic():
                if first == "worker":
                    assert holding.wait(10)  # the worker holds the stream: this waits for its commit
                deliveries.queue([second])
                if first == "relay":
                    holding.set()
                    assert release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=relay)
    thread.start()
    with transaction.atomic():
        if first == "relay":
            assert holding.wait(10)
            threading.Timer(0.5, release.set).start()  # the worker's lock waits for the relay's commit
        WebhookDelivery.objects.filter(subscription=hook, sequence=1).update(status="delivered", delivered_at=now)
        deliveries._follow([stream.pk])  # noqa: SLF001 — the step a worker ends its batch with
        if first == "worker":
            holding.set()
            time.sleep(0.5)  # the relay now waits on the stream's row
    thread.join(20)
    stream.refresh_from_db()
    assert WebhookDelivery.objects.filter(subscription=hook, status="pending").count() == 1
    assert stream.next_attempt_at is not None and stream.lease_token == ""


def test_reviewers_claiming_one_item_at_once_one_holds_it(pg):
    """SPEC §14: of eight reviewers claiming one certificate at the same
    moment, one holds it; each of the others is told who does. Then the
    same when the item's earlier claim has run out: one takes it, and the
    old claim ends once."""
    import datetime

    from django.utils import timezone

    from compliance.models import Claim, Event, Qualification
    from compliance.services import claims
    from tests.factories import make_merchant, submit_certificate

    shop = make_shop()
    certificate = submit_certificate(shop, "business_licence", make_merchant("race-claim-merchant", shop))
    reviewers = [make_staff(f"race-claim-{i}", "Reviewer") for i in range(WORKERS)]
    subject = Qualification.EVENT_SUBJECT
    results = race(lambda i: claims.claim_take(subject=subject, subject_id=certificate.pk, actor=reviewers[i]))
    held = [r for r in results if isinstance(r, Claim)]
    refused = [r for r in results if isinstance(r, claims.ClaimHeld)]
    assert len(held) == 1 and len(refused) == WORKERS - 1
    assert {r.claim.holder_id for r in refused} == {held[0].holder_id}
    assert Claim.objects.filter(subject=subject, subject_id=certificate.pk, status="held").count() == 1

    Claim.objects.filter(pk=held[0].pk).update(leased_until=timezone.now() - datetime.timedelta(minutes=1))
    # The others race for it (its holder taking it again would renew the claim, not end it).
    others = [r for r in reviewers if r.pk != held[0].holder_id]
    results = race(lambda i: claims.claim_take(subject=subject, subject_id=certificate.pk, actor=others[i]),
                   n=len(others))
    taken = [r for r in results if isinstance(r, Claim)]
    assert len(taken) == 1 and all(isinstance(r, claims.ClaimHeld) for r in results if r not in taken)
    assert Claim.objects.filter(subject=subject, subject_id=certificate.pk, status="held").count() == 1
    assert Claim.objects.get(pk=held[0].pk).status == Claim.Status.LAPSED
    assert Event.objects.filter(action=Event.Action.CLAIM_LAPSED).count() == 1


def test_a_kept_health_page_is_read_again_when_an_earlier_event_commits_late(pg):
    """selectors.health keys the portal's health page by the count of the
    shop's events, not the last ID: an event whose transaction took its ID
    first but commits after a later one still changes the key, though the
    last ID does not move."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from compliance.models import Event
    from compliance.selectors import health_page, health_revision
    from compliance.services.events import record_event

    shop = make_shop()
    holding, release, errors = threading.Event(), threading.Event(), []

    def early():
        try:
            with transaction.atomic():
                record_event(shop=Shop.objects.get(pk=shop.pk), action=Event.Action.SHOP_STATUS, at=timezone.now(),
                             reason="early")
                holding.set()
                assert release.wait(timeout=10)
        except Exception as exc:  # a failure in the thread fails the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=early)
    thread.start()
    assert holding.wait(timeout=10)
    record_event(shop=shop, action=Event.Action.SHOP_STATUS, at=timezone.now(), reason="late")  # commits first
    kept, last_id = health_revision(shop), Event.objects.filter(shop=shop).aggregate(m=Max("id"))["m"]
    health_page(shop)  # kept under that revision
    release.set()
    thread.join(timeout=20)
    assert not errors, errors
    assert Event.objects.filter(shop=shop).aggregate(m=Max("id"))["m"] == last_id  # the last ID did not move
    assert health_revision(shop) != kept  # the count did: the next view reads the page again
