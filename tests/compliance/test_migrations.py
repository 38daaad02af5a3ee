"""The data migration of the revised SPEC §6.2 and §7 on data written before
it: appeal deadlines become whole Shanghai days, node measures get their
node application."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("compliance", "0011_appeal_statement_limit"), ("shops", "0002_shop_deposit_balance_and_more")]
AFTER = [("compliance", "0013_node_applications_data")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())  # the rest of the suite runs on the latest schema


def test_existing_tickets_and_node_measures_are_migrated(back_to_latest):
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Controller = apps.get_model("shops", "Controller")
    Shop = apps.get_model("shops", "Shop")
    Rule = apps.get_model("compliance", "Rule")
    Ticket = apps.get_model("compliance", "Ticket")
    Measure = apps.get_model("compliance", "Measure")
    PointNode = apps.get_model("compliance", "PointNode")

    user = User.objects.create(username="old-reviewer", is_staff=True)
    controller = Controller.objects.create(name="旧公司", kind="company", uscc="91330100MA0000001X")
    shop = Shop.objects.create(shop_no="30000001", name="旧店", controller=controller, entity_type="enterprise",
                               shop_type="ordinary", deposit_balance=Decimal("0"))
    rule = Rule.objects.get(code="price_mismatch", version=1)
    issued = datetime.datetime(2026, 5, 1, 18, 37, tzinfo=SHANGHAI)
    ticket = Ticket.objects.create(
        number="WG20260501OLD", idempotency_key="old", shop=shop, rule=rule, tier=rule.tiers.get(code="general"),
        rule_snapshot={"appeal_window_days": 7}, violation_class="A", points=12, point_year=2026,
        deposit_amount=Decimal("2000"), description="旧单", occurred_at=issued, issued_at=issued,
        issued_by=user, appeal_deadline=issued + datetime.timedelta(days=7))
    node = PointNode.objects.get(violation_class="A", threshold=12)
    Measure.objects.create(ticket=ticket, shop=shop, node=node, kind="suspend", created_at=issued,
                           ends_at=issued + datetime.timedelta(days=3))

    apps = migrate(AFTER)
    Ticket = apps.get_model("compliance", "Ticket")
    NodeApplication = apps.get_model("compliance", "NodeApplication")
    Measure = apps.get_model("compliance", "Measure")
    deadline = Ticket.objects.get(number="WG20260501OLD").appeal_deadline.astimezone(SHANGHAI)
    assert (deadline.date(), deadline.hour, deadline.minute, deadline.second) == (
        datetime.date(2026, 5, 8), 23, 59, 59)
    application = NodeApplication.objects.get()
    assert (application.status, application.year, application.node.threshold) == ("in_force", 2026, 12)
    assert Measure.objects.get().node_application_id == application.pk
