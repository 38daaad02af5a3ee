"""Violation warnings (SPEC §11): receiving, answering, confirming into a
ticket, dismissing, the daily steps, and the bulk preview."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.exceptions import DomainError, InvalidTransition, NotPermitted
from compliance.models import DepositEntry, Event, Message, PointEntry, Rule, Ticket, ViolationWarning
from compliance.services.warnings import (
    warning_answer, warning_decide, warnings_decide_many, warnings_expire, warnings_preview, warnings_receive,
    warnings_remind,
)
from tests.factories import (
    fund, make_integration, make_merchant, make_product, make_shop, pdf_upload, receive_warning, warning_row,
)

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 10, 10, 0))
LATER = NOW + datetime.timedelta(hours=49)  # past the default 48-hour deadline


@pytest.fixture
def shop():
    return fund(make_shop(name="预警店"), 20000)


@pytest.fixture
def merchant(shop):
    return make_merchant("warned", shop)


@pytest.fixture
def detector():
    return make_integration("风控")[0]


def test_a_warning_is_received_with_the_rules_deadline_an_event_and_a_message(shop, merchant, detector):
    warning = receive_warning(detector, shop, now=NOW)
    assert warning.status == ViolationWarning.Status.OPEN and warning.number.startswith("YJ20261110")
    assert warning.deadline == NOW + datetime.timedelta(hours=48)
    assert warning.tier.code == "per_order" and warning.order_nos == ["6900000000000000001", "6900000000000000002"]
    event = Event.objects.get(action=Event.Action.WARNING_RECEIVED)
    assert event.integration == detector and event.actor is None and event.data["warning"] == warning.number
    message = Message.objects.get(user=merchant)
    assert message.kind == "warnings_opened" and warning.number in message.body
    assert message.link.endswith(f"/portal/warnings/{warning.number}/")


def test_the_deadline_is_the_rules_figure(shop, detector):
    Rule.objects.filter(code="fake_shipment").update(warning_hours=24)
    warning = receive_warning(detector, shop, now=NOW)
    assert warning.deadline == NOW + datetime.timedelta(hours=24)


def test_resubmitting_a_report_changes_nothing(shop, merchant, detector):
    first = receive_warning(detector, shop, "same", now=NOW)
    [again] = warnings_receive(integration=detector, rows=[warning_row(shop, "same", summary="改过的摘要",
                                                                        detected_at=NOW + datetime.timedelta(days=9))],
                               now=NOW + datetime.timedelta(hours=1))
    assert again.outcome == "duplicate" and again.warning.pk == first.pk
    assert ViolationWarning.objects.count() == 1 and Message.objects.count() == 1
    assert ViolationWarning.objects.get().summary == "疑似虚假发货"
    # Report IDs are the detector's own: another detector may use the same one.
    other = make_integration("另一个检测")[0]
    assert receive_warning(other, shop, "same", now=NOW).pk != first.pk


def test_a_batch_keeps_its_valid_rows_and_says_why_the_others_failed(shop, detector):
    stranger = make_shop(name="别家")
    foreign = make_product(stranger)
    rows = [
        warning_row(shop, "ok-1", now=NOW),
        warning_row(shop, "bad-shop", shop="99999999", now=NOW),
        warning_row(shop, "bad-rule", rule="no_such_rule", now=NOW),
        warning_row(shop, "bad-tier", tier="no_such_tier", now=NOW),
        warning_row(shop, "no-orders", order_nos=[], now=NOW),
        warning_row(shop, "foreign-product", product_nos=[foreign.product_no], now=NOW),
        warning_row(shop, "future", detected_at=NOW + datetime.timedelta(days=1)),
        warning_row(shop, "ok-1", now=NOW),  # repeated within the batch
        warning_row(shop, "ok-2", rule="logistics_mismatch", tier=None, order_nos=[], now=NOW),
    ]
    rows[8].pop("tier")
    results = warnings_receive(integration=detector, rows=rows, now=NOW)
    assert [r.outcome for r in results] == ["created", "rejected", "rejected", "rejected", "rejected", "rejected",
                                           "rejected", "rejected", "created"]
    assert "No shop with ID 99999999." in results[1].errors["shop"]
    assert "rule" in results[2].errors and "tier" in results[3].errors and "order_nos" in results[4].errors
    assert "product_nos" in results[5].errors and "detected_at" in results[6].errors
    assert "row 0" in results[7].errors["report_id"][0]
    assert results[8].warning.tier.code == "general"  # the rule's first tier
    assert ViolationWarning.objects.count() == 2


def test_a_cleared_shop_gets_no_warning(shop, detector):
    shop.status = shop.Status.CLEARED
    shop.save(update_fields=["status"])
    [result] = warnings_receive(integration=detector, rows=[warning_row(shop, "x", now=NOW)], now=NOW)
    assert result.outcome == "rejected" and "shop" in result.errors


def test_the_merchant_answers_with_files_or_says_it_is_put_right(shop, merchant, detector):
    warning = receive_warning(detector, shop, now=NOW)
    answered = warning_answer(warning=warning, actor=merchant, text="已发货，附物流凭证", files=[pdf_upload()],
                              now=NOW + datetime.timedelta(hours=2))
    assert answered.status == ViolationWarning.Status.ANSWERED and answered.files.count() == 1
    with pytest.raises(InvalidTransition, match="can no longer be answered"):
        warning_answer(warning=warning, actor=merchant, text="再答一次", now=NOW + datetime.timedelta(hours=3))
    second = receive_warning(detector, shop, "r-2", now=NOW)
    fixed = warning_answer(warning=second, actor=merchant, text="已重新发货", put_right=True, now=NOW)
    assert fixed.status == ViolationWarning.Status.PUT_RIGHT
    assert Event.objects.filter(action=Event.Action.WARNING_ANSWERED).count() == 2


def test_only_a_member_answers_and_only_in_time_with_text(shop, merchant, detector):
    warning = receive_warning(detector, shop, now=NOW)
    outsider = make_merchant("outsider", make_shop())
    with pytest.raises(NotPermitted):
        warning_answer(warning=warning, actor=outsider, text="不是我的店", now=NOW)
    with pytest.raises(DomainError, match="the reviewer reads it"):
        warning_answer(warning=warning, actor=merchant, text="  ", now=NOW)
    with pytest.raises(InvalidTransition, match="time to answer ended"):
        warning_answer(warning=warning, actor=merchant, text="晚了", now=LATER)
    assert ViolationWarning.objects.get().status == ViolationWarning.Status.OPEN


def test_the_reviewer_waits_for_the_deadline_or_the_answer(shop, merchant, detector, reviewer):
    warning = receive_warning(detector, shop, now=NOW)
    with pytest.raises(InvalidTransition, match="has until"):
        warning_decide(warning=warning, actor=reviewer, confirm=True, now=NOW + datetime.timedelta(hours=1))
    warning_answer(warning=warning, actor=merchant, text="解释", now=NOW + datetime.timedelta(hours=2))
    decided = warning_decide(warning=warning, actor=reviewer, confirm=False, reason="物流轨迹正常",
                             now=NOW + datetime.timedelta(hours=3))
    assert decided.status == ViolationWarning.Status.DISMISSED and decided.ticket is None


def test_confirming_issues_the_ticket_per_confirmed_order_under_the_daily_cap(shop, merchant, detector, reviewer):
    orders = [f"69000000000000{i:05d}" for i in range(12)]
    warning = receive_warning(detector, shop, order_nos=orders, now=NOW)
    decided = warning_decide(warning=warning, actor=reviewer, confirm=True, order_nos=orders[:3], now=LATER)
    ticket = decided.ticket
    assert decided.status == ViolationWarning.Status.CONFIRMED and decided.decided_by == reviewer
    assert ticket.order_count == 3 and ticket.deposit_amount == Decimal("1500")
    assert ticket.warning == decided and "YJ" in ticket.description and orders[0] in ticket.description
    assert ticket.occurred_at == warning.detected_at
    event = Event.objects.get(action=Event.Action.WARNING_CONFIRMED)
    assert event.ticket == ticket and event.from_status == ViolationWarning.Status.EXPIRED  # time was up
    # A second warning the same Shanghai day: 12 orders would be ¥6,000; the cap is ¥5,000 a day.
    second = receive_warning(detector, shop, "r-2", order_nos=orders, now=NOW)
    ticket2 = warning_decide(warning=second, actor=reviewer, confirm=True, now=LATER).ticket
    assert ticket2.deposit_amount == Decimal("3500")  # 5,000 − 1,500 already charged that day
    assert Message.objects.filter(user=merchant, kind="ticket_issued").count() == 2


def test_dismissing_needs_a_reason_and_tells_the_merchant(shop, merchant, detector, reviewer):
    warning = receive_warning(detector, shop, now=NOW)
    with pytest.raises(DomainError, match="reason"):
        warning_decide(warning=warning, actor=reviewer, confirm=False, reason=" ", now=LATER)
    warning_decide(warning=warning, actor=reviewer, confirm=False, reason="检测数据有误", now=LATER)
    message = Message.objects.get(user=merchant, kind="warning_dismissed")
    assert "检测数据有误" in message.body
    assert not Ticket.objects.exists()


def test_a_decided_warning_stays_decided(shop, detector, reviewer, compliance_admin):
    warning = receive_warning(detector, shop, now=NOW)
    warning_decide(warning=warning, actor=reviewer, confirm=True, now=LATER)
    with pytest.raises(InvalidTransition, match="already decided"):
        warning_decide(warning=warning, actor=compliance_admin, confirm=False, reason="改判", now=LATER)
    assert Ticket.objects.count() == 1


def test_only_warning_reviewers_decide(shop, detector, appeal_reviewer):
    warning = receive_warning(detector, shop, now=NOW)
    with pytest.raises(NotPermitted):
        warning_decide(warning=warning, actor=appeal_reviewer, confirm=True, now=LATER)


def test_a_rule_revised_since_is_confirmed_under_its_current_version(shop, detector, reviewer):
    warning = receive_warning(detector, shop, now=NOW)
    old = Rule.objects.get(code="fake_shipment", version=1)
    Rule.objects.filter(pk=old.pk).update(effective_to=datetime.date(2026, 11, 10))
    new = Rule.objects.create(code="fake_shipment", version=2, name_zh="虚假发货", name_en="Fake shipment",
                              effective_from=datetime.date(2026, 11, 11))
    tier = old.tiers.get(code="per_order")
    tier.pk, tier.rule, tier.deposit_per_order = None, new, Decimal("600")
    tier.save()
    ticket = warning_decide(warning=warning, actor=reviewer, confirm=True, now=LATER).ticket
    assert ticket.rule == new and ticket.deposit_amount == Decimal("1200")


def test_the_daily_job_expires_open_warnings_and_reminds_once(shop, merchant, detector):
    warning = receive_warning(detector, shop, now=NOW)
    assert warnings_remind(NOW + datetime.timedelta(hours=12)) == 0  # 36 hours left: not yet
    assert warnings_remind(NOW + datetime.timedelta(hours=30)) == 1
    assert warnings_remind(NOW + datetime.timedelta(hours=31)) == 0  # one reminder per warning
    assert Message.objects.filter(user=merchant, kind="warning_closing").count() == 1
    assert warnings_expire(NOW + datetime.timedelta(hours=47)) == 0
    assert warnings_expire(LATER) == 1 and warnings_expire(LATER) == 0
    warning.refresh_from_db()
    assert warning.status == ViolationWarning.Status.EXPIRED
    expired = Event.objects.get(action=Event.Action.WARNING_EXPIRED)
    assert (expired.subject_id, expired.shop_id, expired.data, expired.from_status, expired.to_status) == (
        warning.pk, shop.pk, {"warning": warning.number}, "open", "expired")


def test_the_preview_is_what_confirming_does_and_writes_nothing(shop, merchant, detector, reviewer):
    product = make_product(shop)
    warnings = [receive_warning(detector, shop, f"p-{i}", order_nos=[f"6900000000000{i:06d}"] * 1, now=NOW)
                for i in range(4)]
    warnings.append(receive_warning(detector, shop, "serious", rule="logistics_mismatch", tier="serious",
                                    order_nos=[], product_nos=[product.product_no], now=NOW))
    too_early = receive_warning(detector, shop, "early", now=LATER - datetime.timedelta(hours=1))
    counts = (Ticket.objects.count(), PointEntry.objects.count(), DepositEntry.objects.count(),
              Message.objects.count(), Event.objects.count())
    [effect] = warnings_preview(warnings=[*warnings, too_early], actor=reviewer, now=LATER)
    assert (Ticket.objects.count(), PointEntry.objects.count(), DepositEntry.objects.count(),
            Message.objects.count(), Event.objects.count()) == counts
    assert not ViolationWarning.objects.filter(status=ViolationWarning.Status.CONFIRMED).exists()
    assert len(effect.warnings) == 5 and effect.refused[0][0] == too_early
    done, refused = warnings_decide_many(warnings=[*warnings, too_early], actor=reviewer, confirm=True, now=LATER)
    assert len(done) == 5 and refused[0][0] == too_early
    tickets = Ticket.objects.filter(warning__in=done)
    assert effect.points["A"] == sum(t.points for t in tickets)
    taken = -sum(e.amount for e in DepositEntry.objects.filter(kind=DepositEntry.Kind.DEDUCTION))
    assert effect.deposit == taken == Decimal("2000") + Decimal("5000")  # 4 × ¥500, the serious tier's ¥5,000
    assert "Suspension" in effect.measures


def test_a_number_already_taken_is_drawn_again(shop, detector, monkeypatch):
    import secrets

    first = receive_warning(detector, shop, "n-1", now=NOW)
    draws = iter([first.number[-12:].lower(), "00000000abcd"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(draws))
    second = receive_warning(detector, shop, "n-2", now=NOW)
    assert second.number == "YJ20261110" + "00000000ABCD"


@pytest.mark.parametrize("confirm", [True, False])
def test_a_warning_the_daily_job_marked_expired_is_decided_either_way(shop, detector, reviewer, confirm):
    warning = receive_warning(detector, shop, now=NOW)
    warnings_expire(LATER)
    decided = warning_decide(warning=warning, actor=reviewer, confirm=confirm, reason="复核", now=LATER)
    assert decided.status == ("confirmed" if confirm else "dismissed")
    event = Event.objects.get(action__in=["warning_confirmed", "warning_dismissed"])
    assert event.from_status == "expired" and event.to_status == decided.status


def test_the_preview_counts_a_point_nodes_deduction_once(shop, detector, reviewer):
    """A warning whose ticket reaches node A12 (¥2,000 of its own, ¥2,000 of
    the node's): the preview says ¥4,000, as confirming takes."""
    from tests.factories import issue, make_product

    for _ in range(3):
        issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)],
              now=NOW - datetime.timedelta(days=2))
    warning = receive_warning(detector, shop, "node", rule="false_advertising", tier="general", order_nos=[],
                              now=NOW)
    [effect] = warnings_preview(warnings=[warning], actor=reviewer, now=LATER)
    assert effect.nodes == ["point node A12"] and effect.deposit == Decimal("4000")
    before = -sum(e.amount for e in DepositEntry.objects.filter(kind=DepositEntry.Kind.DEDUCTION))
    warning_decide(warning=warning, actor=reviewer, confirm=True, now=LATER)
    after = -sum(e.amount for e in DepositEntry.objects.filter(kind=DepositEntry.Kind.DEDUCTION))
    assert after - before == effect.deposit
