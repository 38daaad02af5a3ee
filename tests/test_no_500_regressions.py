"""Each 500 the input sweep found, as a regression test: a message or a 4xx,
and nothing written."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import Appeal, Rule, Ticket, TicketEvidence
from compliance.services.appeals import appeal_submit
from shops.models import Controller
from tests.factories import fund, issue, make_merchant, make_product, make_shop, tier
from tests.shops.test_uploads import bomb_png

pytestmark = pytest.mark.django_db

BOMB = bomb_png(20000, 20000)


def rule_form(**extra):
    return {"code": "new_rule", "version": "1", "name_zh": "新规则", "name_en": "New rule",
            "appeal_window_days": "7", "appeal_chances": "2", "effective_from": "", "effective_to": "",
            "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0", **extra}


@pytest.mark.parametrize("effective_from", ["", "not-a-date", "2026-02-30"])
def test_rule_without_a_valid_start_date_is_a_form_error(client, compliance_admin, effective_from):
    client.force_login(compliance_admin)
    response = client.post("/admin/compliance/rule/add/", rule_form(effective_from=effective_from))
    assert response.status_code == 200
    assert "effective_from" in response.context["adminform"].form.errors
    assert not Rule.objects.filter(code="new_rule").exists()


@pytest.mark.parametrize("typed", ["110105194912310０21", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢١", "110105194912310²21"])
def test_identifiers_with_non_ascii_digits_never_crash(client, compliance_admin, typed):
    client.force_login(compliance_admin)
    response = client.post("/admin/shops/controller/add/", {"name": "某人", "kind": "person", "id_number": typed})
    assert response.status_code in (200, 302)
    stored = Controller.objects.filter(name="某人").values_list("id_number", flat=True).first()
    assert stored is None or stored.isascii()  # normalised to ASCII or refused with a message


def test_decompression_bomb_in_the_portal_appeal_form(client, reviewer):
    shop = fund(make_shop(), 10000)
    merchant = make_merchant("m-bomb", shop)
    ticket = issue(shop, "logistics_mismatch", "serious", reviewer)
    client.force_login(merchant)
    response = client.post(f"/portal/tickets/{ticket.number}/", {
        "reason": "r", "statement": "s", "evidence": [SimpleUploadedFile("bomb.png", BOMB)]},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "million pixels" in " ".join(response.context["form"].errors["evidence"])
    assert not Appeal.objects.exists()


def test_decompression_bomb_in_the_admin_issue_view(client, reviewer):
    shop = fund(make_shop(), 10000)
    client.force_login(reviewer)
    earlier = timezone.localtime() - datetime.timedelta(hours=2)
    data = {"tier": tier("logistics_mismatch", "serious").pk, "points": "6", "products": "", "order_count": "",
            "occurred_at_0": earlier.strftime("%Y-%m-%d"), "occurred_at_1": earlier.strftime("%H:%M:%S"),
            "description": "物流信息与实际不符", "idempotency_key": "bomb-1", "step": "confirm",
            "evidence": [SimpleUploadedFile("bomb.png", BOMB)]}
    response = client.post(f"/admin/compliance/ticket/issue/?shop={shop.shop_no}", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "million pixels" in response.content.decode()
    assert not Ticket.objects.exists() and not TicketEvidence.objects.exists()


def test_decompression_bomb_straight_to_the_service_writes_nothing(reviewer):
    from django.core.exceptions import ValidationError

    shop = fund(make_shop(), 10000)
    merchant = make_merchant("m-bomb2", shop)
    ticket = issue(shop, "logistics_mismatch", "serious", reviewer)
    with pytest.raises(ValidationError):
        appeal_submit(ticket=ticket, actor=merchant, reason="r", statement="s",
                      files=[SimpleUploadedFile("bomb.png", BOMB)])
    ticket.refresh_from_db()
    assert not Appeal.objects.exists() and ticket.status == Ticket.Status.ISSUED


@pytest.mark.parametrize("selected", ["abc", "99999999999999999999", "1.5"])
def test_changelist_action_with_junk_selection(client, reviewer, selected):
    shop = fund(make_shop(), 10000)
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    client.force_login(reviewer)
    response = client.post("/admin/compliance/ticket/", {"action": "revoke_selected", "_selected_action": selected,
                                                         "index": "0"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED


def test_unevaluable_filter_returns_to_the_whole_list(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/admin/compliance/event/?created_at__year=9999999999")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


# Issue #19 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["renews=²", "type=²", "renews=١", "type=" + "9" * 30, "renews=99999999999999999999"])
def test_certificate_form_parameters_from_outside(client, reviewer, query):
    """str.isdigit() takes "²", int() refuses it: a merchant's link was a 500."""
    shop = fund(make_shop(), 100)
    client.force_login(make_merchant("m-digits", shop))
    response = client.get(f"/portal/shops/{shop.shop_no}/certificates/new/?{query}")
    assert response.status_code == (404 if query.startswith("renews") else 200)


@pytest.mark.parametrize("year", ["²", "202²", "١٩٩٩", "99999999999999999999"])
def test_decision_quality_year_from_outside(client, compliance_admin, year):
    client.force_login(compliance_admin)
    assert client.get(f"/admin/insight/quality/?year={year}").status_code == 200
    assert client.get(f"/admin/insight/quality/?year={year}&format=csv").status_code == 200


@pytest.mark.parametrize("issued_on, expires_on, field", [
    ("9999-12-31", "", "issued_on"), ("1999-12-31", "", "issued_on"), ("2020-01-01", "9999-12-31", "expires_on")])
def test_certificate_dates_are_checked_against_sane_bounds(client, issued_on, expires_on, field):
    from compliance.models import Qualification, QualificationType
    from tests.factories import pdf_upload

    shop = fund(make_shop(), 100)
    client.force_login(make_merchant("m-dates", shop))
    data = {"qualification_type": QualificationType.objects.get(code="business_licence").pk, "number": "91330100X",
            "holder": "某公司", "authority": "市场监督管理局", "issued_on": issued_on, "expires_on": expires_on,
            "permanent": "" if expires_on else "on", "documents": [pdf_upload()]}
    response = client.post(f"/portal/shops/{shop.shop_no}/certificates/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not Qualification.objects.exists()


def test_the_service_refuses_a_certificate_issued_in_the_future(reviewer):
    from compliance.exceptions import DomainError
    from tests.factories import submit_certificate

    shop = fund(make_shop(), 100)
    with pytest.raises(DomainError):
        submit_certificate(shop, "business_licence", make_merchant("m-future", shop),
                           issued_on=timezone.localdate() + datetime.timedelta(days=1))
