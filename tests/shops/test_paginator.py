import pytest
from django.db import connection

from shops.admin_base import EstimatedCountPaginator
from shops.models import Product
from tests.factories import make_product, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    shop = make_shop()
    for _ in range(3):
        make_product(shop)
    return shop


def test_small_or_filtered_tables_are_counted_exactly(products, settings):
    settings.ADMIN_ESTIMATED_COUNT_THRESHOLD = 1
    assert EstimatedCountPaginator(Product.objects.filter(shop=products), 10).count == 3
    if connection.vendor == "sqlite":  # SQLite has no estimate at all
        assert EstimatedCountPaginator(Product.objects.all(), 10).count == 3


def test_never_analysed_table_is_counted(settings, on_postgres):
    """A table whose statistics are unknown (reltuples -1) is counted. An
    earlier test may have analysed it: TRUNCATE gives it a new file with
    unknown statistics, inside this test's transaction (rolled back after)."""
    settings.ADMIN_ESTIMATED_COUNT_THRESHOLD = 1
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE shops_product CASCADE")
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'shops_product'::regclass")
        assert cursor.fetchone()[0] < 0
    shop = make_shop()
    for _ in range(3):
        make_product(shop)
    assert EstimatedCountPaginator(Product.objects.all(), 10).count == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_unfiltered_large_table_uses_the_planner_estimate(settings, on_postgres):
    shop = make_shop()
    for _ in range(3):
        make_product(shop)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shops_product")
    for _ in range(2):  # rows the statistics have not seen yet
        make_product(shop)
    settings.ADMIN_ESTIMATED_COUNT_THRESHOLD = 1
    assert EstimatedCountPaginator(Product.objects.all(), 10).count == 3  # the estimate
    assert EstimatedCountPaginator(Product.objects.filter(shop=shop), 10).count == 5  # filtered: exact
    settings.ADMIN_ESTIMATED_COUNT_THRESHOLD = 1000
    assert EstimatedCountPaginator(Product.objects.all(), 10).count == 5  # small: exact


def test_changelist_does_not_count_twice(client, reviewer, products, django_assert_max_num_queries):
    client.force_login(reviewer)
    with django_assert_max_num_queries(8) as captured:
        assert client.get("/admin/shops/product/").status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) <= 1
