"""SPEC §4: certificates, rectification notices, the table of tickets, the
daily job's expiry and deadlines, supersede and relist."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import Event, Measure, PolicySettings, Qualification, RectificationNotice, Ticket
from compliance.services.qualifications import (
    qualification_review, qualification_withdraw, trademark_event,
)
from shops.models import Product, Shop
from tests.worker import drain, run_daily
from tests.factories import (
    approved_certificate, fund, issue, make_merchant, make_product, make_shop, submit_certificate,
)

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(y, mo, d, h=12, mi=0):
    return timezone.make_aware(datetime.datetime(y, mo, d, h, mi), TZ)


def run(day: str) -> str:
    return run_daily(day)


@pytest.fixture
def shop(db):
    shop = fund(make_shop(), 20000)
    merchant = make_merchant(f"m-{shop.shop_no}", shop)
    merchant.email = "owner@shop.example"
    merchant.save(update_fields=["email"])
    return shop


def ccc(shop, reviewer, *, expires_on, now=None, products=None, **kwargs):
    products = products if products is not None else [make_product(shop, category="数码")]
    return approved_certificate(shop, "ccc", reviewer, expires_on=expires_on, products=products,
                                now=now or at(2026, 1, 5), **kwargs)


# Submission and review ---------------------------------------------------------------------------

def test_submission_checks(shop, reviewer):
    merchant = shop.members.first().user
    with pytest.raises(DomainError, match="brand"):
        submit_certificate(shop, "brand_authorisation", merchant)
    with pytest.raises(DomainError, match="products"):
        submit_certificate(shop, "ccc", merchant)
    with pytest.raises(DomainError, match="before it was issued"):
        submit_certificate(shop, "business_licence", merchant, issued_on=datetime.date(2026, 5, 1),
                           expires_on=datetime.date(2026, 4, 1), now=at(2026, 1, 1))
    with pytest.raises(DomainError, match="already expired"):
        submit_certificate(shop, "business_licence", merchant, expires_on=datetime.date(2026, 4, 1),
                           now=at(2026, 4, 2))
    other = make_product(make_shop())
    with pytest.raises(DomainError, match="belong to this shop"):
        submit_certificate(shop, "ccc", merchant, products=[other])
    assert not Qualification.objects.exists()


def test_review_approve_reject_and_no_second_review(shop, reviewer):
    merchant = shop.members.first().user
    q = submit_certificate(shop, "business_licence", merchant)
    with pytest.raises(DomainError, match="reason"):
        qualification_review(qualification=q, approve=False, reason=" ", actor=reviewer)
    qualification_review(qualification=q, approve=False, reason="照片模糊，请重新拍摄", actor=reviewer)
    q.refresh_from_db()
    assert q.status == Qualification.Status.REJECTED and q.reviewed_by == reviewer
    with pytest.raises(InvalidTransition):
        qualification_review(qualification=q, approve=True, reason="", actor=reviewer)
    assert list(Event.objects.filter(action="qualification_reviewed").values_list("to_status", flat=True)) == [
        "rejected"]


def test_an_expired_certificate_cannot_be_approved(shop, reviewer):
    q = submit_certificate(shop, "business_licence", reviewer, expires_on=datetime.date(2026, 3, 1),
                           now=at(2026, 2, 1))
    with pytest.raises(DomainError, match="expired"):
        qualification_review(qualification=q, approve=True, reason="", actor=reviewer, now=at(2026, 3, 2))


def test_one_renewal_under_review_and_approval_supersedes(shop, reviewer):
    old = ccc(shop, reviewer, expires_on=datetime.date(2026, 6, 30))
    merchant = shop.members.first().user
    renewal = submit_certificate(shop, "ccc", merchant, renews=old, products=list(old.products.all()),
                                 expires_on=datetime.date(2029, 6, 30), now=at(2026, 6, 1))
    with pytest.raises(InvalidTransition, match="already under review"):
        submit_certificate(shop, "ccc", merchant, renews=old, products=list(old.products.all()),
                           now=at(2026, 6, 1))
    qualification_review(qualification=renewal, approve=True, reason="", actor=reviewer, now=at(2026, 6, 2))
    old.refresh_from_db()
    assert old.status == Qualification.Status.SUPERSEDED
    run("2026-07-05")  # the old one's date passes: superseded, so no expiry and no notice
    old.refresh_from_db()
    assert old.status == Qualification.Status.SUPERSEDED and not RectificationNotice.objects.exists()


# Expiry and the rectification deadline (whole days, Asia/Shanghai) -------------------------------

def test_expiry_opens_a_notice_with_a_whole_day_deadline(shop, reviewer, mailoutbox):
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    run("2026-03-09")
    q.refresh_from_db()
    assert q.status == Qualification.Status.APPROVED
    # The run for a day handles what fell due by its end: valid through 10 March, expired at midnight.
    out = run("2026-03-10")
    assert "expire_certificates: 1" in out
    q.refresh_from_db()
    assert q.status == Qualification.Status.EXPIRED
    assert q.lapsed_at == at(2026, 3, 11, 0, 0)  # the Shanghai midnight that ends the last day
    notice = q.notice
    assert notice.opened_at == q.lapsed_at and notice.status == RectificationNotice.Status.OPEN
    # Default 7 days: opened on 11 March, answerable until 23:59:59 on 18 March.
    assert timezone.localtime(notice.deadline, TZ).strftime("%Y-%m-%d %H:%M:%S") == "2026-03-18 23:59:59"
    assert any("2026-03-18 23:59" in m.body for m in mailoutbox)


def test_deadline_boundary_at_shanghai_midnight(shop, reviewer):
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    product = q.products.get()
    run("2026-03-10")
    assert "ticket_overdue_notices: 0" in run("2026-03-17")
    q.notice.refresh_from_db()
    assert q.notice.status == RectificationNotice.Status.OPEN
    # The notice can be answered until 23:59:59 on 18 March; the run for that day ends after it.
    assert "ticket_overdue_notices: 1" in run("2026-03-18")
    notice = RectificationNotice.objects.get()
    ticket = notice.ticket
    assert notice.outcome == RectificationNotice.Outcome.TICKETED
    assert ticket.issued_at == at(2026, 3, 19, 0, 0)  # the moment the deadline passed
    assert ticket.issued_by.username == "platform"
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED


def test_policy_deadline_is_data(shop, reviewer):
    PolicySettings.objects.filter(pk=1).update(rectification_days=3)
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    run("2026-03-11")
    assert timezone.localtime(q.notice.deadline, TZ).date() == datetime.date(2026, 3, 14)


# The SPEC §4 table --------------------------------------------------------------------------------

def lapse_and_ticket(shop, reviewer, type_code, **kwargs):
    if type_code == "ccc":
        q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10), **kwargs)
    else:
        q = approved_certificate(shop, type_code, reviewer, expires_on=datetime.date(2026, 3, 10),
                                 now=at(2026, 1, 5), **kwargs)
    run("2026-03-20")
    q.refresh_from_db()
    return q.notice.ticket


def test_product_first_minor_delists_only(shop, reviewer):
    ticket = lapse_and_ticket(shop, reviewer, "ccc")
    assert ticket.tier.code == "product_first_minor" and ticket.points == 0
    assert list(ticket.measures.values_list("kind", flat=True)) == [Measure.Kind.DELIST]


def test_product_with_an_earlier_case_in_365_days_is_a8(shop, reviewer):
    issue(shop, "qualification_materials", "product_first_minor", reviewer, products=[make_product(shop)],
          now=at(2025, 6, 1))
    ticket = lapse_and_ticket(shop, reviewer, "ccc")
    assert (ticket.tier.code, ticket.violation_class, ticket.points) == ("product", "A", 8)


def test_an_earlier_case_outside_the_look_back_is_first_again(shop, reviewer):
    issue(shop, "qualification_materials", "product_first_minor", reviewer, products=[make_product(shop)],
          now=at(2025, 3, 1))  # more than 365 days before 19 March 2026
    ticket = lapse_and_ticket(shop, reviewer, "ccc")
    assert ticket.tier.code == "product_first_minor"


@pytest.mark.parametrize("type_code,extra", [
    ("business_licence", {}),
    ("trademark_registration", {"brand": "云织"}),
    ("food_business_licence", {}),
])
def test_subject_brand_industry_ordinary_is_a12(shop, reviewer, type_code, extra):
    make_product(shop, category="食品", brand="云织")
    ticket = lapse_and_ticket(shop, reviewer, type_code, **extra)
    assert (ticket.tier.code, ticket.violation_class, ticket.points) == ("other", "A", 12)


def test_complaint_and_especially_serious_rows(shop, reviewer):
    from compliance.services.qualifications import qualification_tier

    now = at(2026, 3, 1)
    product = qualification_tier(shop=shop, kinds=["product"], at=now, complaint=True)
    other = qualification_tier(shop=shop, kinds=["industry"], at=now, especially_serious=True)
    assert (product.code, product.violation_class, product.points_default) == ("product_complaint", "B", 4)
    assert (other.code, other.violation_class, other.points_default) == ("other_especially_serious", "B", 12)


def test_what_a_lapse_delists(shop, reviewer):
    food = make_product(shop, category="食品")
    toy = make_product(shop, category="潮玩")
    branded = make_product(shop, category="潮玩", brand="极光")
    lapse_and_ticket(shop, reviewer, "food_business_licence")
    for p in (food, toy, branded):
        p.refresh_from_db()
    assert (food.status, toy.status, branded.status) == ("delisted", "on_sale", "on_sale")


# Replacement: closes the notice in time, relists after the ticket --------------------------------

def test_replacement_before_the_deadline_closes_the_notice(shop, reviewer):
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    run("2026-03-10")
    renewal = submit_certificate(shop, "ccc", shop.members.first().user, renews=q, products=list(q.products.all()),
                                 expires_on=datetime.date(2029, 3, 10), now=at(2026, 3, 12))
    qualification_review(qualification=renewal, approve=True, reason="", actor=reviewer, now=at(2026, 3, 13))
    notice = RectificationNotice.objects.get()
    assert (notice.status, notice.outcome, notice.replacement) == ("closed", "replaced", renewal)
    assert "ticket_overdue_notices: 0" in run("2026-03-25")
    assert not Ticket.objects.exists()


def test_replacement_after_the_ticket_relists_what_the_notice_delisted(shop, reviewer):
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    product = q.products.get()
    run("2026-03-20")
    notice = RectificationNotice.objects.get()
    product.refresh_from_db()
    assert product.status == "delisted"
    # A certificate of the same type covering the product, not marked as a renewal, counts too.
    new = submit_certificate(shop, "ccc", shop.members.first().user, products=[product],
                             expires_on=datetime.date(2029, 3, 10), now=at(2026, 3, 21))
    qualification_review(qualification=new, approve=True, reason="", actor=reviewer, now=at(2026, 3, 21))
    product.refresh_from_db()
    notice.refresh_from_db()
    assert product.status == "on_sale" and notice.relisted_at and notice.replacement == new
    ticket = notice.ticket
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED  # the ticket stands
    assert ticket.measures.get(kind="delist").status == Measure.Status.ENDED


def test_a_product_held_by_another_ticket_stays_off_sale_after_relisting(shop, reviewer):
    q = ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))
    product = q.products.get()
    run("2026-03-20")
    issue(shop, "false_advertising", "general", reviewer, products=[product], now=at(2026, 3, 20, 15))
    new = submit_certificate(shop, "ccc", shop.members.first().user, renews=q, products=[product],
                             expires_on=datetime.date(2029, 3, 10), now=at(2026, 3, 21))
    qualification_review(qualification=new, approve=True, reason="", actor=reviewer, now=at(2026, 3, 21))
    product.refresh_from_db()
    assert product.status == "delisted"


# Withdrawal and trademark events ------------------------------------------------------------------

def test_withdrawal_opens_a_notice_at_once(shop, reviewer):
    q = approved_certificate(shop, "business_licence", reviewer)
    with pytest.raises(DomainError):
        qualification_withdraw(qualification=q, status="expired", reason="x", actor=reviewer)
    qualification_withdraw(qualification=q, status="revoked", reason="发证机关已吊销", actor=reviewer,
                           now=at(2026, 4, 1, 15))
    q.refresh_from_db()
    assert q.status == "revoked" and q.notice.cause == "revoked"
    assert timezone.localtime(q.notice.deadline, TZ).date() == datetime.date(2026, 4, 8)
    with pytest.raises(InvalidTransition):
        qualification_withdraw(qualification=q, status="invalidated", reason="x", actor=reviewer)


@pytest.mark.parametrize("ban,clear", [(True, False), (False, True), (False, False)])
def test_trademark_event_measures_are_the_reviewers_choice(shop, reviewer, ban, clear):
    q = approved_certificate(shop, "trademark_acceptance", reviewer, brand="极光")
    branded = make_product(shop, brand="极光")
    other = make_product(shop, brand="别的")
    ticket = trademark_event(qualification=q, reason="商标注册申请被驳回", ban=ban, clear=clear, actor=reviewer)
    q.refresh_from_db()
    branded.refresh_from_db()
    other.refresh_from_db()
    shop.refresh_from_db()
    assert q.status == "invalidated" and q.event_ticket == ticket
    assert not RectificationNotice.objects.exists()  # the ticket is the consequence
    assert branded.status == ("banned" if ban else "delisted" if clear else "on_sale")
    assert other.status == ("delisted" if clear else "on_sale")
    assert shop.status == ("cleared" if clear else "open")


# The daily job: idempotent, day by day equals a jump, cost grows with the changed rows -------------

def world(reviewer):
    shops = [fund(make_shop(), 50000) for _ in range(3)]
    for i, shop in enumerate(shops):
        ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 5 + i))
        approved_certificate(shop, "business_licence", reviewer, expires_on=datetime.date(2026, 3, 12 + i),
                             now=at(2026, 1, 5))
        approved_certificate(shop, "bank_account", reviewer, now=at(2026, 1, 5))  # permanent
    return shops


def snapshot():
    return {
        "certificates": sorted(Qualification.objects.values_list("pk", "status", "lapsed_at")),
        "notices": sorted(RectificationNotice.objects.values_list("qualification_id", "status", "opened_at",
                                                                  "deadline", "outcome", "closed_at")),
        "tickets": sorted(Ticket.objects.values_list("shop_id", "tier__code", "points", "issued_at", "status")),
        "products": sorted(Product.objects.values_list("pk", "status")),
        "shops": sorted(Shop.objects.values_list("pk", "status", "suspended_until")),
    }


def test_day_by_day_equals_a_jump_and_the_same_date_twice_changes_nothing(reviewer):
    from django.db import transaction

    world(reviewer)
    before = transaction.savepoint()
    day = datetime.date(2026, 3, 1)
    while day <= datetime.date(2026, 4, 10):
        run(day.isoformat())
        day += datetime.timedelta(days=1)
    stepped = snapshot()
    events = Event.objects.count()
    run("2026-04-10")
    assert snapshot() == stepped and Event.objects.count() == events
    assert len(stepped["tickets"]) == 6
    assert {n[4] for n in stepped["notices"]} == {"ticketed"}

    transaction.savepoint_rollback(before)  # the same world, jumping straight to the last day
    assert not Ticket.objects.exists()
    run("2026-04-10")
    assert snapshot() == stepped


def test_expiry_step_queries_do_not_grow_with_untouched_certificates(reviewer):
    shop = fund(make_shop(), 50000)
    ccc(shop, reviewer, expires_on=datetime.date(2026, 3, 10))

    def queries():
        drain()  # the same queue each time: the events' relay is queued anew, not found waiting
        with CaptureQueriesContext(connection) as ctx:
            run("2026-03-10")
        return len(ctx)

    run("2026-03-08")  # an earlier run: the measured ones check only what changed since (a Tuesday)
    first = queries()
    # A second world with many untouched certificates; one more expires.
    Qualification.objects.filter(status="expired").update(status="approved", lapsed_at=None)
    RectificationNotice.objects.all().delete()
    for _ in range(15):
        approved_certificate(shop, "business_licence", reviewer, expires_on=datetime.date(2027, 1, 1),
                             now=at(2026, 1, 5))
    assert queries() == first
