"""ticket_issue and ticket_revoke against every row of SPEC §5 and §6.2."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import DepositEntry, Event, Measure, NodeApplication, PointEntry, PointNode, Ticket
from compliance.selectors import point_totals
from compliance.services.tickets import ticket_preview, ticket_revoke
from shops.models import Product, Shop
from tests.factories import fund, issue, make_controller, make_product, make_shop, tier

pytestmark = pytest.mark.django_db

K = Measure.Kind


def kinds(ticket):
    """The ticket's own measures (a node's are the node's, SPEC §6.3)."""
    return sorted(ticket.measures.filter(node_application=None).values_list("kind", flat=True))


def node_kinds(ticket):
    return sorted(ticket.measures.exclude(node_application=None).values_list("kind", flat=True))


def balance(shop):
    shop.refresh_from_db()
    ledger = shop.deposit_entries.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    assert ledger == shop.deposit_balance  # the cached balance always equals the ledger
    return shop.deposit_balance


@pytest.fixture
def shop():
    return fund(make_shop(), 50000)


@pytest.fixture
def product(shop):
    return make_product(shop)


# SPEC §5 severity tiers ------------------------------------------------------

def test_general_tier(shop, product, reviewer):
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[product])
    assert (ticket.violation_class, ticket.points, ticket.deposit_amount) == ("A", 3, Decimal("2000"))
    assert kinds(ticket) == sorted([K.DEPOSIT, K.WARNING, K.DELIST])
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED
    assert balance(shop) == Decimal("48000")
    assert point_totals(shop, ticket.point_year) == {"A": 3, "B": 0}
    shop.refresh_from_db()
    assert shop.status == Shop.Status.OPEN


@pytest.mark.parametrize("points, ok", [(3, False), (4, True), (6, True), (10, True), (11, False)])
def test_serious_tier_points_range(shop, reviewer, points, ok):
    if not ok:
        with pytest.raises(DomainError, match="4"):
            issue(shop, "false_advertising", "serious", reviewer, points=points)
        assert not Ticket.objects.exists()
        return
    ticket = issue(shop, "false_advertising", "serious", reviewer, points=points)
    assert ticket.points == points


def test_serious_tier_suspends_seven_days(shop, reviewer):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    shop.refresh_from_db()
    assert ticket.points == 6 and ticket.deposit_amount == Decimal("5000")
    assert shop.status == Shop.Status.SUSPENDED
    assert shop.suspended_until == ticket.issued_at + datetime.timedelta(days=7)
    assert kinds(ticket) == sorted([K.DEPOSIT, K.SUSPEND])


def test_especially_serious_tier_clears(shop, product, reviewer):
    sibling = make_shop(shop.controller)
    ticket = issue(shop, "false_advertising", "especially_serious", reviewer)
    shop.refresh_from_db()
    product.refresh_from_db()
    sibling.refresh_from_db()
    assert ticket.points == 12 and ticket.deposit_amount == Decimal("50000")
    assert balance(shop) == 0  # all remaining deposit
    assert shop.status == Shop.Status.CLEARED and shop.ended_at
    assert product.status == Product.Status.DELISTED  # all products delisted
    assert shop.controller.barred_at is not None  # controller barred
    assert sibling.review_flagged_at is not None  # other shops flagged for review
    assert kinds(ticket) == sorted([K.DEPOSIT, K.FREEZE_PROCEEDS, K.ALLIANCE_CLOSE, K.CLEAR, K.DELIST])
    assert ticket.measures.get(kind=K.ALLIANCE_CLOSE, node_application=None).details == {"permanent": True}
    with pytest.raises(DomainError):
        issue(shop, "false_advertising", "general", reviewer)


# Fake shipment -----------------------------------------------------------------

def test_fake_shipment_daily_cap(shop, reviewer):
    day1 = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
    day2 = day1 + datetime.timedelta(days=1)
    first = issue(shop, "fake_shipment", "per_order", reviewer, order_count=11, occurred_at=day1)
    assert first.deposit_amount == Decimal("5000")  # 11 × ¥500 capped at ¥5,000
    again = issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, occurred_at=day1)
    assert again.deposit_amount == 0  # the cap for that day is used up
    next_day = issue(shop, "fake_shipment", "per_order", reviewer, order_count=1, occurred_at=day2)
    assert next_day.deposit_amount == Decimal("500")
    assert balance(shop) == Decimal("44500")
    assert first.points == 0 and first.deposit_day == datetime.date(2026, 3, 10)


def test_fake_shipment_cap_uses_the_shanghai_day(shop, reviewer):
    # 23:30 and 00:30 Shanghai are two days, though both are 15:30/16:30 UTC of one day.
    late = timezone.make_aware(datetime.datetime(2026, 3, 10, 23, 30))
    early = timezone.make_aware(datetime.datetime(2026, 3, 11, 0, 30))
    issue(shop, "fake_shipment", "per_order", reviewer, order_count=10, occurred_at=late)
    ticket = issue(shop, "fake_shipment", "per_order", reviewer, order_count=10, occurred_at=early)
    assert ticket.deposit_amount == Decimal("5000")


def test_fake_shipment_cap_frees_up_when_a_ticket_is_revoked(shop, reviewer):
    day = timezone.now() - datetime.timedelta(days=1)
    first = issue(shop, "fake_shipment", "per_order", reviewer, order_count=10, occurred_at=day)
    ticket_revoke(ticket=first, actor=reviewer, reason="误判")
    assert issue(shop, "fake_shipment", "per_order", reviewer, order_count=2, occurred_at=day).deposit_amount == 1000


def test_fake_shipment_needs_an_order_count(shop, reviewer):
    with pytest.raises(DomainError, match="per confirmed order"):
        issue(shop, "fake_shipment", "per_order", reviewer)
    with pytest.raises(DomainError, match="not charged per order"):
        issue(shop, "false_advertising", "serious", reviewer, order_count=3)


def test_fake_shipment_repeated_delists_and_severe_clears(shop, product, reviewer):
    ticket = issue(shop, "fake_shipment", "repeated", reviewer, products=[product])
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED and ticket.points == 0
    issue(shop, "fake_shipment", "severe", reviewer)
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED


# Serious violations named in 000 ---------------------------------------------

@pytest.mark.parametrize("code", ["counterfeit", "prohibited", "fake_transaction", "improper_gain",
                                  "disrupting_order", "non_agreed_goods", "endangering_consumers"])
def test_serious_violations_are_b_class_and_close_the_alliance(shop, product, reviewer, code):
    ticket = issue(shop, code, "general", reviewer, products=[product])
    assert ticket.violation_class == "B" and ticket.rule.alliance_serious
    assert K.ALLIANCE_CLOSE in kinds(ticket)
    assert ticket.measures.get(kind=K.ALLIANCE_CLOSE).details == {"permanent": False}
    assert point_totals(shop, ticket.point_year)["B"] == 3


# SPEC §4 qualification rule and trademark events -------------------------------

@pytest.mark.parametrize(
    "tier_code, cls, points",
    [("product_first_minor", "A", 0), ("product", "A", 8), ("product_complaint", "B", 4),
     ("other", "A", 12), ("other_especially_serious", "B", 12)],
)
def test_qualification_rule_table(shop, product, reviewer, tier_code, cls, points):
    ticket = issue(shop, "qualification_materials", tier_code, reviewer, products=[product])
    assert (ticket.violation_class, ticket.points) == (cls, points)
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED
    assert ticket.rule.is_qualification_rule


def test_trademark_event_reviewer_chooses(shop, product, reviewer):
    other = make_product(shop)
    ticket = issue(shop, "trademark_event", "brand_lapsed", reviewer, products=[product], ban_chosen=True)
    product.refresh_from_db()
    other.refresh_from_db()
    assert product.status == Product.Status.BANNED and other.status == Product.Status.ON_SALE
    assert ticket.rule_snapshot["ban_chosen"] is True
    issue(shop, "trademark_event", "brand_lapsed", reviewer, products=[other], clear_chosen=True)
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED


def test_trademark_event_without_choices_takes_no_product_measure(shop, reviewer):
    ticket = issue(shop, "trademark_event", "brand_lapsed", reviewer)
    assert kinds(ticket) == []


# SPEC §6.2 point nodes -----------------------------------------------------------

def general(shop, reviewer, **kwargs):
    """A general false-advertising ticket: A 3 points, ¥2,000, delist."""
    return issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)], **kwargs)


def in_force(shop):
    return sorted(f"{a.violation_class}{a.node.threshold}" for a in NodeApplication.objects.in_force().filter(shop=shop))


def test_a12_node_suspends_three_days_and_takes_2000_on_top_of_the_ticket(shop, reviewer):
    for _ in range(3):
        general(shop, reviewer)
    fourth = general(shop, reviewer)
    shop.refresh_from_db()
    assert point_totals(shop, fourth.point_year)["A"] == 12
    application = fourth.node_applications.get()
    assert (application.node.threshold, application.total_reached) == (12, 12)
    suspension = fourth.measures.get(kind=K.SUSPEND)
    assert suspension.node_application == application and suspension.node.threshold == 12
    assert suspension.ends_at == fourth.issued_at + datetime.timedelta(days=3)
    assert shop.status == Shop.Status.SUSPENDED
    # SPEC §6.2: the ticket's ¥2,000 and the node's ¥2,000, each its own entry and measure.
    assert fourth.deposit_amount == Decimal("2000")
    assert sorted(e.amount for e in fourth.deposit_entries.all()) == [Decimal("-2000"), Decimal("-2000")]
    assert fourth.deposit_entries.get(node_application=application).amount == Decimal("-2000")
    assert node_kinds(fourth) == sorted([K.DEPOSIT, K.SUSPEND])
    assert balance(shop) == Decimal("50000") - 4 * Decimal("2000") - Decimal("2000")


def test_a24_node_suspends_seven_days_and_takes_5000(shop, reviewer):
    for points in (10, 7, 4):  # 21: crossed 12 on the way
        issue(shop, "price_mismatch", "serious", reviewer, points=points)
    ticket = general(shop, reviewer)  # 24
    assert node_kinds(ticket) == sorted([K.DEPOSIT, K.SUSPEND])
    assert {m.node.threshold for m in ticket.measures.exclude(node_application=None)} == {24}
    assert ticket.deposit_amount == Decimal("2000")  # the ticket's own
    assert ticket.measures.get(kind=K.DEPOSIT, node__threshold=24).amount == Decimal("5000")
    assert ticket.measures.get(kind=K.SUSPEND).ends_at == ticket.issued_at + datetime.timedelta(days=7)
    assert in_force(shop) == ["A12", "A24"]


def test_a36_node_clears(shop, reviewer):
    for points in (10, 10, 10):
        issue(shop, "price_mismatch", "serious", reviewer, points=points)
    ticket = issue(shop, "price_mismatch", "serious", reviewer, points=6)  # 36
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED
    assert ticket.measures.get(kind=K.CLEAR).node.threshold == 36


def test_b_reaching_12_clears_and_bars(shop, reviewer):
    for _ in range(3):
        issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    shop.refresh_from_db()
    assert shop.status == Shop.Status.OPEN
    ticket = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED
    assert shop.controller.barred_at and ticket.measures.get(kind=K.CLEAR).node.threshold == 12
    assert Measure.objects.filter(kind=K.CLEAR).count() == 1
    assert balance(shop) == 0


def test_one_ticket_crossing_two_nodes_takes_one_strictest_node(shop, reviewer):
    PointNode.objects.create(violation_class="A", threshold=13, suspend_days=10, deposit_amount=Decimal("8000"))
    general(shop, reviewer)  # 3
    ticket = issue(shop, "price_mismatch", "serious", reviewer, points=10)  # 13: crosses 12 and 13
    assert kinds(ticket) == sorted([K.DEPOSIT, K.SUSPEND])  # the ticket's own ¥5,000 and 7 days
    assert node_kinds(ticket) == sorted([K.DEPOSIT, K.SUSPEND])  # node 13 only
    node_suspension = ticket.measures.get(kind=K.SUSPEND, node__isnull=False)
    assert node_suspension.node.threshold == 13
    assert node_suspension.ends_at == ticket.issued_at + datetime.timedelta(days=10)
    assert ticket.measures.get(kind=K.DEPOSIT, node__isnull=False).amount == Decimal("8000")
    a12 = NodeApplication.objects.get(shop=shop, node__threshold=12)
    assert a12.subsumed_by.node.threshold == 13 and not a12.measures.exists()
    assert balance(shop) == Decimal("50000") - 2000 - 5000 - 8000


# SPEC §6.2 revised: nodes follow the year's total ---------------------------------

def test_spec_worked_example(shop, reviewer):
    """Four general tickets → A12 applies; a fifth → A15; revoking the fourth
    leaves A12 → the suspension stays; revoking then the first leaves A9 →
    suspension lifted, the node's ¥2,000 refunded, ¥6,000 of the three live
    tickets stays deducted."""
    tickets = [general(shop, reviewer) for _ in range(5)]
    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED and in_force(shop) == ["A12"]
    application = tickets[3].node_applications.get()

    ticket_revoke(ticket=tickets[3], actor=reviewer, reason="误判")
    shop.refresh_from_db()
    application.refresh_from_db()
    assert point_totals(shop, tickets[0].point_year)["A"] == 12
    assert shop.status == Shop.Status.SUSPENDED  # the node stays, though its ticket is revoked
    assert application.status == NodeApplication.Status.IN_FORCE
    assert application.measures.get(kind=K.SUSPEND).status == Measure.Status.ACTIVE
    assert balance(shop) == Decimal("50000") - 4 * 2000 - 2000  # the fourth's own ¥2,000 came back

    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判")
    shop.refresh_from_db()
    application.refresh_from_db()
    assert point_totals(shop, tickets[0].point_year)["A"] == 9
    assert shop.status == Shop.Status.OPEN and shop.suspended_until is None
    assert application.status == NodeApplication.Status.LIFTED
    assert (application.lifted_by, application.total_after_lift) == (tickets[0], 9)
    assert set(application.measures.values_list("status", flat=True)) == {Measure.Status.REVERSED}
    assert balance(shop) == Decimal("50000") - 3 * 2000  # ¥6,000 of the three live tickets
    lifted = Event.objects.get(action="node_lifted")
    assert lifted.ticket == tickets[3] and tickets[0].number in lifted.reason


def test_revoking_the_crossing_ticket_while_the_total_stays_keeps_the_node(shop, reviewer):
    first, *_rest, crossing = [general(shop, reviewer) for _ in range(4)]
    extra = issue(shop, "price_mismatch", "serious", reviewer, points=4)  # 16
    ticket_revoke(ticket=crossing, actor=reviewer, reason="误判")  # 13: still ≥ 12
    shop.refresh_from_db()
    assert in_force(shop) == ["A12"] and shop.status == Shop.Status.SUSPENDED
    assert crossing.deposit_entries.filter(kind=DepositEntry.Kind.REFUND, node_application=None).count() == 1
    assert not crossing.deposit_entries.filter(kind=DepositEntry.Kind.REFUND).exclude(node_application=None)
    # The extra ticket's own suspension (7 days) is not the node's: revoking it changes nothing of the node.
    ticket_revoke(ticket=extra, actor=reviewer, reason="误判")  # 9: the node is lifted now
    shop.refresh_from_db()
    assert in_force(shop) == [] and shop.status == Shop.Status.OPEN
    assert balance(shop) == Decimal("50000") - 3 * 2000
    assert first.status == Ticket.Status.ISSUED


def test_revoking_an_early_ticket_lifts_a_node_the_total_falls_below(shop, reviewer):
    tickets = [general(shop, reviewer) for _ in range(4)]
    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判")
    shop.refresh_from_db()
    assert in_force(shop) == [] and shop.status == Shop.Status.OPEN
    assert balance(shop) == Decimal("50000") - 3 * 2000


def test_crossing_again_after_a_lift_applies_the_node_again(shop, reviewer):
    tickets = [general(shop, reviewer) for _ in range(4)]
    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判")  # 9: lifted
    again = general(shop, reviewer)  # 12 again
    shop.refresh_from_db()
    assert in_force(shop) == ["A12"] and shop.status == Shop.Status.SUSPENDED
    assert again.node_applications.get().status == NodeApplication.Status.IN_FORCE
    assert NodeApplication.objects.filter(shop=shop, node__threshold=12).count() == 2
    assert balance(shop) == Decimal("50000") - 4 * 2000 - 2000


def test_a_node_is_in_force_once_per_shop_and_year_by_constraint(shop, reviewer):
    from django.db import IntegrityError, transaction

    tickets = [general(shop, reviewer) for _ in range(4)]
    application = tickets[3].node_applications.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        NodeApplication.objects.create(shop=shop, node=application.node, violation_class="A",
                                       year=application.year, ticket=tickets[3], total_reached=12,
                                       applied_at=timezone.now())


def test_a_lifted_clearance_reopens_the_shop_and_lifts_the_bar(shop, reviewer):
    sibling = make_shop(shop.controller)
    product = make_product(shop)
    tickets = [issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)]) for _ in range(4)]
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED and shop.controller.barred_at
    ticket_revoke(ticket=tickets[1], actor=reviewer, reason="误判")  # B 9
    shop.refresh_from_db()
    sibling.refresh_from_db()
    product.refresh_from_db()
    assert shop.status == Shop.Status.OPEN and shop.controller.barred_at is None
    assert sibling.review_flagged_at is None and product.status == Product.Status.ON_SALE
    # SPEC §6.5 reversed: the node's "all remaining deposit" comes back; the live tickets' own stay taken.
    assert balance(shop) == Decimal("50000") - 3 * 2000


def test_nodes_reached_together_are_lifted_together(shop, reviewer):
    PointNode.objects.create(violation_class="A", threshold=13, suspend_days=10, deposit_amount=Decimal("8000"))
    small = general(shop, reviewer)  # 3
    issue(shop, "price_mismatch", "serious", reviewer, points=10)  # 13: crosses 12 and 13 at once
    other = general(shop, reviewer)  # 16
    assert in_force(shop) == ["A12", "A13"]
    ticket_revoke(ticket=small, actor=reviewer, reason="误判")  # 13: both still reached
    assert in_force(shop) == ["A12", "A13"]
    ticket_revoke(ticket=other, actor=reviewer, reason="误判")  # 10: both lifted
    assert in_force(shop) == []
    assert not Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE, node__isnull=False).exists()
    assert balance(shop) == Decimal("50000") - 5000  # the serious ticket's own deduction only


def test_a_subsumed_node_takes_its_measures_when_only_the_stricter_one_falls(shop, reviewer):
    PointNode.objects.create(violation_class="A", threshold=13, suspend_days=10, deposit_amount=Decimal("8000"))
    issue(shop, "price_mismatch", "serious", reviewer, points=5)  # 5
    second = issue(shop, "price_mismatch", "serious", reviewer, points=4)  # 9
    crossing = issue(shop, "price_mismatch", "serious", reviewer, points=4)  # 13: crosses 12 and 13 at once
    general(shop, reviewer)  # 16
    a12 = NodeApplication.objects.get(shop=shop, node__threshold=12)
    assert a12.subsumed_by and not a12.measures.exists()
    ticket_revoke(ticket=second, actor=reviewer, reason="误判")  # 12: A13 lifted, A12 still reached
    a12.refresh_from_db()
    assert in_force(shop) == ["A12"] and a12.subsumed_by is None
    # A12's own measures now, its suspension counted from when the total reached 12.
    assert a12.measures.get(kind=K.SUSPEND).ends_at == crossing.issued_at + datetime.timedelta(days=3)
    assert a12.deposit_entries.get().amount == Decimal("-2000")
    assert not Measure.objects.filter(node__threshold=13, status=Measure.Status.ACTIVE).exists()
    assert balance(shop) == Decimal("50000") - 2 * 5000 - 2000 - 2000  # two serious, one general, node A12


def test_new_suspension_extends_never_adds(shop, reviewer):
    now = timezone.now()
    first = issue(shop, "false_advertising", "serious", reviewer, now=now)  # until +7d
    issue(shop, "logistics_mismatch", "serious", reviewer, now=now + datetime.timedelta(days=2))  # until +9d
    shop.refresh_from_db()
    assert shop.suspended_until == now + datetime.timedelta(days=9)
    ticket_revoke(ticket=first, actor=reviewer, reason="误判", now=now + datetime.timedelta(days=3))
    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED and shop.suspended_until == now + datetime.timedelta(days=9)


# Calendar year in Asia/Shanghai ------------------------------------------------

def test_points_year_follows_shanghai_time(shop, reviewer):
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    late = datetime.datetime(2024, 12, 31, 23, 30, tzinfo=sh)  # 15:30 UTC
    early = datetime.datetime(2025, 1, 1, 0, 10, tzinfo=sh)
    t1 = issue(shop, "price_mismatch", "serious", reviewer, points=10, now=late)
    t2 = issue(shop, "price_mismatch", "serious", reviewer, points=10, now=early)
    assert (t1.point_year, t2.point_year) == (2024, 2025)
    assert point_totals(shop, 2024)["A"] == 10 and point_totals(shop, 2025)["A"] == 10
    assert not t2.measures.filter(node__isnull=False).exists()  # 10 + 10 across years crosses nothing


# Deposit -------------------------------------------------------------------------

def test_deposit_shortfall_is_recorded_and_flags_the_shop(reviewer):
    shop = fund(make_shop(required_deposit=Decimal("2000")), 1000)
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    entry = ticket.deposit_entries.get()
    assert (entry.amount, entry.requested, entry.shortfall) == (Decimal("-1000"), Decimal("2000"), Decimal("1000"))
    assert balance(shop) == 0 and shop.needs_deposit_top_up
    ticket_revoke(ticket=ticket, actor=reviewer, reason="误判")
    assert balance(shop) == Decimal("1000")  # only what was taken comes back


# Revocation ----------------------------------------------------------------------

def test_revoke_restores_everything(shop, product, reviewer):
    sibling = make_shop(shop.controller)
    issued = issue(shop, "false_advertising", "general", reviewer, products=[product])
    cleared = issue(shop, "counterfeit", "especially_serious", reviewer)
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED
    ticket_revoke(ticket=cleared, actor=reviewer, reason="证据不足")
    shop.refresh_from_db()
    sibling.refresh_from_db()
    product.refresh_from_db()
    assert shop.status == Shop.Status.OPEN and shop.ended_at is None
    assert shop.controller.barred_at is None and sibling.review_flagged_at is None
    assert product.status == Product.Status.DELISTED  # the first, live ticket still delists it
    assert balance(shop) == Decimal("48000")
    assert point_totals(shop, issued.point_year) == {"A": 3, "B": 0}
    ticket_revoke(ticket=issued, actor=reviewer, reason="证据不足")
    product.refresh_from_db()
    assert product.status == Product.Status.ON_SALE and balance(shop) == Decimal("50000")
    assert point_totals(shop, issued.point_year) == {"A": 0, "B": 0}
    assert not Measure.objects.filter(status=Measure.Status.ACTIVE).exists()
    assert list(Event.objects.filter(ticket=issued).values_list("action", flat=True)) == [
        "ticket_revoked", "ticket_issued"]


def test_revoke_lifts_suspension(shop, reviewer):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    ticket_revoke(ticket=ticket, actor=reviewer, reason="误判")
    shop.refresh_from_db()
    assert shop.status == Shop.Status.OPEN and shop.suspended_until is None


def test_revoke_keeps_a_bar_another_clearance_causes(reviewer):
    controller = make_controller()
    a, b = fund(make_shop(controller), 100), fund(make_shop(controller), 100)
    first = issue(a, "counterfeit", "especially_serious", reviewer)
    issue(b, "prohibited", "especially_serious", reviewer)
    ticket_revoke(ticket=first, actor=reviewer, reason="误判")
    controller.refresh_from_db()
    assert controller.barred_at is not None


def test_merchants_own_delisting_survives_a_ban_and_its_revocation(shop, reviewer):
    product = make_product(shop, status=Product.Status.DELISTED)
    ticket = issue(shop, "trademark_event", "brand_lapsed", reviewer, products=[product], ban_chosen=True)
    product.refresh_from_db()
    assert product.status == Product.Status.BANNED
    ticket_revoke(ticket=ticket, actor=reviewer, reason="授权已补齐")
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED


def test_revoke_needs_a_reason_and_a_revocable_status(shop, reviewer):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    with pytest.raises(DomainError, match="reason"):
        ticket_revoke(ticket=ticket, actor=reviewer, reason="  ")
    ticket_revoke(ticket=ticket, actor=reviewer, reason="误判")
    with pytest.raises(InvalidTransition):
        ticket_revoke(ticket=ticket, actor=reviewer, reason="again")
    assert PointEntry.objects.filter(ticket=ticket).count() == 2
    assert DepositEntry.objects.filter(ticket=ticket).count() == 2


# Input that cannot be issued writes nothing ---------------------------------------

def test_refusals_write_nothing(shop, reviewer):
    other_shop_product = make_product(make_shop())
    future = timezone.now() + datetime.timedelta(hours=1)
    for kwargs, message in [
        (dict(products=[other_shop_product]), "belong to the ticket's shop"),
        (dict(products=[]), "choose the affected products"),
        (dict(products=[make_product(shop)], occurred_at=future), "future"),
        (dict(products=[make_product(shop)], description=" "), "Describe"),
    ]:
        with pytest.raises(DomainError, match=message):
            issue(shop, "false_advertising", "general", reviewer, **kwargs)
    assert not Ticket.objects.exists() and not Event.objects.exists() and not Measure.objects.exists()
    assert balance(shop) == Decimal("50000")


def test_rule_version_not_in_effect_is_refused(shop, reviewer):
    t = tier("false_advertising", "serious")
    t.rule.effective_to = datetime.date(2024, 1, 1)
    t.rule.save()
    with pytest.raises(DomainError, match="not in effect"):
        issue(shop, "false_advertising", "serious", reviewer)


def test_double_submission_issues_one_ticket(shop, reviewer):
    first = issue(shop, "false_advertising", "serious", reviewer, idempotency_key="form-token-1")
    second = issue(shop, "false_advertising", "serious", reviewer, idempotency_key="form-token-1")
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1 and PointEntry.objects.count() == 1
    assert balance(shop) == Decimal("45000")


def test_ticket_keeps_a_snapshot_of_its_rule(shop, reviewer):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    t = tier("false_advertising", "serious")
    t.deposit_amount = Decimal("9999")
    t.save()
    ticket.refresh_from_db()
    assert ticket.rule_snapshot["deposit_amount"] == "5000.00"
    assert ticket.rule_snapshot["rule_version"] == 1 and ticket.deposit_amount == Decimal("5000")


def test_preview_matches_what_issuing_does_and_writes_nothing(shop, reviewer):
    for _ in range(3):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    product = make_product(shop)
    preview = ticket_preview(shop=shop, tier=tier("price_mismatch", "general"), points=3, products=[product],
                             occurred_at=timezone.now())
    assert (preview.total_before, preview.total_after) == (9, 12)
    assert [n.threshold for n in preview.nodes] == [12] and preview.node.threshold == 12
    assert preview.suspend_days is None and preview.node_suspend_ends_at
    # SPEC §6.2: the two deductions add up.
    assert (preview.deposit_charged, preview.node_deposit_charged, preview.total_charged) == (
        Decimal("2000"), Decimal("2000"), Decimal("4000"))
    assert preview.balance_after == Decimal("50000") - 3 * 2000 - 4000
    assert Ticket.objects.count() == 3
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[product])
    assert ticket.deposit_amount == preview.deposit_charged
    shop.refresh_from_db()
    assert shop.deposit_balance == preview.balance_after


def test_ledgers_are_append_only(shop, reviewer):
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    entry = PointEntry.objects.get(ticket=ticket)
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        PointEntry.objects.filter(pk=entry.pk).update(points=0)
    with pytest.raises(TypeError):
        Event.objects.all().delete()
    with pytest.raises(TypeError):
        DepositEntry.objects.first().delete()


# Query counts (performance is measured in bench/; here it is bounded) --------

def test_issuing_a_ticket_takes_a_bounded_number_of_queries(shop, reviewer, django_assert_max_num_queries):
    issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    product = make_product(shop)
    with django_assert_max_num_queries(30):
        issue(shop, "price_mismatch", "general", reviewer, products=[product])


@pytest.mark.parametrize("products", [5, 60])
def test_clearance_does_not_cost_a_query_per_product(shop, reviewer, django_assert_max_num_queries, products):
    for _ in range(products):
        make_product(shop)
    # B 12 points: the tier's clearance and node B12's, both held in force.
    with django_assert_max_num_queries(70):
        ticket = issue(shop, "counterfeit", "especially_serious", reviewer)
    with django_assert_max_num_queries(70):
        ticket_revoke(ticket=ticket, actor=reviewer, reason="误判")
    assert not Product.objects.filter(shop=shop).exclude(status=Product.Status.ON_SALE).exists()


# One clearance (SPEC §6.2, §6.5) ---------------------------------------------------------------

def test_a_clearing_ticket_that_reaches_b12_makes_one_clearance(shop, reviewer):
    """An especially serious B ticket clears the shop and takes its total to
    B 12, whose node clears too: the node's measures are recorded as covered
    by the ticket's own, and the shop's measures list one clearance."""
    from compliance.selectors import shop_standing

    for _ in range(7):  # A 21: the A nodes play no part
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    ticket = issue(shop, "counterfeit", "especially_serious", reviewer, products=[make_product(shop)])
    application = NodeApplication.objects.get(ticket=ticket)
    assert application.node.threshold == 12 and application.node.clear_shop
    in_force = Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE)
    assert in_force.filter(kind=K.CLEAR).count() == 1 and in_force.filter(kind=K.ALLIANCE_CLOSE).count() == 1
    covered = list(application.measures.values_list("kind", "status", "details__covered_by"))
    own_clear = ticket.measures.get(kind=K.CLEAR, node_application=None)
    assert sorted(covered) == [(K.ALLIANCE_CLOSE, "covered", own_clear.pk), (K.CLEAR, "covered", own_clear.pk)]
    standing = shop_standing(shop)
    assert [m.kind for m in standing.measures].count(K.CLEAR) == 1
    shop.refresh_from_db()
    assert shop.status == Shop.Status.CLEARED and balance(shop) == 0
    ticket_revoke(ticket=ticket, actor=reviewer, reason="误判")
    application.refresh_from_db()
    shop.refresh_from_db()
    assert application.status == NodeApplication.Status.LIFTED
    assert shop.status != Shop.Status.CLEARED and shop.controller.barred_at is None
    assert not Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE, kind=K.CLEAR).exists()


def test_a_node_that_clears_on_a_ticket_that_does_not_still_clears(shop, reviewer):
    """Coverage is only for a measure the ticket itself takes: a B ticket
    without a clearance that reaches B12 gets the node's clearance in force."""
    for _ in range(3):
        issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    ticket = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)])
    clear = ticket.measures.get(kind=K.CLEAR)
    assert clear.node.threshold == 12 and clear.status == Measure.Status.ACTIVE


# The points year is Shanghai's, whatever the clock says (SPEC §6.2) --------------------------

@pytest.mark.parametrize("utc,year", [
    (datetime.datetime(2024, 12, 31, 15, 59, 59, tzinfo=datetime.timezone.utc), 2024),  # 23:59:59 Shanghai
    (datetime.datetime(2024, 12, 31, 16, 0, 0, tzinfo=datetime.timezone.utc), 2025),  # 00:00:00 Shanghai
    (datetime.datetime(2024, 12, 31, 16, 10, tzinfo=datetime.timezone.utc), 2025),  # 2025-01-01 00:10 Shanghai
])
def test_points_year_from_a_utc_clock(shop, reviewer, utc, year):
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)], now=utc,
                   occurred_at=utc - datetime.timedelta(minutes=5))
    assert ticket.point_year == year
    assert point_totals(shop, year)["A"] == 3 and point_totals(shop, 2024 if year == 2025 else 2025)["A"] == 0


# The figures issuing reads in one written-out statement (selectors.assessment.FIGURES_SQL) -----------

def test_issuing_figures_agree_with_the_orm_reading_of_the_same_rows(shop, reviewer):
    """The hand-written statement reads what the ORM reads: this year's class
    total only (not last year's, not the other class), a node reached only
    when one lies in (total, total + points], and the ticket a key issued."""
    from compliance.selectors.assessment import issuing_figures

    general = tier("price_mismatch", "general")
    for _ in range(3):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])  # A 9
    keyed = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
                  idempotency_key="form-1")  # B 3
    PointEntry.objects.create(shop=shop, ticket=keyed, violation_class="A", year=2000, points=30)  # another year
    year = keyed.point_year
    for points, reached in ((2, False), (3, True), (10, True), (0, False)):
        figures = issuing_figures(shop=shop, tier=general, points=points, year=year, idempotency_key="form-1")
        orm_reached = PointNode.objects.filter(violation_class="A", is_active=True, threshold__gt=9,
                                               threshold__lte=9 + points).exists()
        assert (figures.total_before, figures.reaches_node, figures.existing_ticket_id) == (
            point_totals(shop, year)["A"], orm_reached, keyed.pk) == (9, reached, keyed.pk)
    assert issuing_figures(shop=shop, tier=tier("counterfeit", "general"), points=3, year=year).total_before == 3
    none = issuing_figures(shop=shop, tier=general, points=3, year=year + 1, idempotency_key="never-used")
    assert (none.total_before, none.reaches_node, none.existing_ticket_id) == (0, False, None)
    PointNode.objects.filter(violation_class="A", threshold=12).update(is_active=False)
    assert not issuing_figures(shop=shop, tier=general, points=3, year=year).reaches_node  # only active nodes


def test_measure_links_remember_each_products_base_status_in_chunks(shop, reviewer, monkeypatch):
    """The written-out INSERT of the measure links (services.measures.HOLD_SQL)
    records what the ORM would read: the base status the latest live link
    remembers, or else the product's status now — never the status a live
    measure set. Chunked (one product a statement here), the last revocation
    restores each product to its own base."""
    from compliance.models import MeasureProduct
    from compliance.services import measures

    monkeypatch.setattr(measures, "HOLD_CHUNK", 1)
    on_sale, own = make_product(shop), make_product(shop, status=Product.Status.DELISTED)
    first = issue(shop, "price_mismatch", "general", reviewer, products=[on_sale, own])
    ban = issue(shop, "trademark_event", "brand_lapsed", reviewer, products=[on_sale, own], ban_chosen=True)

    def expected(product, measure):
        """The ORM's reading, for the links of ``measure``."""
        earlier = (MeasureProduct.objects.filter(product=product, measure__status=Measure.Status.ACTIVE)
                   .exclude(measure=measure).order_by("-measure_id").values_list("previous_status", flat=True))
        return earlier.first() or "on_sale" if product == on_sale else earlier.first() or "delisted"

    for ticket in (first, ban):
        for link in MeasureProduct.objects.filter(measure__ticket=ticket).select_related("product"):
            assert link.previous_status == expected(link.product, link.measure)
    assert sorted(MeasureProduct.objects.filter(measure__ticket=ban).values_list("previous_status", flat=True)) == [
        "delisted", "on_sale"]  # the base, not the delisting the first ticket set
    assert set(Product.objects.filter(pk__in=[on_sale.pk, own.pk]).values_list("status", flat=True)) == {"banned"}
    ticket_revoke(ticket=ban, actor=reviewer, reason="授权已补齐")
    assert set(Product.objects.filter(pk__in=[on_sale.pk, own.pk]).values_list("status", flat=True)) == {"delisted"}
    ticket_revoke(ticket=first, actor=reviewer, reason="误判")
    on_sale.refresh_from_db()
    own.refresh_from_db()
    assert (on_sale.status, own.status) == ("on_sale", "delisted")


def test_recipients_read_in_one_statement_are_the_active_members_in_joining_order(reviewer, monkeypatch):
    """notifications.RECIPIENTS_SQL (chunked, here a shop a statement) reads
    what the ORM reads: each shop's active members, in the order they
    joined, with their e-mail (empty when they have none)."""
    from django.contrib.auth.models import User

    from compliance import notifications
    from shops.models import ShopMember

    monkeypatch.setattr(notifications, "RECIPIENTS_CHUNK", 1)
    shops = [make_shop(), make_shop(), make_shop()]
    users = [User.objects.create_user(f"member{k}", email=f"m{k}@example.com" if k != 2 else "") for k in range(5)]
    users[3].is_active = False
    users[3].save()
    for shop_, user in ((shops[0], users[1]), (shops[0], users[0]), (shops[1], users[2]), (shops[1], users[3]),
                        (shops[0], users[4])):
        ShopMember.objects.create(shop=shop_, user=user)
    orm = {}
    for member in ShopMember.objects.filter(user__is_active=True).select_related("user").order_by("id"):
        orm.setdefault(member.shop_id, []).append((member.user_id, member.user.email))
    assert notifications.recipients_of([s.pk for s in reversed(shops)]) == orm == {
        shops[0].pk: [(users[1].pk, "m1@example.com"), (users[0].pk, "m0@example.com"),
                      (users[4].pk, "m4@example.com")],
        shops[1].pk: [(users[2].pk, "")]}


def test_a_ticket_number_drawn_twice_is_drawn_again(shop, reviewer, monkeypatch):
    """Numbers are random and not looked up first (services.events.new_number):
    the unique index refuses a repeat and ticket_issue draws again, inside
    its own savepoint, so nothing of the failed attempt stays."""
    from compliance.services import events

    first = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    taken = first.number[-8:]
    drawn = iter([taken, taken, "0FF1CE00"])
    monkeypatch.setattr(events.secrets, "token_hex", lambda n: next(drawn).lower())
    second = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    assert second.number.endswith("0FF1CE00") and second.number != first.number
    assert Ticket.objects.count() == 2 and PointEntry.objects.filter(shop=shop).count() == 2
    assert Event.objects.filter(action=Event.Action.TICKET_ISSUED).count() == 2


def test_a_number_that_keeps_repeating_is_an_error_not_a_wrong_ticket(shop, reviewer, monkeypatch):
    from django.db import IntegrityError

    from compliance.services import events

    first = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    monkeypatch.setattr(events.secrets, "token_hex", lambda n: first.number[-8:].lower())
    with pytest.raises(IntegrityError):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    assert Ticket.objects.count() == 1 and PointEntry.objects.filter(shop=shop).count() == 1
