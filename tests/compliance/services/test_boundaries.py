"""Every SPEC figure with a boundary, tried on both sides of it at the finest
unit its rule uses — a second, a cent, a Shanghai day (issue #19: a mutation
of 29 for 30 days, 364 for 365, ``<`` for ``<=`` passed every test).
Figures are the shipped defaults of the policy, rule and node data."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import AllianceMembership, Measure, PointNode, Qualification
from compliance.services.alliance import alliance_apply, alliance_close, alliance_eligibility
from compliance.services.qualifications import qualification_tier
from compliance.services.shops import check_reentry, reentry_allowed_from
from compliance.services.warnings import warning_answer, warning_decide
from shops.models import Shop
from tests.factories import (
    approved_certificate, fund, issue, make_controller, make_integration, make_merchant, make_product, make_shop,
    receive_warning,
)

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12), TZ)
SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def shop(db):
    shop = fund(make_shop(experience_score=Decimal("85")), 100000)
    make_merchant(f"m-{shop.shop_no}", shop)
    return shop


def passes(shop, code, now=NOW) -> bool:
    return {c.code: c for c in alliance_eligibility(shop, now=now).criteria}[code].passed


# SPEC §8 look-backs: exactly N days before now still counts; a second more does not ---------

@pytest.mark.parametrize("ago, passed", [(30 * DAY - SECOND, False), (30 * DAY, False), (30 * DAY + SECOND, True)])
def test_b_ticket_look_back_of_30_days_to_the_second(shop, reviewer, ago, passed):
    issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)], now=NOW - ago)
    assert passes(shop, "b_tickets") is passed


@pytest.mark.parametrize("ago, passed", [(365 * DAY - SECOND, False), (365 * DAY, False),
                                         (365 * DAY + SECOND, True)])
def test_upheld_ticket_look_back_of_365_days_to_the_second(shop, reviewer, ago, passed):
    issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)], now=NOW - ago)
    assert passes(shop, "tickets") is passed


@pytest.mark.parametrize("ago, passed", [(365 * DAY - SECOND, False), (365 * DAY + SECOND, True)])
def test_controllers_other_shop_look_back_of_365_days_to_the_second(shop, reviewer, ago, passed):
    sister = fund(make_shop(controller=shop.controller), 50000)
    issue(sister, "counterfeit", "general", reviewer, products=[make_product(sister)], now=NOW - ago)
    assert passes(shop, "controller") is passed


@pytest.mark.parametrize("closures, passed", [(3, True), (4, False)])
def test_exactly_the_allowed_closures_may_still_apply(shop, closures, passed):
    """SPEC §8: "违规超过三次" — more than three; three may still apply."""
    membership = AllianceMembership.objects.create(shop=shop, status=AllianceMembership.Status.CLOSED)
    for i in range(closures):
        AllianceMembership.objects.filter(pk=membership.pk).update(status=AllianceMembership.Status.ACTIVE)
        alliance_close(shop=shop, cause=AllianceMembership.Cause.CONTROLLER_VIOLATION, now=NOW - i * DAY)
    assert passes(shop, "closures") is passed
    merchant = shop.members.first().user
    if passed:
        assert alliance_apply(shop=shop, actor=merchant, now=NOW).status == AllianceMembership.Status.APPLIED
    else:
        with pytest.raises((DomainError, InvalidTransition)):
            alliance_apply(shop=shop, actor=merchant, now=NOW)


# SPEC §4: the first minor product case looks back 365 days ------------------------------------

@pytest.mark.parametrize("ago, tier_code", [(365 * DAY - SECOND, "product"), (365 * DAY, "product"),
                                            (365 * DAY + SECOND, "product_first_minor")])
def test_first_minor_look_back_of_365_days_to_the_second(shop, reviewer, ago, tier_code):
    issue(shop, "qualification_materials", "product_first_minor", reviewer, products=[make_product(shop)],
          now=NOW - ago)
    assert qualification_tier(shop=shop, kinds=["product"], at=NOW).code == tier_code


# SPEC §6.2: a node applies when the total reaches it ------------------------------------------

@pytest.mark.parametrize("points, reached", [(5, False), (6, True)])
def test_a_node_applies_at_its_total_not_one_below(shop, reviewer, points, reached):
    issue(shop, "price_mismatch", "serious", reviewer, points=6)
    ticket = issue(shop, "price_mismatch", "serious", reviewer, points=points)  # A 11 or A 12
    assert ticket.node_applications.exists() is reached


# SPEC §5: ¥500 per confirmed order, ¥5,000 a shop and Shanghai day — to the cent ---------------

@pytest.mark.parametrize("orders, charged", [(9, Decimal("4500.00")), (10, Decimal("5000.00")),
                                             (11, Decimal("5000.00"))])
def test_fake_shipment_cap_at_the_cent(shop, reviewer, orders, charged):
    ticket = issue(shop, "fake_shipment", "per_order", reviewer, order_count=orders)
    assert ticket.deposit_amount == charged


# SPEC §6.4: never below zero, the shortfall to the cent ------------------------------------------

@pytest.mark.parametrize("balance, taken, shortfall", [
    ("2000.00", "2000.00", "0.00"), ("1999.99", "1999.99", "0.01"), ("2000.01", "2000.00", "0.00")])
def test_a_deduction_takes_what_is_there_to_the_cent(reviewer, balance, taken, shortfall):
    shop = fund(make_shop(), balance)
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    entry = ticket.deposit_entries.get()
    assert (-entry.amount, entry.shortfall) == (Decimal(taken), Decimal(shortfall))


# SPEC §11: the merchant answers until the deadline; the reviewer decides after it ------------

def test_the_warning_deadline_to_the_microsecond(shop, reviewer):
    detector = make_integration("boundary")[0]
    merchant = shop.members.first().user
    answered = receive_warning(detector, shop, "a", now=NOW)
    late = receive_warning(detector, shop, "b", now=NOW)
    assert answered.deadline == NOW + datetime.timedelta(hours=48)
    with pytest.raises(InvalidTransition):  # before the deadline, not answered: not yet decidable
        warning_decide(warning=late, actor=reviewer, confirm=False, reason="r", now=late.deadline)
    assert warning_answer(warning=answered, actor=merchant, text="已核实", now=answered.deadline).status == "answered"
    with pytest.raises(InvalidTransition):
        warning_answer(warning=late, actor=merchant, text="已核实",
                       now=late.deadline + datetime.timedelta(microseconds=1))
    decided = warning_decide(warning=late, actor=reviewer, confirm=False, reason="r",
                             now=late.deadline + datetime.timedelta(microseconds=1))
    assert decided.status == "dismissed"


# SPEC §3: re-entry after a voluntary exit, to the second ------------------------------------------

def test_reentry_from_the_allowed_moment_not_a_second_before():
    controller = make_controller()
    make_shop(controller, status=Shop.Status.EXITED, ended_at=NOW)
    allowed = reentry_allowed_from(controller)
    from compliance.exceptions import ReentryRefused

    with pytest.raises(ReentryRefused):
        check_reentry(controller, now=allowed - SECOND)
    check_reentry(controller, now=allowed)


# SPEC §10: certificates expiring within 30 days are reminded; a day more is not ---------------

@pytest.mark.parametrize("days, reminded", [(30, True), (31, False)])
def test_certificate_reminder_window_in_shanghai_days(shop, reviewer, days, reminded):
    from compliance.services.daily import certificate_reminders

    cutoff = timezone.make_aware(datetime.datetime(2026, 6, 15, 23, 59, 59), TZ)
    q = approved_certificate(shop, "business_licence", reviewer, now=NOW,
                             expires_on=cutoff.date() + datetime.timedelta(days=days))
    certificate_reminders(cutoff)
    q.refresh_from_db()
    assert (q.expiry_reminded_at is not None) is reminded
    assert q.status == Qualification.Status.APPROVED


# SPEC §6.3: a suspension ends when its time has passed ------------------------------------------

@pytest.mark.parametrize("after, ended", [(-SECOND, False), (datetime.timedelta(0), True)])
def test_a_suspension_ends_at_its_end_time(shop, reviewer, after, ended):
    from compliance.services.daily import end_suspensions

    ticket = issue(shop, "price_mismatch", "serious", reviewer, now=NOW)
    suspension = ticket.measures.get(kind=Measure.Kind.SUSPEND)
    end_suspensions(suspension.ends_at + after)
    suspension.refresh_from_db()
    shop.refresh_from_db()
    assert (suspension.status == Measure.Status.ENDED) is ended
    assert shop.status == (Shop.Status.OPEN if ended else Shop.Status.SUSPENDED)


def test_points_of_a_node_not_active_are_not_reached(shop, reviewer):
    PointNode.objects.filter(violation_class="A", threshold=12).update(is_active=False)
    for _ in range(4):
        ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    assert not ticket.node_applications.exists()
