import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.exceptions import AppealNotAllowed, DomainError, FourEyesViolation, InvalidTransition, NotPermitted
from compliance.models import Appeal, OutboxEmail, Ticket
from compliance.selectors import point_totals
from compliance.services.appeals import add_working_days, appeal_decide, appeal_submit
from shops.models import Product, Shop
from tests.factories import fund, issue, make_merchant, make_product, make_shop, make_staff, pdf_upload
from tests.worker import drain

pytestmark = pytest.mark.django_db

ISSUED = timezone.make_aware(datetime.datetime(2026, 11, 2, 10, 0))  # a Monday


@pytest.fixture
def shop():
    return fund(make_shop(), 20000)


@pytest.fixture
def merchant(shop):
    user = make_merchant("m-appeal", shop)
    user.email = "owner@shop.example"
    user.save()
    return user


@pytest.fixture
def ticket(shop, reviewer):
    return issue(shop, "false_advertising", "serious", reviewer, now=ISSUED)


def submit(ticket, merchant, at, **kw):
    return appeal_submit(ticket=ticket, actor=merchant, reason=kw.pop("reason", "证据不足"),
                         statement=kw.pop("statement", "商品材质有第三方质检报告为证。"), now=at, **kw)


def test_working_days_skip_the_weekend():
    friday = timezone.make_aware(datetime.datetime(2026, 11, 6, 15, 0))
    assert add_working_days(friday, 2).date() == datetime.date(2026, 11, 10)  # Tuesday
    assert add_working_days(ISSUED, 2).date() == datetime.date(2026, 11, 4)


def at_shanghai(*args):
    return timezone.make_aware(datetime.datetime(*args))


def test_window_boundaries(ticket, merchant):
    # SPEC §7: whole Shanghai days — issued on 2 November, open until 23:59:59 on 9 November.
    deadline = ticket.appeal_deadline
    assert timezone.localtime(deadline).replace(microsecond=0) == at_shanghai(2026, 11, 9, 23, 59, 59)
    with pytest.raises(AppealNotAllowed, match="window closed"):
        submit(ticket, merchant, at_shanghai(2026, 11, 10, 0, 0, 0))
    appeal = submit(ticket, merchant, at_shanghai(2026, 11, 9, 23, 59, 59))  # the last second still counts
    assert appeal.attempt == 1 and appeal.due_at.date() == datetime.date(2026, 11, 11)


@pytest.mark.parametrize("issued_at", [(2026, 5, 1, 0, 0, 0), (2026, 5, 1, 18, 37), (2026, 5, 1, 23, 59, 59)])
def test_window_counts_whole_days_whatever_the_hour_of_issue(shop, reviewer, merchant, issued_at):
    ticket = issue(shop, "false_advertising", "serious", reviewer, now=at_shanghai(*issued_at))
    # A ticket issued at any time on 1 May may be appealed until 23:59:59 on 8 May.
    assert submit(ticket, merchant, at_shanghai(2026, 5, 8, 19, 37)).attempt == 1


def test_window_closes_at_shanghai_midnight_not_utc(shop, reviewer, merchant):
    ticket = issue(shop, "false_advertising", "serious", reviewer, now=at_shanghai(2026, 5, 1, 18, 37))
    with pytest.raises(AppealNotAllowed, match="window closed"):
        submit(ticket, merchant, at_shanghai(2026, 5, 9, 0, 0, 0))  # 16:00 UTC on 8 May


def test_second_chance_only_after_a_rejection_and_no_third(ticket, merchant, appeal_reviewer):
    first = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    with pytest.raises(AppealNotAllowed, match="being decided"):
        submit(ticket, merchant, ISSUED + datetime.timedelta(days=1, hours=1))
    appeal_decide(appeal=first, approve=False, reason="报告与商品批次不符", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=2))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED  # appealable again
    second = submit(ticket, merchant, ISSUED + datetime.timedelta(days=3))
    assert second.attempt == 2
    appeal_decide(appeal=second, approve=False, reason="仍不符", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=4))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.FINAL  # chances used
    with pytest.raises(AppealNotAllowed, match="all 2 appeal chances"):
        submit(ticket, merchant, ISSUED + datetime.timedelta(days=5))


def test_rejection_after_the_window_makes_the_ticket_final(ticket, merchant, appeal_reviewer):
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=6))
    appeal_decide(appeal=appeal, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=8))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.FINAL


def test_chances_and_window_come_from_the_rule(shop, reviewer, merchant, appeal_reviewer):
    from compliance.models import Rule

    Rule.objects.filter(code="price_mismatch").update(appeal_chances=1, appeal_window_days=3)
    ticket = issue(shop, "price_mismatch", "serious", reviewer, now=ISSUED)
    assert timezone.localtime(ticket.appeal_deadline).date() == datetime.date(2026, 11, 5)
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    appeal_decide(appeal=appeal, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=1, hours=2))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.FINAL


def test_four_eyes(ticket, merchant, reviewer, appeal_reviewer):
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    issuer_with_both_roles = ticket.issued_by
    issuer_with_both_roles.groups.add(appeal_reviewer.groups.get())
    issuer_with_both_roles = type(issuer_with_both_roles).objects.get(pk=issuer_with_both_roles.pk)
    with pytest.raises(FourEyesViolation):
        appeal_decide(appeal=appeal, approve=True, reason="ok", actor=issuer_with_both_roles)
    plain_reviewer = make_staff("plain-reviewer", "Reviewer")
    with pytest.raises(NotPermitted):
        appeal_decide(appeal=appeal, approve=True, reason="ok", actor=plain_reviewer)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.PENDING


def test_approval_reverses_points_deposit_delisting_and_suspension(shop, reviewer, merchant, appeal_reviewer):
    product = make_product(shop)
    delisting = issue(shop, "false_advertising", "general", reviewer, products=[product], now=ISSUED)
    suspension = issue(shop, "logistics_mismatch", "serious", reviewer, now=ISSUED)
    for ticket in (delisting, suspension):
        appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(hours=3))
        appeal_decide(appeal=appeal, approve=True, reason="商家提供的证据成立", actor=appeal_reviewer,
                      now=ISSUED + datetime.timedelta(hours=5))
    shop.refresh_from_db()
    product.refresh_from_db()
    assert product.status == Product.Status.ON_SALE
    assert shop.status == Shop.Status.OPEN and shop.deposit_balance == Decimal("20000")
    assert point_totals(shop, 2026) == {"A": 0, "B": 0}
    assert set(Ticket.objects.values_list("status", flat=True)) == {"revoked"}


def test_rejection_keeps_everything(shop, reviewer, merchant, appeal_reviewer):
    product = make_product(shop)
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[product], now=ISSUED)
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(hours=1))
    appeal_decide(appeal=appeal, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(hours=2))
    product.refresh_from_db()
    shop.refresh_from_db()
    assert product.status == Product.Status.DELISTED and shop.deposit_balance == Decimal("18000")
    assert point_totals(shop, 2026)["A"] == 3


def test_decided_twice_is_refused(ticket, merchant, appeal_reviewer):
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    appeal_decide(appeal=appeal, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=2))
    with pytest.raises(InvalidTransition, match="already"):
        appeal_decide(appeal=appeal, approve=True, reason="改判", actor=appeal_reviewer)


def test_bad_appeals_write_nothing(ticket, merchant, shop):
    at = ISSUED + datetime.timedelta(days=1)
    for kwargs, message in [
        ({"statement": "长" * 2001}, "2000"),
        ({"statement": " "}, "statement"),
        ({"reason": ""}, "one line"),
    ]:
        with pytest.raises(DomainError, match=message):
            submit(ticket, merchant, at, **kwargs)
    stranger = make_merchant("stranger", make_shop())
    with pytest.raises(NotPermitted):
        submit(ticket, stranger, at)
    assert not Appeal.objects.exists()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED


def test_statement_limit_is_policy_data(ticket, merchant):
    from compliance.models import PolicySettings

    PolicySettings.objects.filter(pk=1).update(appeal_statement_max_chars=100)
    with pytest.raises(DomainError, match="100"):
        submit(ticket, merchant, ISSUED + datetime.timedelta(days=1), statement="长" * 101)
    assert submit(ticket, merchant, ISSUED + datetime.timedelta(days=1), statement="长" * 100).pk


def test_appeal_evidence_is_stored_privately(ticket, merchant, settings):
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1), files=[pdf_upload("质检报告.pdf")])
    stored = appeal.evidence.get().file
    assert stored.path.startswith(str(settings.PRIVATE_MEDIA_ROOT)) and "质检" not in stored.name


def test_one_open_appeal_is_a_database_constraint(ticket, merchant):
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(ticket=ticket, attempt=2, reason="x", statement="x", submitted_by=merchant,
                              submitted_at=appeal.submitted_at, due_at=appeal.due_at)


def test_emails_go_out_through_the_outbox(shop, reviewer, merchant, appeal_reviewer, mailoutbox):
    ticket = issue(shop, "false_advertising", "serious", reviewer, now=ISSUED)
    # Written with the ticket, sent by a worker.
    assert mailoutbox == [] and OutboxEmail.objects.get().status == OutboxEmail.Status.PENDING
    drain()
    assert OutboxEmail.objects.get().status == OutboxEmail.Status.SENT
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["owner@shop.example"]
    assert ticket.number in mailoutbox[0].subject
    body = mailoutbox[0].body
    # Every measure (the suspension and the deduction), the whole-day deadline, a link to the ticket.
    assert "停业整顿" in body and "¥5,000.00" in body and "2026-11-09 23:59" in body
    assert f"/portal/tickets/{ticket.number}/" in body
    appeal = submit(ticket, merchant, ISSUED + datetime.timedelta(days=1))
    appeal_decide(appeal=appeal, approve=True, reason="证据成立", actor=appeal_reviewer,
                  now=ISSUED + datetime.timedelta(days=2))
    drain()
    assert len(mailoutbox) == 2 and "证据成立" in mailoutbox[1].body
    assert f"/portal/tickets/{ticket.number}/" in mailoutbox[1].body


def test_no_email_when_issuing_fails(shop, reviewer, merchant, mailoutbox):
    with pytest.raises(DomainError):
        issue(shop, "false_advertising", "serious", reviewer, points=99)
    drain()
    assert mailoutbox == [] and not OutboxEmail.objects.exists()
