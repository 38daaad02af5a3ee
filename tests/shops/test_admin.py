import pytest
from django.utils import timezone

from shops.models import Shop
from tests.factories import make_controller, make_shop, png_upload, uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_shop():
    controller = make_controller(kind="person", name="赵敏")
    return make_shop(controller, entity_type="individual",
                     id_card_front=png_upload(), id_card_back=png_upload())


def test_reviewer_sees_identifiers_masked_everywhere(client, reviewer, person_shop):
    client.force_login(reviewer)
    number, card = person_shop.id_card_number, person_shop.bank_card_number
    for url in (
        f"/admin/shops/shop/{person_shop.pk}/change/",
        "/admin/shops/shop/",
        f"/admin/shops/controller/{person_shop.controller.pk}/change/",
        "/admin/shops/controller/",
    ):
        body = client.get(url).content.decode()
        assert number not in body and card not in body and person_shop.controller.id_number not in body, url
    body = client.get(f"/admin/shops/shop/{person_shop.pk}/change/").content.decode()
    assert number[:4] + "**********" + number[-4:] in body
    assert "/document/id_card_front/" not in body


def test_compliance_admin_sees_identifiers_and_files(client, compliance_admin, person_shop):
    client.force_login(compliance_admin)
    body = client.get(f"/admin/shops/shop/{person_shop.pk}/change/").content.decode()
    assert person_shop.id_card_number in body and person_shop.bank_card_number in body
    assert f"/admin/shops/shop/{person_shop.pk}/document/id_card_front/" in body


def test_private_document_download_is_permission_checked(client, reviewer, compliance_admin, person_shop):
    url = f"/admin/shops/shop/{person_shop.pk}/document/id_card_front/"
    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    client.force_login(compliance_admin)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(f"/admin/shops/shop/{person_shop.pk}/document/controller/").status_code == 404
    assert client.get("/admin/shops/shop/999999/document/id_card_front/").status_code == 404


def test_uploaded_files_are_not_under_a_public_path(person_shop, settings):
    assert str(settings.PRIVATE_MEDIA_ROOT) in person_shop.id_card_front.path
    with pytest.raises(ValueError):
        person_shop.id_card_front.url


def add_form(controller, **extra):
    return {
        "shop_no": "60000001", "name": "新开的店", "controller": controller.pk,
        "entity_type": "enterprise", "shop_type": "specialty", "required_deposit": "20000",
        "experience_score": "", "company_name": "新公司", "uscc": uscc(7001),
        "business_term_start": "2024-01-01", "business_term_end": "", "business_address": "杭州",
        "id_card_number": "", "bank_card_number": "", **extra,
    }


def test_compliance_admin_adds_a_shop_through_the_service(client, compliance_admin):
    client.force_login(compliance_admin)
    controller = make_controller()
    response = client.post("/admin/shops/shop/add/", add_form(controller))
    assert response.status_code == 302, response.context["adminform"].form.errors
    shop = Shop.objects.get(shop_no="60000001")
    assert shop.controller == controller and shop.status == "open"


def test_adding_a_shop_for_a_barred_controller_shows_why(client, compliance_admin):
    client.force_login(compliance_admin)
    controller = make_controller(barred_at=timezone.now(), barred_reason="清退")
    response = client.post("/admin/shops/shop/add/", add_form(controller))
    assert response.status_code == 200
    assert "controller" in response.context["adminform"].form.errors
    assert not Shop.objects.filter(shop_no="60000001").exists()


def test_invalid_identifier_in_the_admin_is_a_form_error(client, compliance_admin):
    client.force_login(compliance_admin)
    response = client.post("/admin/shops/shop/add/", add_form(make_controller(), uscc="9144030071526726XH"))
    assert response.status_code == 200
    assert "uscc" in response.context["adminform"].form.errors
    assert not Shop.objects.exists()


def test_renamed_executable_as_id_card_is_refused(client, compliance_admin, person_shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(compliance_admin)
    url = f"/admin/shops/shop/{person_shop.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if not k.startswith("id_card_f")}
    data.update(controller=person_shop.controller.pk, experience_score="80", required_deposit="0",
                business_term_start="", business_term_end="",
                id_card_front=SimpleUploadedFile("front.png", b"MZ\x90\x00fake-exe", content_type="image/png"))
    data.pop("id_card_back", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "id_card_front" in response.context["adminform"].form.errors
    person_shop.refresh_from_db()
    assert person_shop.id_card_front.read().startswith(b"\x89PNG")


@pytest.mark.parametrize("term", ["7777", "77770001", "9111 0000 ma", "独一无二"])
def test_shop_search_by_prefix_and_name(client, reviewer, term):
    from shops.identifiers import uscc_check_char

    client.force_login(reviewer)
    body = "91110000MA0000001"
    target = make_shop(shop_no="77770001", name="独一无二的店", uscc=body + uscc_check_char(body))
    make_shop(shop_no="88880001", name="别的店")
    response = client.get("/admin/shops/shop/", {"q": term})
    assert [shop.pk for shop in response.context["cl"].result_list] == [target.pk]


def test_resident_id_search_is_exact_only(client, reviewer):
    client.force_login(reviewer)
    controller = make_controller(kind="person")
    found = client.get("/admin/shops/controller/", {"q": controller.id_number}).context["cl"].result_list
    assert list(found) == [controller]
    found = client.get("/admin/shops/controller/", {"q": controller.id_number[:10]}).context["cl"].result_list
    assert list(found) == []


@pytest.mark.parametrize("status", ["open", "suspended", "cleared"])
def test_shop_filters(client, reviewer, status):
    client.force_login(reviewer)
    make_shop(status=status, suspended_until=timezone.now() if status == "suspended" else None)
    make_shop(shop_type="flagship")
    response = client.get("/admin/shops/shop/", {"status__exact": status})
    assert {s.status for s in response.context["cl"].result_list} == {status}


def test_shop_list_filters_for_deposit_short_and_review_flag(client, reviewer):
    from decimal import Decimal

    from tests.factories import fund

    client.force_login(reviewer)
    short = fund(make_shop(required_deposit=Decimal("5000")), 1000)
    full = fund(make_shop(required_deposit=Decimal("5000")), 5000)
    flagged = make_shop(review_flagged_at=timezone.now())
    found = set(client.get("/admin/shops/shop/", {"deposit": "short"}).context["cl"].result_list)
    assert short in found and full not in found
    found = set(client.get("/admin/shops/shop/", {"flagged": "yes"}).context["cl"].result_list)
    assert found == {flagged}


@pytest.mark.parametrize("lang, ind, corp", [("en", "Settlement: individual<", "individual business or enterprise"), ("zh-hans", "结算信息：个人<", "个体工商户或企业")])
def test_shop_page_shows_only_its_own_settlement_section(client, compliance_admin, lang, ind, corp):
    client.force_login(compliance_admin)
    person = make_shop(make_controller(kind="person"), entity_type="individual")
    company = make_shop()
    p = client.get(f"/admin/shops/shop/{person.pk}/change/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    c = client.get(f"/admin/shops/shop/{company.pk}/change/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert ind in p and corp not in p
    assert corp in c and ind not in c
