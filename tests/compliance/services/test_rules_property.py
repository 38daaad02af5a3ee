"""SPEC §6.2 is written once (compliance.rules): issuing a ticket and the
policy preview's replay call the same functions, so for any sequence of
tickets the replay must arrive where issuing did. Random sequences, each from
a fixed seed (a failure names the seed that reproduces it), are issued for
real and replayed with every tier's figures recomputed; per shop the nodes
reached, the deposit charged, the suspension and the clearance must agree."""

import datetime
import random
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from compliance.exceptions import DomainError
from compliance.models import Measure, NodeApplication, PointNode, RuleTier, Ticket
from compliance.selectors.insight import Node, Tier, preview
from compliance.services.tickets import ticket_issue
from shops.models import Shop
from tests.factories import fund, make_product, make_shop

pytestmark = pytest.mark.django_db

TIERS = [("price_mismatch", "general"), ("price_mismatch", "serious"), ("false_advertising", "general"),
         ("counterfeit", "general"), ("counterfeit", "serious"), ("counterfeit", "especially_serious"),
         ("fake_shipment", "per_order"), ("qualification_materials", "product_first_minor"),
         ("qualification_materials", "product")]
WEIGHTS = [6, 4, 4, 3, 2, 1, 4, 2, 2]


def random_sequence(rng: random.Random, shops, reviewer, start: datetime.datetime) -> int:
    """Issue a random sequence of tickets to ``shops``; returns how many were issued."""
    tiers = {key: RuleTier.objects.select_related("rule").get(rule__code=key[0], rule__version=1, code=key[1])
             for key in TIERS}
    moment, issued = start, 0
    for _ in range(rng.randint(12, 24)):
        moment += datetime.timedelta(hours=rng.randint(1, 30))
        shop = rng.choice(shops)
        tier = tiers[rng.choices(TIERS, WEIGHTS)[0]]
        points = rng.randint(tier.points_min, tier.points_max)
        orders = rng.randint(1, 14) if tier.deposit_per_order is not None else None
        products = [make_product(shop)] if tier.delist_products or tier.ban_products == "always" else []
        try:
            ticket_issue(shop=shop, tier=tier, actor=reviewer, points=points, products=products, order_count=orders,
                         description="随机序列", occurred_at=moment - datetime.timedelta(minutes=rng.randint(0, 600)),
                         now=moment)
            issued += 1
        except DomainError:
            pass  # a cleared shop gets no further ticket: the replay skips it the same way
    return issued


def reality(shop: Shop):
    shop.refresh_from_db()
    nodes = set(NodeApplication.objects.in_force().filter(shop=shop).values_list("node_id", flat=True))
    charged_by_tickets = (Ticket.objects.filter(shop=shop).exclude(tier__deposit_all=True)
                          .exclude(tier__clear_shop="always").aggregate(s=Sum("deposit_amount"))["s"] or Decimal(0))
    charged_by_nodes = (Measure.objects.filter(shop=shop, kind=Measure.Kind.DEPOSIT, node__clear_shop=False)
                        .exclude(node_application=None).aggregate(s=Sum("amount"))["s"] or Decimal(0))
    suspensions = Measure.objects.filter(shop=shop, kind=Measure.Kind.SUSPEND)
    until = max((m.ends_at for m in suspensions), default=None)
    cleared = shop.status == Shop.Status.CLEARED
    return {"nodes": nodes, "deposit": charged_by_tickets + charged_by_nodes, "cleared": cleared,
            "suspended_until": None if cleared else until}


def replayed(outcome):
    return {"nodes": set(outcome.reached), "deposit": outcome.deposit, "cleared": outcome.cleared,
            "suspended_until": None if outcome.cleared else outcome.suspended_until}


@pytest.mark.parametrize("seed", range(10))
def test_issuing_and_the_replay_agree_on_random_sequences(reviewer, seed):
    rng = random.Random(seed)
    start = timezone.make_aware(datetime.datetime(timezone.localdate().year, 1, 2, 9))
    shops = [fund(make_shop(), 10_000_000) for _ in range(3)]
    issued = random_sequence(rng, shops, reviewer, start)
    assert issued > 5
    # Every tier recomputed by the replay (its figures unchanged), every node as saved.
    tiers = {t.pk: Tier.of(t) for t in RuleTier.objects.filter(tickets__shop__in=shops).distinct()}
    nodes = [Node.of(n) for n in PointNode.objects.all()]
    now = Ticket.objects.filter(shop__in=shops).order_by("-issued_at").first().issued_at + datetime.timedelta(hours=1)
    result = preview(nodes_after=nodes, tiers_after=tiers, shop_ids=[s.pk for s in shops], now=now)
    assert result.tickets_replayed == Ticket.objects.filter(shop__in=shops).count()
    for shop in shops:
        assert replayed(result.outcomes_after[shop.pk]) == reality(shop), f"seed {seed}, shop {shop.shop_no}"
