"""SPEC §8: every eligibility criterion both ways at its boundary, the
application and decision, every closure trigger, the closure limit."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.exceptions import DomainError, InvalidTransition
from compliance.models import AllianceClosure, AllianceMembership, Event, PolicySettings
from compliance.services.alliance import (
    alliance_apply, alliance_close, alliance_decide, alliance_eligibility, alliance_recheck,
)
from compliance.services.tickets import ticket_revoke
from shops.models import Shop
from tests.factories import (
    approved_certificate, fund, issue, make_merchant, make_product, make_shop,
)

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12))
Status = AllianceMembership.Status


@pytest.fixture
def shop(db):
    shop = fund(make_shop(experience_score=Decimal("85")), 50000)
    make_merchant(f"m-{shop.shop_no}", shop)
    return shop


def criterion(shop, code, now=NOW):
    found = {c.code: c for c in alliance_eligibility(shop, now=now).criteria}
    return found[code]


def test_a_clean_shop_meets_every_criterion(shop):
    result = alliance_eligibility(shop, now=NOW)
    assert result.eligible and [c.code for c in result.criteria] == [
        "operating", "score", "tickets", "b_tickets", "controller", "brands", "closures"]


@pytest.mark.parametrize("score, passed", [("70.00", False), ("70.01", True), ("69.99", False)])
def test_score_must_be_more_than_the_threshold(shop, score, passed):
    Shop.objects.filter(pk=shop.pk).update(experience_score=Decimal(score))
    shop.refresh_from_db()
    c = criterion(shop, "score")
    assert c.passed is passed
    if not passed:
        assert c.reason == f"Experience score {score}; it must be more than 70.00."


def test_the_reason_is_in_the_merchants_language(shop):
    from django.utils import translation

    Shop.objects.filter(pk=shop.pk).update(experience_score=Decimal("68"))
    shop.refresh_from_db()
    with translation.override("zh-hans"):
        assert criterion(shop, "score").reason == "体验分 68.00，需大于 70.00。"


@pytest.mark.parametrize("days_ago, passed", [(29, False), (31, True)])
def test_b_ticket_within_30_days(shop, reviewer, days_ago, passed):
    ticket = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
                   now=NOW - datetime.timedelta(days=days_ago))
    ticket_revoke(ticket=ticket, actor=reviewer, reason="x", now=NOW - datetime.timedelta(days=days_ago - 1))
    # A revoked B ticket counts for nothing; issue it again, upheld.
    assert criterion(shop, "b_tickets").passed
    issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
          now=NOW - datetime.timedelta(days=days_ago))
    assert criterion(shop, "b_tickets").passed is passed


@pytest.mark.parametrize("days_ago, passed", [(364, False), (366, True)])
def test_upheld_ticket_within_365_days(shop, reviewer, days_ago, passed):
    issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)],
          now=NOW - datetime.timedelta(days=days_ago))
    assert criterion(shop, "tickets").passed is passed


def test_a_ticket_under_appeal_is_not_upheld(shop, reviewer):
    from compliance.services.appeals import appeal_submit

    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)],
                   now=NOW - datetime.timedelta(days=2))
    appeal_submit(ticket=ticket, actor=shop.members.first().user, reason="r", statement="s",
                  now=NOW - datetime.timedelta(days=1))
    assert criterion(shop, "tickets").passed


@pytest.mark.parametrize("days_ago, passed", [(364, False), (366, True)])
def test_serious_violation_of_another_shop_of_the_controller(shop, reviewer, days_ago, passed):
    sister = fund(make_shop(controller=shop.controller), 50000)
    issue(sister, "counterfeit", "general", reviewer, products=[make_product(sister)],
          now=NOW - datetime.timedelta(days=days_ago))
    stranger = fund(make_shop(), 50000)
    issue(stranger, "counterfeit", "general", reviewer, now=NOW - datetime.timedelta(days=5),
          products=[make_product(stranger)])  # another controller's: irrelevant
    assert criterion(shop, "controller").passed is passed


def test_operating_normally_and_an_active_account(shop, reviewer):
    assert criterion(shop, "operating").passed
    member = shop.members.first().user
    member.is_active = False
    member.save()
    assert not criterion(shop, "operating").passed
    member.is_active = True
    member.save()
    issue(shop, "false_advertising", "serious", reviewer, now=NOW - datetime.timedelta(days=1))  # suspended
    shop.refresh_from_db()
    assert "must be open" in criterion(shop, "operating").reason


def test_brand_certificates_for_flagship_exclusive_and_specialty(reviewer):
    shop = fund(make_shop(shop_type="exclusive"), 50000)
    make_merchant("m-brand", shop)
    make_product(shop, brand="极光")
    c = criterion(shop, "brands")
    assert not c.passed and "极光" in c.reason
    approved_certificate(shop, "brand_authorisation", reviewer, brand="极光", now=NOW - datetime.timedelta(days=30))
    assert criterion(shop, "brands").passed
    ordinary = fund(make_shop(shop_type="ordinary"), 50000)
    make_product(ordinary, brand="极光")
    assert criterion(ordinary, "brands").reason == "This shop type needs no brand certificate."


# Application and decision --------------------------------------------------------------------------

def test_apply_only_when_eligible_and_decide(shop, reviewer):
    merchant = shop.members.first().user
    Shop.objects.filter(pk=shop.pk).update(experience_score=Decimal("70"))
    shop.refresh_from_db()
    with pytest.raises(DomainError, match="Experience score 70.00"):
        alliance_apply(shop=shop, actor=merchant, now=NOW)
    Shop.objects.filter(pk=shop.pk).update(experience_score=Decimal("88"))
    shop.refresh_from_db()
    m = alliance_apply(shop=shop, actor=merchant, now=NOW)  # Monday 15 June 2026
    assert m.status == Status.APPLIED and m.materials["company_name"]
    assert timezone.localtime(m.due_at).date() == datetime.date(2026, 6, 24)  # 7 working days
    with pytest.raises(InvalidTransition):
        alliance_apply(shop=shop, actor=merchant, now=NOW)
    with pytest.raises(DomainError, match="reason"):
        alliance_decide(membership=m, approve=False, reason="", actor=reviewer, now=NOW)
    # Evaluated again at decision time: a B ticket since the application blocks the approval.
    issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)], now=NOW)
    with pytest.raises(DomainError, match="no longer meets"):
        alliance_decide(membership=m, approve=True, reason="", actor=reviewer, now=NOW)
    alliance_decide(membership=m, approve=False, reason="近期有 B 类违规", actor=reviewer, now=NOW)
    m.refresh_from_db()
    assert m.status == Status.REJECTED


def test_approved_membership_and_materials_of_an_individual(reviewer):
    shop = fund(make_shop(entity_type="individual"), 50000)
    make_merchant("m-ind", shop)
    with pytest.raises(DomainError, match="ID card, front"):
        alliance_apply(shop=shop, actor=shop.members.first().user, now=NOW)
    assert not AllianceMembership.objects.filter(shop=shop, status=Status.APPLIED).exists()


# Closures ------------------------------------------------------------------------------------------

def member(shop, reviewer, now=NOW):
    m = alliance_apply(shop=shop, actor=shop.members.first().user, now=now)
    return alliance_decide(membership=m, approve=True, reason="", actor=reviewer, now=now)


def test_a_b_ticket_closes_at_once_and_counts(shop, reviewer):
    member(shop, reviewer)
    ticket = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
                   now=NOW + datetime.timedelta(days=1))
    m = AllianceMembership.objects.get(shop=shop)
    closure = AllianceClosure.objects.get()
    assert m.status == Status.CLOSED and closure.cause == "b_ticket" and closure.ticket == ticket and closure.counts
    # An A ticket does not close a membership.
    other = fund(make_shop(experience_score=Decimal("90")), 50000)
    make_merchant("m-a", other)
    member(other, reviewer)
    issue(other, "price_mismatch", "general", reviewer, products=[make_product(other)],
          now=NOW + datetime.timedelta(days=1))
    assert AllianceMembership.objects.get(shop=other).status == Status.ACTIVE


def test_revoking_the_ticket_voids_the_closure_but_does_not_reopen(shop, reviewer):
    member(shop, reviewer)
    ticket = issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
                   now=NOW + datetime.timedelta(days=1))
    ticket_revoke(ticket=ticket, actor=reviewer, reason="误判", now=NOW + datetime.timedelta(days=2))
    m = AllianceMembership.objects.get(shop=shop)
    assert m.status == Status.CLOSED and not AllianceClosure.objects.get().counts


def test_the_fourth_violation_closure_closes_for_good(shop, reviewer):
    tickets = []
    for i in range(4):
        AllianceMembership.objects.update_or_create(shop=shop, defaults={"status": Status.ACTIVE,
                                                                          "activated_at": NOW})
        tickets.append(issue(shop, "counterfeit", "general", reviewer, products=[make_product(shop)],
                             now=NOW + datetime.timedelta(days=i)))
        assert AllianceMembership.objects.get(shop=shop).status == (Status.CLOSED if i < 3 else Status.CLOSED_FOR_GOOD)
    assert not criterion(shop, "closures", now=NOW + datetime.timedelta(days=400)).passed
    with pytest.raises(InvalidTransition):
        alliance_apply(shop=shop, actor=shop.members.first().user, now=NOW + datetime.timedelta(days=400))
    # Revoking one of the four brings it back to three: closed, and the shop may apply again one day.
    ticket_revoke(ticket=tickets[0], actor=reviewer, reason="误判", now=NOW + datetime.timedelta(days=5))
    assert AllianceMembership.objects.get(shop=shop).status == Status.CLOSED


def test_a_reviewer_closes_as_unsuitable_and_it_does_not_count(shop, reviewer):
    with pytest.raises(InvalidTransition):
        alliance_close(shop=shop, cause="unsuitable", reason="x", actor=reviewer, now=NOW)
    member(shop, reviewer)
    alliance_close(shop=shop, cause="unsuitable", reason="商品结构单一", actor=reviewer, now=NOW)
    m = AllianceMembership.objects.get(shop=shop)
    assert m.status == Status.CLOSED and not AllianceClosure.objects.get().counts


def test_daily_recheck_closes_on_score_brand_and_controller(reviewer):
    PolicySettings.objects.filter(pk=1).update(alliance_min_score=Decimal("70"))
    shops = []
    for shop_type in ("ordinary", "exclusive", "ordinary", "ordinary"):
        shop = fund(make_shop(shop_type=shop_type, experience_score=Decimal("85")), 50000)
        make_merchant(f"m-re-{shop.shop_no}", shop)
        shops.append(shop)
    low, branded, sister_of, fine = shops
    brand = approved_certificate(branded, "brand_authorisation", reviewer, brand="极光",
                                 expires_on=datetime.date(2026, 6, 20), now=NOW - datetime.timedelta(days=10))
    make_product(branded, brand="极光")
    for shop in shops:
        member(shop, reviewer)
    Shop.objects.filter(pk=low.pk).update(experience_score=Decimal("70.00"))
    sister = fund(make_shop(controller=sister_of.controller), 50000)
    issue(sister, "counterfeit", "general", reviewer, products=[make_product(sister)],
          now=NOW + datetime.timedelta(days=1))
    from compliance.services.daily import expire_certificates

    cutoff = timezone.make_aware(datetime.datetime(2026, 6, 22))
    expire_certificates(cutoff)  # the authorisation ran out on 20 June
    assert alliance_recheck(cutoff) == 3
    causes = dict(AllianceClosure.objects.values_list("shop_id", "cause"))
    assert causes == {low.pk: "score", branded.pk: "brand_lapsed", sister_of.pk: "controller_violation"}
    # Each event carries its own membership's reason (on PostgreSQL written from arrays in the UPDATE's statement).
    closures = {c.membership_id: c for c in AllianceClosure.objects.all()}
    events = Event.objects.filter(action=Event.Action.ALLIANCE_CLOSED)
    assert sorted((e.subject_id, e.shop_id, e.reason, str(e.data), e.from_status) for e in events) == sorted(
        (pk, c.shop_id, c.reason or c.get_cause_display(), "{}", "active") for pk, c in closures.items())
    assert "70.00" in closures[AllianceMembership.objects.get(shop=low).pk].reason
    assert AllianceMembership.objects.get(shop=fine).status == Status.ACTIVE
    assert alliance_recheck(cutoff) == 0  # the same day again changes nothing
    assert brand.pk


def test_daily_recheck_cost_does_not_grow_with_untouched_members(reviewer):
    def members(n):
        for _ in range(n):
            shop = fund(make_shop(experience_score=Decimal("85")), 50000)
            make_merchant(f"m-many-{shop.shop_no}", shop)
            member(shop, reviewer)

    members(2)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            alliance_recheck(NOW + datetime.timedelta(days=1))
        return len(ctx)

    few = count()
    members(10)
    assert count() == few
