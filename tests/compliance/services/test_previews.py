"""Every preview is the real thing rolled back (services.preview): it equals
what doing it takes, ticket by ticket, when one ticket of a shop changes
what the next one does — and it writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import Event, Message, NodeApplication, Ticket
from compliance.selectors import active_requirements, missing_for, missing_plan, missing_qualifications
from compliance.services.qualifications import missing_groups, missing_ticket_issue, missing_tickets_preview
from compliance.services.tickets import ticket_preview
from shops.models import Shop
from tests.factories import fund, issue, make_merchant, make_product, make_shop, tier

pytestmark = pytest.mark.django_db


def counts():
    return Ticket.objects.count(), Event.objects.count(), Message.objects.count(), NodeApplication.objects.count()


@pytest.fixture
def shop_at_a18(reviewer):
    """A shop at A 18 (node A12 reached) with an earlier product-qualification
    case, selling a 数码 product without its CCC (A 8) and a 食品 product
    without its food licence (A 12): two tickets of one shop."""
    shop = fund(make_shop(), 100000)
    make_merchant(f"m-{shop.shop_no}", shop)
    for _ in range(6):
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    issue(shop, "qualification_materials", "product_first_minor", reviewer, products=[make_product(shop)])
    make_product(shop, category="数码")
    make_product(shop, category="食品")
    return shop


def groups_for(shop, now):
    today = timezone.localtime(now).date()
    requirements = active_requirements()
    products = list(missing_qualifications(today, requirements).filter(shop=shop).select_related("shop")
                    .order_by("shop_id", "id"))
    lacking = missing_for(products, today, requirements)
    return missing_groups(products, lacking, at=now), lacking


def test_missing_certificate_preview_equals_issuing_for_two_tickets_of_one_shop(shop_at_a18, reviewer):
    now = timezone.now()
    groups, lacking = groups_for(shop_at_a18, now)
    assert sorted(tier.points_default for _shop, tier, _items in groups) == [8, 12]
    before = counts()
    effects, errors = missing_tickets_preview(groups=groups, lacking=lacking, actor=reviewer, now=now)
    assert errors == [] and counts() == before  # nothing written, no message
    # The second ticket sees the first: A 18 → 26 reaches A24, then 26 → 38 reaches A36 and clears.
    assert [(e.consequences.total_before, e.consequences.total_after) for e in effects] == [(18, 26), (26, 38)]
    assert [e.consequences.node.threshold for e in effects] == [24, 36]
    assert effects[1].clears
    tickets, errors = missing_ticket_issue(groups=groups, lacking=lacking, actor=reviewer, token="t-1", now=now)
    assert errors == [] and len(tickets) == 2
    for effect, ticket in zip(effects, tickets):
        c = ticket.consequences
        assert (effect.consequences.total_after, effect.consequences.node.threshold, effect.consequences.total_taken,
                effect.consequences.shop_cleared) == (c.total_after, c.node.threshold, c.total_taken, c.shop_cleared)
        taken = -sum(e.amount for e in ticket.deposit_entries.all())
        assert effect.deposit == taken
    shop_at_a18.refresh_from_db()
    assert shop_at_a18.status == Shop.Status.CLEARED


def test_the_admin_page_shows_the_second_ticket_reaching_the_clearance(client, shop_at_a18, reviewer):
    client.force_login(reviewer)
    ids = ",".join(str(pk) for pk in missing_qualifications(timezone.localdate()).filter(shop=shop_at_a18)
                   .values_list("pk", flat=True))
    before = counts()
    response = client.get("/admin/compliance/qualificationgap/issue/", {"ids": ids}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and counts() == before
    preview = response.context["preview"]
    assert [(e.consequences.total_after, e.consequences.node.threshold) for e in preview.effects] == [(26, 24),
                                                                                                      (38, 36)]
    assert [shop.pk for shop in preview.clearing] == [shop_at_a18.pk]
    page = response.content.decode()
    assert "A36" in page and "These tickets clear 1 shop" in page and shop_at_a18.shop_no in page
    # Stated again beside the button that issues them, in red (issue #23, defect 4).
    beside = page[page.index('class="submit-row"'):]
    assert 'id="clearing-beside-button"' in beside and f"This clears 1 shop: {shop_at_a18.name} " in beside


def test_the_missing_certificate_plan_is_the_products_lacking_one_now(shop_at_a18, reviewer):
    """The page's ids are checked again: a product that got its certificate,
    or one never missing any, drops out of the plan."""
    today, now = timezone.localdate(), timezone.now()
    lacking_ids = list(missing_qualifications(today).filter(shop=shop_at_a18).values_list("pk", flat=True))
    sound = make_product(shop_at_a18, category="服饰")
    plan = missing_plan([*lacking_ids, sound.pk], today=today, at=now)
    assert [p.pk for p in plan.products] == sorted(lacking_ids) and plan.ids == ",".join(map(str, sorted(lacking_ids)))
    assert sorted(len(items) for _shop, _tier, items in plan.groups) == [1, 1]
    assert missing_plan([sound.pk], today=today, at=now).products == []


def test_ticket_preview_issues_nothing_and_sends_nothing(reviewer):
    shop = fund(make_shop(), 10000)
    make_merchant("m-preview", shop)
    before = counts()
    c = ticket_preview(shop=shop, tier=tier("price_mismatch", "serious"), points=6, actor=reviewer,
                       occurred_at=timezone.now() - datetime.timedelta(hours=1))
    assert counts() == before
    assert (c.total_after, c.deposit_charged, c.suspend_days) == (6, Decimal("5000"), 7)
    shop.refresh_from_db()
    assert shop.deposit_balance == Decimal("10000") and shop.status == Shop.Status.OPEN
