import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_home_page_says_where_to_log_in(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/admin/"' in body and 'href="/portal/login/"' in body and "Merchants" in body


def test_chinese_is_the_default_language(client):
    body = client.get("/").content.decode()
    assert 'lang="zh-hans"' in body and "商家" in body


def test_language_switch_changes_the_admin_language(client, reviewer):
    client.force_login(reviewer)
    assert "店铺" in client.get("/admin/shops/shop/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/shops/shop/"})
    assert response.status_code == 302 and response["Location"] == "/admin/shops/shop/"
    body = client.get("/admin/shops/shop/").content.decode()
    assert "Select shop to view" in body and 'id="language-switch-select"' in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "店铺" in client.get("/admin/shops/shop/").content.decode()


def test_five_failed_logins_lock_the_account_out(client, reviewer):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": reviewer.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": reviewer.username, "password": "pw"})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode() or "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not(client, reviewer):
    for _ in range(4):
        client.post("/admin/login/", {"username": reviewer.username, "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": reviewer.username, "password": "pw"})
    assert response.status_code == 302


def test_check_deploy_is_clean_under_production_settings():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
        "DJANGO_ALLOWED_HOSTS": "compliance.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_without_a_secret_key_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="compliance.example.com")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_oversized_request_bodies_are_refused_before_reading(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post("/portal/login/", {"username": "x" * 2000, "password": "y"})
    assert response.status_code == 413


# Headers ----------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def pages(client, reviewer, merchant_world):
    shop, ticket, merchant = merchant_world
    yield "/", None
    yield "/portal/login/", None
    yield "/admin/login/", None
    yield "/portal/", merchant
    yield f"/portal/shops/{shop.shop_no}/", merchant
    yield f"/portal/shops/{shop.shop_no}/tickets/", merchant
    yield f"/portal/tickets/{ticket.number}/", merchant
    yield "/portal/password/", merchant
    yield "/admin/", reviewer
    yield "/admin/compliance/ticket/", reviewer
    yield f"/admin/compliance/ticket/{ticket.pk}/change/", reviewer
    yield f"/admin/compliance/ticket/issue/?shop={shop.shop_no}", reviewer
    yield f"/admin/shops/shop/{shop.pk}/change/", reviewer


@pytest.fixture
def merchant_world(reviewer):
    from tests.factories import fund, issue, make_merchant, make_product, make_shop

    shop = fund(make_shop(), 10000)
    second = make_shop()
    merchant = make_merchant("m-headers", shop, second)
    ticket = issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    return shop, ticket, merchant


def test_every_page_has_a_csp_and_no_inline_script(client, reviewer, merchant_world):
    for url, user in pages(client, reviewer, merchant_world):
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy, url
        inline = INLINE_SCRIPT.findall(response.content.decode())
        assert not inline, (url, inline)


def test_portal_pages_are_never_cached(client, reviewer, merchant_world):
    for url, user in pages(client, reviewer, merchant_world):
        if not url.startswith("/portal/"):
            continue
        client.logout()
        if user:
            client.force_login(user)
        cache_control = {part.strip() for part in client.get(url)["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, url


def test_shop_switch_works_without_script(client, reviewer, merchant_world):
    from shops.models import ShopMember

    shop, _ticket, merchant = merchant_world
    other = ShopMember.objects.filter(user=merchant).exclude(shop=shop).get().shop
    first = min(shop.shop_no, other.shop_no)
    client.force_login(merchant)
    response = client.get("/portal/", {"shop": other.shop_no})
    assert response["Location"] == f"/portal/shops/{other.shop_no}/"
    stranger = make_stranger_shop()
    response = client.get("/portal/", {"shop": stranger.shop_no})  # not theirs: their first shop
    assert response["Location"] == f"/portal/shops/{first}/"


def make_stranger_shop():
    from tests.factories import make_shop

    return make_shop()


def test_login_redirect_url_goes_somewhere_real(client):
    from django.shortcuts import resolve_url

    assert resolve_url(settings.LOGIN_REDIRECT_URL) == "/portal/"
    assert client.get(resolve_url(settings.LOGIN_REDIRECT_URL)).status_code == 302  # to the portal log-in


# Error pages ----------------------------------------------------------------------

@pytest.mark.parametrize("path, back", [("/portal/tickets/WG404/", "/portal/"), ("/admin/compliance/nothing/", "/admin/"),
                                        ("/nowhere/", "/")])
def test_404_is_branded_in_the_users_language_with_a_way_back(client, path, back, reviewer):
    from tests.factories import make_merchant, make_shop

    client.force_login(reviewer if path.startswith("/admin/") else make_merchant("m-404", make_shop()))
    for language, words in (("zh-hans", "页面不存在"), ("en", "Page not found")):
        client.cookies["django_language"] = language
        response = client.get(path)
        body = response.content.decode()
        assert response.status_code == 404 and words in body and 'id="error-back"' in body
        assert f'href="{back}"' in body


def test_403_and_500_pages(rf, settings):
    from django.core.exceptions import PermissionDenied
    from django.utils import translation

    from config import views

    with translation.override("zh-hans"):
        request = rf.get("/admin/auth/group/")
        response = views.permission_denied(request, PermissionDenied())
        assert response.status_code == 403 and "无权" in response.content.decode()
        response = views.server_error(rf.get("/portal/shops/1/"))
        body = response.content.decode()
        assert response.status_code == 500 and "商家中心" in body


def test_lockout_page_links_back_to_log_in(client, reviewer):
    for _ in range(5):
        client.post("/portal/login/", {"username": reviewer.username, "password": "wrong"})
    response = client.post("/portal/login/", {"username": reviewer.username, "password": "wrong"})
    assert response.status_code == 429 and 'id="lockout-login"' in response.content.decode()
    assert 'href="/portal/login/"' in response.content.decode()
