import datetime

import pytest
from django.db import IntegrityError
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from compliance.exceptions import ReentryRefused
from compliance.models import PolicySettings
from shops.models import Shop
from compliance.services.shops import add_months, check_reentry, shop_create
from tests.factories import make_controller, make_shop, uscc

pytestmark = pytest.mark.django_db


def new_shop_fields(n=1):
    return dict(shop_no=f"5{n:07d}", name="新店", entity_type="enterprise", shop_type="ordinary",
                company_name="新公司", uscc=uscc(900 + n))


def test_shop_create_for_a_clean_controller(reviewer):
    controller = make_controller()
    shop = shop_create(controller=controller, actor=reviewer, **new_shop_fields())
    assert shop.pk and shop.status == Shop.Status.OPEN and shop.controller == controller
    event = shop.events.get()
    assert (event.action, event.actor, event.to_status) == ("shop_created", reviewer, "open")


def test_barred_controller_is_refused(reviewer):
    controller = make_controller(barred_at=timezone.now(), barred_reason="清退")
    with pytest.raises(ReentryRefused, match="permanently barred"):
        shop_create(controller=controller, actor=reviewer, **new_shop_fields())
    assert not Shop.objects.filter(shop_no="50000001").exists()


def test_recent_voluntary_exit_is_refused_with_the_reopen_date(reviewer):
    controller = make_controller()
    exited = timezone.make_aware(datetime.datetime(2026, 8, 31, 10, 0))
    make_shop(controller, status="exited", exit_kind="early_termination", ended_at=exited)
    refused_at = timezone.make_aware(datetime.datetime(2027, 2, 27, 10, 0))
    with translation.override("en"), pytest.raises(ReentryRefused) as info:
        check_reentry(controller, now=refused_at)
    # 31 August + 6 months clamps to the last day of February.
    assert "may open a new shop from 2027-02-28" in str(info.value)
    check_reentry(controller, now=timezone.make_aware(datetime.datetime(2027, 2, 28, 10, 0)))


def test_reentry_wait_is_policy_data(reviewer):
    controller = make_controller()
    make_shop(controller, status="exited", ended_at=timezone.now() - datetime.timedelta(days=40))
    with pytest.raises(ReentryRefused):
        shop_create(controller=controller, actor=reviewer, **new_shop_fields())
    PolicySettings.objects.filter(pk=1).update(reentry_wait_months=1)
    assert shop_create(controller=controller, actor=reviewer, **new_shop_fields(2)).pk


def test_exit_long_ago_allows_reopening(reviewer):
    controller = make_controller()
    make_shop(controller, status="exited", ended_at=timezone.now() - datetime.timedelta(days=400))
    assert shop_create(controller=controller, actor=reviewer, **new_shop_fields()).pk


def test_the_latest_exit_counts(reviewer):
    controller = make_controller()
    make_shop(controller, status="exited", ended_at=timezone.now() - datetime.timedelta(days=400))
    make_shop(controller, status="exited", ended_at=timezone.now() - datetime.timedelta(days=10))
    with pytest.raises(ReentryRefused):
        check_reentry(controller)


@pytest.mark.parametrize("status", ["closed", "cleared"])
def test_closed_or_cleared_shops_without_bar_do_not_block(reviewer, status):
    """Only a bar (SPEC §3) or a recent voluntary exit holds a controller back:
    a closed shop, or one cleared without barring its controller (a clearance
    reversed on appeal lifts the bar), does not."""
    controller = make_controller()
    make_shop(controller, status=status, ended_at=timezone.now())
    assert controller.barred_at is None
    check_reentry(controller)
    assert shop_create(controller=controller, actor=reviewer, **new_shop_fields()).pk


def test_invalid_shop_data_writes_nothing(reviewer):
    controller = make_controller()
    fields = {**new_shop_fields(), "uscc": "9144030071526726XH"}
    with pytest.raises(ValidationError) as info:
        shop_create(controller=controller, actor=reviewer, **fields)
    assert "uscc" in info.value.message_dict
    assert not Shop.objects.filter(shop_no=fields["shop_no"]).exists()


def test_settlement_data_must_match_entity_type():
    controller = make_controller(kind="person")
    with pytest.raises(ValidationError) as info:
        make_shop(controller, entity_type="individual", id_card_number="", bank_card_number="")
    assert {"id_card_number", "bank_card_number"} <= set(info.value.message_dict)
    with pytest.raises(ValidationError) as info:
        make_shop(controller, entity_type="enterprise", company_name="", uscc="")
    assert {"company_name", "uscc"} <= set(info.value.message_dict)


def test_database_refuses_a_suspension_without_end():
    shop = make_shop()
    with pytest.raises(IntegrityError):
        Shop.objects.filter(pk=shop.pk).update(status="suspended", suspended_until=None)


def test_add_months_clamps_to_month_end():
    start = datetime.datetime(2026, 8, 31, 12, 0)
    assert add_months(start, 6) == datetime.datetime(2027, 2, 28, 12, 0)
    assert add_months(datetime.datetime(2027, 8, 31), 6) == datetime.datetime(2028, 2, 29)
    assert add_months(datetime.datetime(2026, 1, 15), 12) == datetime.datetime(2027, 1, 15)
