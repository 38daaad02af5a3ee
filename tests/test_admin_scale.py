"""What keeps the admin fast on big tables, checked on small ones: the search
takes one index-backed branch by what was typed, filtered lists count up to a
cap, filters list their choices without scanning the big table, and only
indexed columns sort. (Timings are measured in bench/, not here.)"""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import Ticket
from shops.admin_base import EstimatedCountPaginator
from tests.factories import fund, issue, make_product, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(reviewer):
    shop = fund(make_shop(shop_no="31415926", name="云织女装旗舰店"), 100000)
    other = fund(make_shop(shop_no="27182818", name="锦程茶叶小店"), 100000)
    made = [issue(shop, "fake_shipment", "per_order", reviewer, order_count=1) for _ in range(3)]
    made.append(issue(other, "price_mismatch", "general", reviewer, products=[make_product(other)]))
    return made


def search(client, term):
    response = client.get("/admin/compliance/ticket/", {"q": term})
    assert response.status_code == 200
    return {t.number for t in response.context["cl"].result_list}


@pytest.mark.parametrize("term, expect", [
    ("number", {0}), ("wg", {0, 1, 2, 3}), ("3141", {0, 1, 2}), ("31415926", {0, 1, 2}),
    ("云织", {0, 1, 2}), ("茶叶", {3}), ("nothing-like-it", set()),
])
def test_ticket_search_is_shaped_by_what_was_typed(client, reviewer, tickets, term, expect):
    client.force_login(reviewer)
    if term == "number":
        term = tickets[0].number.lower()  # typed in lower case: normalised
    assert search(client, term) == {tickets[i].number for i in expect}


def test_a_ticket_number_search_never_joins_the_shop(client, reviewer, tickets):
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/compliance/ticket/", {"q": tickets[0].number[:10]})
    listing = [q["sql"] for q in captured.captured_queries if 'FROM "compliance_ticket"' in q["sql"]]
    assert listing and all(" OR " not in sql for sql in listing)


def test_filtered_lists_count_up_to_a_cap(client, reviewer, tickets, settings):
    settings.ADMIN_COUNT_CAP = 2
    paginator = EstimatedCountPaginator(Ticket.objects.filter(points=0), 50)
    assert paginator.count == 2 and paginator.capped
    client.force_login(reviewer)
    page = client.get("/admin/compliance/ticket/", {"violation_class__exact": "A"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "more than 2 tickets" in page.content.decode()
    settings.ADMIN_COUNT_CAP = 1000
    assert EstimatedCountPaginator(Ticket.objects.filter(points=0), 50).count == 3


def test_filters_list_no_distinct_over_big_tables(client, reviewer, tickets):
    client.force_login(reviewer)
    for url in ("/admin/compliance/ticket/", "/admin/compliance/event/", "/admin/compliance/pointentry/",
                "/admin/compliance/appeal/", "/admin/compliance/measure/"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert not [q["sql"] for q in captured.captured_queries if "DISTINCT" in q["sql"].upper()], url


def test_rule_and_period_filters(client, reviewer, tickets):
    client.force_login(reviewer)
    by_rule = client.get("/admin/compliance/ticket/", {"rule": "price_mismatch"}).context["cl"].result_list
    assert [t.number for t in by_rule] == [tickets[3].number]
    today = client.get("/admin/compliance/ticket/", {"period": "today"}).context["cl"].result_list
    assert len(today) == 4


def test_only_indexed_columns_sort(reviewer, rf):
    request = rf.get("/")
    request.user = reviewer
    indexed = {
        "compliance.Ticket": {"number", "issued_display"}, "shops.Shop": {"shop_no"}, "compliance.Appeal": {"due_display"},
        "compliance.PointEntry": set(), "compliance.DepositEntry": set(), "compliance.Event": {"time_display"},
        "compliance.Measure": {"time_display"},
    }
    for model, model_admin in admin.site._registry.items():
        if model._meta.label in indexed:
            assert set(model_admin.get_sortable_by(request)) == indexed[model._meta.label], model
