"""The API as a generated client and an attacker see it (issue #19, SPEC §12
last bullet): size and nesting limits, every path in the JSON shape, Chinese
by default, strict types, and the access matrix of keys and scopes."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from compliance.api import limits
from compliance.models import Scope, ViolationWarning
from compliance.services.integrations import integration_revoke
from shops.importing import DAILY_COUNT_MAX
from tests.factories import fund, issue, make_integration, make_shop, receive_warning, warning_row

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def shop():
    return fund(make_shop(name="接口店"), 20000)


@pytest.fixture
def key():
    return make_integration("检测系统")[1]


def call(key, method, path, body=None, *, raw=None, language=None):
    client = Client(raise_request_exception=False)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    data = raw if raw is not None else (json.dumps(body, default=str) if body is not None else None)
    if data is None or method == "get":
        return getattr(client, method)(path, **headers)
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def error_of(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


# Size: the largest valid batch fits; a larger body is a 413 that says the limit --------------

def largest_row(shop, n: int) -> dict:
    """A warning row at every cap, its text at the widest UTF-8 characters."""
    wide = "𠀀"  # four bytes in UTF-8
    return {
        "report_id": f"{n:04d}" + wide * (limits.REPORT_ID_MAX - 4), "shop": shop.shop_no, "rule": "fake_shipment",
        "tier": "per_order", "summary": wide * limits.SUMMARY_MAX,
        "detected_at": (timezone.now() - timezone.timedelta(hours=1)).isoformat(),
        "order_nos": [f"{n:04d}" + "9" * (limits.ORDER_NO_MAX - 4)] * limits.MAX_ORDERS,
        "product_nos": ["9" * 20] * limits.MAX_PRODUCTS,
        "evidence": {"x": wide * (limits.EVIDENCE_MAX_CHARS - 8)},
    }


def test_the_limit_holds_a_full_batch_of_rows_at_every_cap(shop):
    row = json.dumps(largest_row(shop, 1), ensure_ascii=False, separators=(",", ":")).encode()
    assert len(row) <= limits.warning_row_max_bytes()
    batch = len(b'{"warnings":[]}') + limits.BATCH_LIMIT * (len(row) + 1)
    assert batch <= limits.MAX_BODY_BYTES


def test_a_batch_the_spec_allows_is_accepted(shop, key):
    """1,000 warnings with 3,000 characters of evidence each (3.3 MB) was
    refused by Django's 2.5 MB upload setting."""
    rows = [{**warning_row(shop, f"big-{i}"), "evidence": {"x": "a" * 3000}} for i in range(limits.BATCH_LIMIT)]
    response = call(key, "post", "/api/v1/warnings/", {"warnings": rows})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == limits.BATCH_LIMIT


def test_rows_at_every_cap_are_accepted(shop, key):
    rows = [largest_row(shop, i) for i in range(20)]
    body = json.dumps({"warnings": rows}, ensure_ascii=False, separators=(",", ":")).encode()
    response = call(key, "post", "/api/v1/warnings/", raw=body)
    assert response.status_code == 200
    results = response.json()["results"]
    # Every row passes the shape (the products are not the shop's: refused by the service, with a reason).
    assert all(set(r["errors"]) == {"product_nos"} for r in results), [set(r["errors"]) for r in results]


def test_a_body_over_the_limit_is_413_in_the_api_shape(key):
    error = error_of(call(key, "post", "/api/v1/warnings/", raw=b" " * (limits.MAX_BODY_BYTES + 1)), 413)
    assert error["code"] == "too_large" and str(limits.MAX_BODY_MB) in error["message"]
    assert CJK.search(error["message"])  # Chinese by default


# Nesting: refused before parsing ---------------------------------------------------------------

@pytest.mark.parametrize("path, body", [
    ("/api/v1/warnings/", '{"warnings": ' + "[" * 1000 + "]" * 1000 + "}"),
    ("/api/v1/warnings/", '{"warnings": [{"evidence": ' + '{"a":' * 500 + "1" + "}" * 500 + "}]}"),
    ("/api/v1/imports/daily-orders/", '{"rows": [' + "[" * 5000 + "]" * 5000 + "]}"),
    ("/api/v1/imports/experience-scores/", '{"rows": [' + "[" * 9 + "]" * 9 + "]}"),
])
def test_deep_nesting_is_a_400_not_a_recursion_error(key, path, body):
    error = error_of(call(key, "post", path, raw=body.encode()), 400)
    assert error["code"] == "parse_error" and str(limits.MAX_JSON_DEPTH) in error["message"]


def test_nesting_within_the_limit_is_parsed(shop, key):
    row = {**warning_row(shop, "nested"), "evidence": {"轨迹": [{"节点": ["揽收", "派送"]}]}}  # six levels
    assert call(key, "post", "/api/v1/warnings/", {"warnings": [row]}).json()["created"] == 1


# Numbers from outside ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", [99999999999999999999999, DAILY_COUNT_MAX + 1, -1, "12", "١٢", 1.5, True])
def test_counts_out_of_bounds_or_of_the_wrong_type_are_refused(shop, key, value):
    day = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    body = {"rows": [{"shop": shop.shop_no, "day": day, "paid_orders": value, "gift_orders": 0}]}
    error = error_of(call(key, "post", "/api/v1/imports/daily-orders/", body), 400)
    assert error["code"] == "rows_invalid" and error["rows"][0]["index"] == 0


def test_the_largest_count_is_accepted(shop, key):
    day = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    body = {"rows": [{"shop": shop.shop_no, "day": day, "paid_orders": DAILY_COUNT_MAX, "gift_orders": 0}]}
    assert call(key, "post", "/api/v1/imports/daily-orders/", body).json()["written"] == 1


@pytest.mark.parametrize("year", ["²", "١٩٩٩", "abc", "99999999999999999999", "1999", "", "2101", "2026.0"])
def test_a_bad_year_is_a_400(key, year):
    error = error_of(call(key, "get", f"/api/v1/insight/decision-quality/?year={year}"), 400)
    assert "year" in error["fields"]


@pytest.mark.parametrize("order_no", ["-1", "1", "6900000000000000001\x00", "订单1234567", "a" * 41, ""])
def test_order_numbers_have_a_format(shop, key, order_no):
    row = {**warning_row(shop, "orders"), "order_nos": [order_no]}
    result = call(key, "post", "/api/v1/warnings/", {"warnings": [row]}).json()["results"][0]
    assert result["outcome"] == "rejected" and set(result["errors"]) == {"order_nos.0"}
    assert not ViolationWarning.objects.exists()


# Every path under /api/ answers in JSON ----------------------------------------------------------

def test_a_missing_trailing_slash_says_so_in_json(key):
    error = error_of(call(key, "post", "/api/v1/warnings", {"warnings": []}), 404)
    assert "/api/v1/warnings/" in error["message"]
    assert error_of(call(key, "get", "/api/v1/tickets/WG1"), 404)["code"] == "not_found"


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/nothing/", "/api/", "/api/v2/warnings/", "/api/x"])
def test_unknown_paths_answer_in_json_whatever_the_method(key, method, path):
    error = error_of(call(key, method, path, {"a": 1}), 404)
    assert error["code"] == "not_found" and CJK.search(error["message"])


# Chinese by default, English on request ----------------------------------------------------------

@pytest.mark.parametrize("method, path, raw, status", [
    ("post", "/api/v1/warnings/", b"{not json", 400),
    ("post", "/api/v1/warnings/", b'{"warnings": []}', 400),
    ("post", "/api/v1/imports/daily-orders/", b'{"rows": [{"shop": "99999999", "day": "2026-01-01", '
                                              b'"paid_orders": 1, "gift_orders": 0}]}', 400),
    ("get", "/api/v1/nothing/", None, 404),
    ("delete", "/api/v1/warnings/", None, 405),
])
def test_messages_are_chinese_by_default_and_english_on_request(key, method, path, raw, status):
    chinese = error_of(call(key, method, path, raw=raw), status)
    english = error_of(call(key, method, path, raw=raw, language="en"), status)
    texts = [chinese["message"], *[m for ms in chinese.get("fields", {}).values() for m in ms],
             *[r["message"] for r in chinese.get("rows", [])]]
    assert all(CJK.search(text) for text in texts), texts
    assert not CJK.search(english["message"])


# A resubmission gives each row the outcome it had ------------------------------------------------

def test_in_batch_duplicates_keep_their_outcome_when_the_batch_is_sent_again(key):
    a, b = fund(make_shop(), 100), fund(make_shop(), 100)
    batch = {"warnings": [warning_row(a, "dup"), warning_row(b, "dup"), warning_row(b, "solo")]}
    first = [r["outcome"] for r in call(key, "post", "/api/v1/warnings/", batch).json()["results"]]
    again = call(key, "post", "/api/v1/warnings/", batch).json()["results"]
    assert first == ["created", "rejected", "created"]
    assert [r["outcome"] for r in again] == ["duplicate", "rejected", "duplicate"]
    assert again[1]["warning"] is None and "0" in again[1]["errors"]["report_id"][0]


# The access matrix: a key reaches what its scopes allow, and only its own reports ---------------

ENDPOINTS = {
    Scope.WARNINGS: [("post", "/api/v1/warnings/"), ("get", "/api/v1/warnings/{report}/")],
    Scope.TICKETS: [("get", "/api/v1/tickets/{ticket}/")],
    Scope.STANDING: [("get", "/api/v1/shops/{shop}/standing/")],
    Scope.IMPORTS: [("post", "/api/v1/imports/daily-orders/"), ("post", "/api/v1/imports/experience-scores/")],
    Scope.INSIGHT: [("get", "/api/v1/insight/decision-quality/")],
}


def test_access_matrix(shop, reviewer):
    owner, _owner_key = make_integration("甲", scopes=list(Scope.values))
    warning = receive_warning(owner, shop, "mine")
    ticket = issue(shop, "false_advertising", "serious", reviewer)
    values = {"report": warning.report_id, "ticket": ticket.number, "shop": shop.shop_no}
    bodies = {"/api/v1/warnings/": {"warnings": [warning_row(shop, "x")]},
              "/api/v1/imports/daily-orders/": {"rows": []}, "/api/v1/imports/experience-scores/": {"rows": []}}
    for scope in Scope.values:
        _integration, key = make_integration(f"only-{scope}", scopes=[scope])
        for endpoint_scope, endpoints in ENDPOINTS.items():
            for method, template in endpoints:
                path = template.format(**values)
                response = call(key, method, path, bodies.get(path))
                if endpoint_scope != scope:
                    assert error_of(response, 403)["code"] == "permission_denied", (scope, path)
                elif "{report}" in template:
                    # Another integration's report ID is not found, even with the scope.
                    assert error_of(response, 404)["code"] == "not_found"
                else:
                    assert response.status_code in (200, 400), (scope, path, response.content[:200])
    for method, template in [e for endpoints in ENDPOINTS.values() for e in endpoints]:
        path = template.format(**values)
        assert error_of(call(None, method, path, bodies.get(path)), 401)["code"] == "not_authenticated"
        assert error_of(call("ck_not_a_key", method, path, bodies.get(path)), 401)["code"] == \
            "authentication_failed"
    owner_key = make_integration("乙", scopes=list(Scope.values))
    integration_revoke(integration=owner_key[0], actor=reviewer)
    assert error_of(call(owner_key[1], "get", f"/api/v1/shops/{shop.shop_no}/standing/"), 401)["code"] == \
        "authentication_failed"
