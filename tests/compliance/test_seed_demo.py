import os
import subprocess
import sys
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.forms.models import model_to_dict

from shops.models import Controller, Shop, ShopMember

pytestmark = pytest.mark.django_db

APPS = ("shops", "compliance", "auth")


def snapshot():
    rows = {}
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            rows[model._meta.label] = sorted(
                (str(sorted(model_to_dict(obj).items(), key=lambda kv: kv[0])) for obj in model.objects.all())
            )
    return rows


def test_seed_demo_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == first
    assert "merchant1" in out.getvalue() and "complianceadmin" in out.getvalue()


def test_demo_world_covers_every_type_and_status_and_is_valid():
    call_command("seed_demo", stdout=StringIO())
    assert set(Shop.objects.values_list("status", flat=True)) == set(Shop.Status.values)
    assert set(Shop.objects.values_list("shop_type", flat=True)) == set(Shop.ShopType.values)
    assert set(Shop.objects.values_list("entity_type", flat=True)) == set(Shop.EntityType.values)
    for obj in [*Shop.objects.all(), *Controller.objects.all()]:
        obj.full_clean()  # every identifier passes its checksum
    assert Controller.objects.filter(barred_at__isnull=False).exists()
    m1 = set(ShopMember.objects.filter(user__username="merchant1").values_list("shop_id", flat=True))
    m2 = set(ShopMember.objects.filter(user__username="merchant2").values_list("shop_id", flat=True))
    assert len(m1) == 3 and m2 and not m1 & m2


def test_demo_history_has_tickets_and_appeals_in_every_state():
    from django.utils import timezone

    from compliance.models import Appeal, Ticket

    call_command("seed_demo", stdout=StringIO())
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert set(Ticket.objects.values_list("violation_class", flat=True)) == {"A", "B"}
    assert set(Appeal.objects.values_list("status", flat=True)) == set(Appeal.Status.values)
    assert Appeal.objects.filter(status="pending", due_at__lt=timezone.now()).exists()  # overdue
    assert Shop.objects.filter(status="suspended").exists() and Shop.objects.filter(status="cleared").count() >= 2


def test_demo_accounts_can_log_in_with_the_printed_password(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    from compliance.management.commands.seed_demo import DEMO_PASSWORD

    assert DEMO_PASSWORD in out.getvalue()
    response = client.post("/admin/login/?next=/admin/", {"username": "reviewer", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_seed_demo_refuses_in_production_mode():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 60 + "production-test-key",
        "DJANGO_ALLOWED_HOSTS": "compliance.example.com",
        "DATABASE_URL": "sqlite:////nonexistent/never-touched.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "refuses to run in production mode" in result.stderr


def test_demo_certificates_cover_every_kind_and_status():
    import datetime

    from django.utils import timezone

    from compliance.models import Qualification, QualificationKind, RectificationNotice
    from compliance.selectors import missing_qualifications

    call_command("seed_demo", stdout=StringIO())
    assert set(Qualification.objects.values_list("status", flat=True)) == set(Qualification.Status.values)
    assert set(Qualification.objects.values_list("kind", flat=True)) == set(QualificationKind.values)
    soon = timezone.localdate() + datetime.timedelta(days=30)
    assert Qualification.objects.filter(status="approved", expires_on__lte=soon).exists()
    assert RectificationNotice.objects.filter(status="open").exists()
    assert RectificationNotice.objects.filter(outcome="ticketed").exists()
    assert missing_qualifications(timezone.localdate()).exists()
    from compliance.models import QualificationGap
    assert QualificationGap.objects.open().exists()  # the daily job at the end checked the queue
    assert not Qualification.objects.filter(submitted_by__is_staff=True).exists()  # merchants submit


def test_demo_alliance_has_every_status_and_the_promised_merchants():
    from compliance.models import AllianceMembership
    from compliance.services.alliance import alliance_eligibility

    call_command("seed_demo", stdout=StringIO())
    assert set(AllianceMembership.objects.values_list("status", flat=True)) == set(AllianceMembership.Status.values)
    merchant1 = Shop.objects.filter(members__user__username="merchant1")
    assert any(alliance_eligibility(shop).eligible for shop in merchant1)
    merchant2 = Shop.objects.get(members__user__username="merchant2")
    assert not alliance_eligibility(merchant2).eligible
    from shops.models import ShopScore
    assert ShopScore.objects.filter(shop=merchant2).count() == 30


def test_demo_providers_with_a_revoked_one_and_its_public_notice(client):
    from compliance.models import RenewalResult
    from shops.models import ServiceProvider, ShopDailyOrders

    call_command("seed_demo", stdout=StringIO())
    assert ServiceProvider.objects.filter(status="revoked").count() == 1
    assert ShopDailyOrders.objects.count() > 300
    assert RenewalResult.objects.filter(published_at__isnull=False).count() == 1
    assert "义乌小商品产业带服务商" in client.get("/notices/").content.decode()


def test_demo_merchants_have_read_and_unread_messages():
    from compliance.models import Message

    call_command("seed_demo", stdout=StringIO())
    for username in ("merchant1", "merchant2"):
        mine = Message.objects.filter(user__username=username)
        assert mine.filter(read_at=None).exists() and mine.exclude(read_at=None).exists(), username


def test_demo_detector_key_works_and_its_warnings_are_in_every_status(client):
    from compliance.models import ViolationWarning
    from compliance.management.commands.seed_demo import DEMO_API_KEY

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert DEMO_API_KEY in out.getvalue() and "/api/v1/docs/" in out.getvalue()
    statuses = set(ViolationWarning.objects.values_list("status", flat=True))
    assert statuses == set(ViolationWarning.Status.values)
    assert ViolationWarning.objects.get(status="confirmed").ticket is not None
    response = client.get("/api/v1/shops/10000001/standing/", HTTP_AUTHORIZATION=f"Bearer {DEMO_API_KEY}")
    assert response.status_code == 200 and response.json()["open_warnings"] >= 2
