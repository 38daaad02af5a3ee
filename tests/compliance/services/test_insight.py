"""Policy insight (issue #14): the preview of a node or tier change is what
really happens when the change is saved and the same tickets are issued
afresh; previewing writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Sum
from django.utils import timezone

from compliance.models import DepositEntry, Measure, NodeApplication, PointNode, RuleTier, Ticket
from compliance.services.catalogue import node_revise
from compliance.services.insight import node_change_preview, tier_change_preview
from tests.factories import fund, issue, make_product, make_shop

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 10, 10, 0))
# Each shop's tickets: (rule, tier, days before NOW).
HISTORIES = {
    "four general": [("false_advertising", "general", d) for d in (5, 4, 3, 2)],  # A12
    "three general": [("false_advertising", "general", d) for d in (4, 3, 2)],  # A9
    "two serious": [("logistics_mismatch", "serious", d) for d in (3, 1)],  # A12 by a ticket of 6
    "to A24": [("logistics_mismatch", "serious", d) for d in (9, 7, 5, 3)],  # A12 then A24
    "two general": [("false_advertising", "general", d) for d in (2, 1)],  # A6: untouched
    "fake shipment": [("fake_shipment", "per_order", d) for d in (2, 2, 1)],  # ¥ per order, capped per day
}


def build(histories, prefix):
    shops = {}
    for name, tickets in histories.items():
        shop = fund(make_shop(name=f"{prefix}{name}"), 200000)
        for rule, tier, days in tickets:
            at = NOW - datetime.timedelta(days=days, hours=1)
            kwargs = {"order_count": 6} if tier == "per_order" else {"products": [make_product(shop)]}
            issue(shop, rule, tier, _reviewer(), now=at, **kwargs)
        shops[name] = shop
    return shops


def _reviewer():
    from django.contrib.auth.models import User

    return User.objects.get(username="t-reviewer")


def actual(shop) -> dict:
    """What the engine did to a shop, in the preview's terms: a clearance's
    "all remaining deposit" is counted as the clearance, not as money."""
    in_force = NodeApplication.objects.in_force().filter(shop=shop).select_related("node")
    node_deposit = DepositEntry.objects.filter(shop=shop, kind="deduction", node_application__isnull=False,
                                               node_application__node__clear_shop=False).aggregate(
        s=Sum("requested"))["s"] or Decimal("0")
    ticket_deposit = Ticket.objects.live().filter(shop=shop, rule_snapshot__deposit_all=False).exclude(
        rule_snapshot__clear_shop="always").aggregate(s=Sum("deposit_amount"))["s"] or Decimal("0")
    shop.refresh_from_db()
    cleared = shop.status == "cleared"
    return {
        "reached": {f"{a.violation_class}{a.node.threshold}" for a in in_force},
        "deposit": node_deposit + ticket_deposit,
        "suspended": not cleared and Measure.objects.filter(shop=shop, kind="suspend", status="active",
                                                            ends_at__gt=NOW).exists(),
        "cleared": cleared,
    }


def predicted(outcome, labels) -> dict:
    return {"reached": {labels[key] for key in outcome.reached}, "deposit": outcome.deposit,
            "suspended": bool(outcome.suspended_until and outcome.suspended_until > NOW and not outcome.cleared),
            "cleared": outcome.cleared}


def table_counts():
    return {m._meta.label: m.objects.count() for m in apps.get_app_config("compliance").get_models()}


@pytest.mark.parametrize("change", [
    {"threshold": 9, "suspend_days": 5, "deposit_amount": Decimal("3000")},
    {"threshold": 15},
    {"clear_shop": True, "threshold": 20},
    {"is_active": False},
])
def test_a_node_change_previews_what_issuing_afresh_does(reviewer, change):
    originals = build(HISTORIES, "原")
    node = PointNode.objects.get(violation_class="A", threshold=12)
    before = table_counts()
    for field, value in change.items():
        setattr(node, field, value)
    result = node_change_preview(node, now=NOW)  # the node is changed in memory, not saved
    assert table_counts() == before and PointNode.objects.get(pk=node.pk).threshold == 12
    # The replay of the saved data is what the engine did.
    for shop in originals.values():
        if shop.pk in result.outcomes_before:
            assert predicted(result.outcomes_before[shop.pk], result.labels_before) == actual(shop), shop.name
    # Save the change (a new version of the node), issue the same tickets afresh: the preview said
    # so; the shops it did not replay (too few points to be touched) fare the same as before.
    node_revise(saved=PointNode.objects.get(pk=node.pk), changed=node, actor=reviewer, reason="测试")
    twins = build(HISTORIES, "新")
    for name, shop in originals.items():
        if shop.pk in result.outcomes_after:
            assert predicted(result.outcomes_after[shop.pk], result.labels_after) == actual(twins[name]), name
        else:
            assert actual(shop) == actual(twins[name]), name


def test_the_preview_counts_and_samples_what_changes(reviewer):
    originals = build(HISTORIES, "原")
    node = PointNode.objects.get(violation_class="A", threshold=12)
    node.threshold = 9
    result = node_change_preview(node, now=NOW)
    counts = {n.label: (n.reach, n.leave) for n in result.nodes}
    assert counts["A12 → A9"] == (1, 0)  # the moved node: one shop at 9 reaches it newly
    assert counts["A24"] == (0, 0)
    # The other three reach it too, some earlier: the shop with four tickets reaches it at its third,
    # so its 3-day suspension ended before NOW instead of lasting past it.
    assert result.shops_changed == 2
    assert result.sample[0].shop_id == originals["three general"].pk
    assert result.deposit_more == Decimal("2000") and result.deposit_less == 0
    assert (result.suspensions_start, result.suspensions_stop) == (1, 1) and result.shops_replayed == 4
    assert [c.suspension for c in result.sample] == ["starts", "stops"]  # the A6 and fake-shipment shops untouched


def test_a_tier_change_previews_what_issuing_afresh_does(reviewer):
    originals = build(HISTORIES, "原")
    tier = RuleTier.objects.select_related("rule").get(rule__code="false_advertising", code="general")
    before = table_counts()
    tier.points_default = tier.points_min = tier.points_max = 4
    tier.deposit_amount = Decimal("2500")
    result = tier_change_preview("false_advertising", [tier], now=NOW)
    assert table_counts() == before
    tier.save()
    twins = build(HISTORIES, "新")
    replayed = [name for name, shop in originals.items() if shop.pk in result.outcomes_after]
    assert sorted(replayed) == ["four general", "three general", "two general"]  # the shops with such tickets
    for name in replayed:
        assert predicted(result.outcomes_after[originals[name].pk], result.labels_after) == actual(twins[name]), name
    # Three general tickets at 4 points reach A12; four reach A12 at the third and stay under 24.
    assert predicted(result.outcomes_after[originals["three general"].pk], result.labels_after)["reached"] == {"A12"}
    assert result.deposit_more == Decimal("500") * 9 + Decimal("2000")


def test_a_per_order_change_respects_the_daily_cap(reviewer):
    originals = build(HISTORIES, "原")
    tier = RuleTier.objects.select_related("rule").get(rule__code="fake_shipment", code="per_order")
    tier.deposit_per_order = Decimal("800")
    result = tier_change_preview("fake_shipment", [tier], now=NOW)
    tier.save()
    twins = build({"fake shipment": HISTORIES["fake shipment"]}, "新")
    assert predicted(result.outcomes_after[originals["fake shipment"].pk], result.labels_after) == actual(
        twins["fake shipment"])
