"""The integration API through real HTTP (SPEC §12): keys, scopes, the rate
limit, batches, idempotency, every read, the importers, one error shape,
and the published schema."""

import datetime
import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import Client
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from compliance.models import Event, IntegrationCall, Message, Scope, ViolationWarning
from compliance.services.warnings import warning_decide
from shops.models import ShopDailyOrders, ShopScore
from tests.factories import (
    approved_certificate, fund, issue, make_integration, make_merchant, make_shop, receive_warning, warning_row,
)

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "openapi" / "v1.yaml"


@pytest.fixture
def shop():
    return fund(make_shop(name="接口店"), 20000)


@pytest.fixture
def detector():
    return make_integration("检测系统")


def api(key, method, path, body=None, **extra):
    """A call as a detector makes it; messages in English unless told otherwise
    (the API answers in the request's Accept-Language, Chinese by default)."""
    extra.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    client = Client(raise_request_exception=False)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    call = getattr(client, method)
    if body is not None:
        return call(path, data=json.dumps(body, default=str), content_type="application/json", **headers, **extra)
    return call(path, **headers, **extra)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    if code:
        assert error["code"] == code
    return error


def rows(shop, *ids):
    return [{k: v for k, v in warning_row(shop, report_id).items()} for report_id in ids]


def test_a_batch_with_valid_and_invalid_rows(shop, detector):
    integration, key = detector
    make_merchant("api-merchant", shop)
    batch = rows(shop, "a-1", "a-2") + [
        {**warning_row(shop, "a-3"), "shop": "99999999"},
        {"report_id": "a-4"},  # the shape is wrong
        "not an object",
        {**warning_row(shop, "a-6"), "order_nos": "6900000000000000001"},  # a string, not a list
    ]
    response = api(key, "post", "/api/v1/warnings/", {"warnings": batch})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert results[0]["outcome"] == "created" and results[0]["warning"]["number"].startswith("YJ")
    assert results[0]["warning"]["status"] == "open" and results[0]["warning"]["shop"] == shop.shop_no
    assert "99999999" in results[2]["errors"]["shop"][0]
    assert set(results[3]["errors"]) >= {"shop", "rule", "summary", "detected_at"}
    assert results[4]["outcome"] == "rejected" and results[5]["outcome"] == "rejected"
    assert ViolationWarning.objects.count() == 2
    # Every write names the integration; the call is logged with its rows.
    assert set(Event.objects.filter(action="warning_received").values_list("integration", flat=True)) == {
        integration.pk}
    call = IntegrationCall.objects.get()
    assert (call.integration, call.status, call.rows, call.rows_rejected) == (integration, 200, 6, 4)
    assert Message.objects.filter(kind="warnings_opened").count() == 1  # one message for the shop's two


def test_resubmission_is_idempotent(shop, detector):
    _integration, key = detector
    first = api(key, "post", "/api/v1/warnings/", {"warnings": rows(shop, "same")}).json()
    again = api(key, "post", "/api/v1/warnings/", {"warnings": rows(shop, "same")}).json()
    assert again["duplicates"] == 1 and again["created"] == 0
    assert again["results"][0]["warning"]["number"] == first["results"][0]["warning"]["number"]
    assert ViolationWarning.objects.count() == 1


def test_batch_limits(shop, detector):
    _integration, key = detector
    assert_error(api(key, "post", "/api/v1/warnings/", {"warnings": []}), 400, "invalid")
    assert_error(api(key, "post", "/api/v1/warnings/", {"warnings": [{}] * 1001}), 400, "invalid")
    assert_error(api(key, "post", "/api/v1/warnings/", [1, 2]), 400, "invalid")
    response = Client().post("/api/v1/warnings/", data="{not json", content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key}")
    assert_error(response, 400, "parse_error")


def test_keys_scopes_and_revocation(shop):
    _i, key = make_integration("只读", scopes=[Scope.STANDING])
    assert_error(api(None, "get", f"/api/v1/shops/{shop.shop_no}/standing/"), 401, "not_authenticated")
    response = api("ck_wrong", "get", f"/api/v1/shops/{shop.shop_no}/standing/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Bearer"
    assert api(key, "get", f"/api/v1/shops/{shop.shop_no}/standing/").status_code == 200
    error = assert_error(api(key, "post", "/api/v1/warnings/", {"warnings": rows(shop, "x")}), 403,
                         "permission_denied")
    assert "warnings" in error["message"]
    assert not ViolationWarning.objects.exists()
    revoked, revoked_key = make_integration("已撤销")
    revoked.is_active = False
    revoked.save(update_fields=["is_active"])
    assert "revoked" in assert_error(api(revoked_key, "get", f"/api/v1/shops/{shop.shop_no}/standing/"), 401)[
        "message"]
    chinese = api(revoked_key, "get", f"/api/v1/shops/{shop.shop_no}/standing/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert assert_error(chinese, 401)["message"] == "该 API 密钥已被吊销。"


def test_the_rate_limit_answers_429_with_retry_after(shop, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    _i, key = make_integration("限流")
    url = f"/api/v1/shops/{shop.shop_no}/standing/"
    assert [api(key, "get", url).status_code for _ in range(3)] == [200, 200, 200]
    response = api(key, "get", url)
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61
    # Another key has its own budget; an integration may be given its own limit.
    _other, other_key = make_integration("另一个", requests_per_minute=5)
    assert api(other_key, "get", url).status_code == 200
    # Calls older than a minute no longer count.
    fresh, fresh_key = make_integration("昨天很忙")
    old = timezone.now() - datetime.timedelta(minutes=1, seconds=5)
    IntegrationCall.objects.bulk_create([IntegrationCall(integration=fresh, method="GET", path=url, status=200,
                                                         created_at=old) for _ in range(10)])
    assert api(fresh_key, "get", url).status_code == 200


def test_reading_a_warning_by_report_id(shop, detector, reviewer):
    integration, key = detector
    warning = receive_warning(integration, shop, "read-me", now=timezone.now() - datetime.timedelta(days=3))
    warning_decide(warning=warning, actor=reviewer, confirm=True)
    body = api(key, "get", "/api/v1/warnings/read-me/").json()
    assert body["status"] == "confirmed" and body["ticket"] == ViolationWarning.objects.get().ticket.number
    assert_error(api(key, "get", "/api/v1/warnings/no-such-report/"), 404, "not_found")
    # Another detector does not see this one's warnings.
    _other, other_key = make_integration("别的检测")
    assert_error(api(other_key, "get", "/api/v1/warnings/read-me/"), 404)


def test_reading_a_ticket_and_a_shops_standing(shop, detector, reviewer):
    _integration, key = detector
    ticket = issue(shop, "logistics_mismatch", "serious", reviewer)
    approved_certificate(shop, "business_licence", reviewer, expires_on=timezone.localdate() + datetime.timedelta(10))
    body = api(key, "get", f"/api/v1/tickets/{ticket.number}/").json()
    assert body["status"] == "issued" and body["points"] == 6 and body["rule"] == "logistics_mismatch"
    assert {m["kind"] for m in body["measures"]} >= {"deposit", "suspend"} and body["warning"] is None
    assert_error(api(key, "get", "/api/v1/tickets/WG000/"), 404, "not_found")
    standing = api(key, "get", f"/api/v1/shops/{shop.shop_no}/standing/").json()
    assert standing["status"] == "suspended" and standing["alliance"] == "not_applied"
    assert {p["violation_class"]: p["points"] for p in standing["points"]} == {"A": 6, "B": 0}
    assert standing["deposit_balance"] == "15000.00"
    assert [m["kind"] for m in standing["measures"]] == ["suspend"]
    assert len(standing["certificates_expiring"]) == 1 and standing["open_warnings"] == 0
    assert_error(api(key, "get", "/api/v1/shops/99999999/standing/"), 404, "not_found")


def test_importing_orders_and_scores_with_the_csv_checks(shop, detector):
    _integration, key = detector
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    good = {"rows": [{"shop": shop.shop_no, "day": day, "paid_orders": 120, "gift_orders": 3}]}
    body = api(key, "post", "/api/v1/imports/daily-orders/", good).json()
    assert (body["written"], body["shops"], body["error_count"]) == (1, 1, 0)
    assert api(key, "post", "/api/v1/imports/daily-orders/", good).json()["written"] == 0  # again: nothing changes
    bad = {"rows": [good["rows"][0], {"shop": "99999999", "day": day, "paid_orders": 1, "gift_orders": 0},
                    {"shop": shop.shop_no, "day": day, "paid_orders": 1, "gift_orders": 5}]}
    error = assert_error(api(key, "post", "/api/v1/imports/daily-orders/", bad), 400, "rows_invalid")
    assert [r["index"] for r in error["rows"]] == [1, 2]
    assert "no shop with ID 99999999" in error["rows"][0]["message"]
    assert ShopDailyOrders.objects.get().paid_orders == 120
    partial = api(key, "post", "/api/v1/imports/daily-orders/", {**bad, "skip_invalid": True}).json()
    assert partial["error_count"] == 2 and partial["valid"] == 1
    scores = {"rows": [{"shop": shop.shop_no, "day": day, "score": 91.5}]}
    assert api(key, "post", "/api/v1/imports/experience-scores/", scores).json()["written"] == 1
    shop.refresh_from_db()
    assert ShopScore.objects.get().score == shop.experience_score == 91.5
    assert_error(api(key, "post", "/api/v1/imports/experience-scores/", {"rows": []}), 400, "invalid")
    assert_error(api(key, "post", "/api/v1/imports/experience-scores/",
                     {"rows": [{"shop": shop.shop_no, "day": "2026-99-99", "score": "abc"}]}), 400, "rows_invalid")


def test_unknown_endpoints_and_methods_answer_in_the_same_shape(detector):
    _integration, key = detector
    assert_error(api(key, "get", "/api/v1/nothing-here/"), 404, "not_found")
    assert_error(api(key, "get", "/api/v2/warnings/"), 404)
    assert_error(api(key, "delete", "/api/v1/warnings/"), 405, "method_not_allowed")
    assert_error(api(key, "get", "/api/v1/warnings/"), 405)


def test_hostile_input_never_reaches_a_500(shop, detector):
    _integration, key = detector
    junk_rows = [None, 1, "x", [], {"shop": None}, {"shop": {"$gt": ""}}, {"detected_at": "tomorrow"},
                 {**warning_row(shop, "x" * 500)}, {**warning_row(shop, "e"), "evidence": "text"},
                 {**warning_row(shop, "p"), "product_nos": ["abc"]}, {**warning_row(shop, "n"), "order_nos": [None]},
                 {**warning_row(shop, "big"), "order_nos": ["1"] * 600}, {**warning_row(shop, "\x00")},
                 {**warning_row(shop, "nul-evidence"), "evidence": {"a\x00": "b\x00"}},
                 {**warning_row(shop, "huge-evidence"), "evidence": {"x": "y" * 30_000}}]
    bodies = [{"warnings": junk_rows}, {"warnings": "x"}, {"warnings": None}, {"rows": junk_rows}, {"rows": "x"},
              None, "text", {"rows": [{"shop": "1" * 50, "day": "0000-00-00", "paid_orders": -1, "gift_orders": 1e99}]},
              {"rows": [{"shop": shop.shop_no, "day": "2026-01-01", "paid_orders": True, "gift_orders": "1"}]}]
    paths = ["/api/v1/warnings/", "/api/v1/warnings/%00/", "/api/v1/warnings/?q=%00", "/api/v1/tickets/%00/", "/api/v1/shops/%00/standing/",
             "/api/v1/imports/daily-orders/", "/api/v1/imports/experience-scores/", "/api/v1/warnings/" + "x" * 300 + "/"]
    bad = []
    for path in paths:
        for body in bodies:
            for method in ("get", "post"):
                response = api(key, method, path, body if method == "post" else None)
                if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                    bad.append(f"{method} {path} {bodies.index(body)} → {response.status_code}")
    assert bad == [], "\n".join(bad)


def test_the_schema_documents_every_endpoint_and_is_checked_in(client):
    """The schema generates without warnings (``--fail-on-warn``), equals the
    checked-in copy (regenerate it with ``make api-schema`` when the API
    changes on purpose), and names every route under /api/v1/."""
    from django.core.management import call_command

    out = SCHEMA_FILE.parent / "generated.yaml"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--lang", "en", "--file", str(out))
        generated = out.read_text()
    finally:
        out.unlink(missing_ok=True)
    assert generated == SCHEMA_FILE.read_text(), "the API changed: run `make api-schema` and review the diff"
    documented = set(yaml.safe_load(generated)["paths"])
    api_urls = next(e for e in get_resolver().url_patterns if str(e.pattern) == "api/v1/")
    # <str:number> is {number}; <int:pk> is {id} (drf-spectacular names a primary key by its field).
    routes = {"/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m[1] == "pk" else m[1]),
                                  str(p.pattern))
              for p in api_urls.url_patterns
              if isinstance(p, URLPattern) and p.name not in ("schema", "docs") and "(?P" not in str(p.pattern)}
    assert routes and routes == documented
    served = client.get("/api/v1/schema/")
    assert served.status_code == 200 and b"/api/v1/warnings/" in served.content


def test_the_docs_are_served_from_our_own_static_files(client):
    body = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn" not in body.lower() and "<script>" not in body  # no inline script: the CSP allows none
