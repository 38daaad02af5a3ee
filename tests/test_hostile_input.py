"""No input reaches a 500. For each staff role: every registered changelist
with hostile query strings, every add/change/delete/history URL with junk ids,
every custom admin view with empty and junk POSTs; for a merchant: every
portal URL with junk. Any 5xx fails, with the list of offending requests.

New admin or portal views join automatically: the admin side is enumerated
from the registry and each admin's URL patterns, the portal from its URLconf."""

import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from compliance.models import Appeal, Ticket, ViolationWarning
from shops.models import ShopMember

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["reviewer", "appeal_reviewer", "compliance_admin"]

HOSTILE_QUERIES = [
    "o=999", "o=abc", "o=-.-", "p=-1", "p=abc", "p=99999999999", "q=%00", "q=" + "%E6%B5%8B" * 400,
    "q=%27%22%3B--", "q=WG2026", "q=%EF%BC%90%EF%BC%91", "nonexistent_filter=1", "status__exact=%3Cscript%3E",
    "status__exact=%00", "issued_at__year=abc", "issued_at__year=2026&issued_at__month=13",
    "created_at__year=9999999999", "created_at__year=2026&created_at__month=2&created_at__day=31", "e=1",
    "_to_field=password", "_popup=1&_to_field=id", "shop__id__exact=abc", "shop__id__exact=99999999999999999999",
    "rule__id__exact=abc", "all=", "deposit=junk", "flagged=junk", "due=junk", "kind__exact=%FF",
    "violation_class__exact=Z", "year=abc", "id__in=1,abc",
    # Unicode digits and numbers no column holds (issue #19): "²" passes str.isdigit() and fails int().
    "o=²", "o=١", "p=²", "year=²", "year=202²", "year=١٩٩٩", "q=١٢٣", "q=²", "expiring=²",
    "shop__id__exact=١", "shop__id__exact=²", "id__in=99999999999999999999999", "p=" + "9" * 5000,
    # The queues' claim views (issue #23).
    "claim=%00", "claim=mine&claim=others", "claim=overdue&o=99",
]
JUNK_IDS = ["abc", "99999999999999999999", "1%20OR%201=1"]
JUNK_POST = {
    "step": "confirm", "shop": "abc", "rule": "abc", "tier": "999999999999999999999", "points": "-5",
    "products": "abc,,%", "order_count": "1e9", "occurred_at_0": "2026-13-45", "occurred_at_1": "25:99",
    "description": "x" * 20000, "reason": "", "approve": "maybe", "decision": "junk", "evidence": "notafile",
    "idempotency_key": "x" * 500, "effective_from": "not-a-date", "threshold": "-1", "csrfmiddlewaretoken": "x",
    "ids": "²,١,99999999999999999999999", "issued_on": "9999-12-31", "expires_on": "9999-12-31",
    "year": "202²", "count": "9" * 5000,
    # Claims (issue #23): an operation nobody offers, a hand-over to nobody, a way back off the site.
    "op": "junk", "to": "abc", "hand_over": "1", "next": "javascript:alert(1)",
}


def fill(route: str, ids: list[str]) -> list[str]:
    """Concrete paths for a route, one per id (``<int:...>``/``<str:...>``/``<path:...>``)."""
    if "<" not in route:
        return [route]
    return [re.sub(r"<(?:(\w+):)?\w+>", value, route) for value in ids]


def custom_admin_urls(model_admin, first_pk) -> list[str]:
    """The model admin's own views beyond the standard ones."""
    standard = {"", "add/", "<path:object_id>/history/", "<path:object_id>/delete/", "<path:object_id>/change/",
                "<path:object_id>/"}
    base = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
    ids = [str(first_pk or 1), "999999999", "junk"]
    urls = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        if route not in standard:
            urls += [base + path for path in fill(route, ids)]
    return urls


def server_errors(client: Client, requests) -> str:
    bad = []
    for method, url, data in requests:
        response = client.post(url, data) if method == "POST" else client.get(url)
        if response.status_code >= 500:
            bad.append(f"{method} {url} {str(data)[:80] if data else ''} → {response.status_code}")
    return "\n".join(bad)


@pytest.fixture
def world(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def admin_requests(user) -> list[tuple]:
    requests = [("GET", "/admin/", None), ("GET", "/admin/?q=%00", None), ("POST", "/admin/", JUNK_POST)]
    # Views of the admin site itself (not of a model admin).
    requests += [("GET", "/admin/insight/quality/?" + query, None) for query in (
        "", "year=abc&by=junk", "year=99999999999999999999", "year=1999&format=csv", "by=month&format=csv",
        "year=²", "year=202²", "year=١٩٩٩&format=csv")]
    requests.append(("POST", "/admin/insight/quality/", JUNK_POST))
    # A user's jobs and the upload page (issue #21).
    requests += [("GET", url, None) for url in (
        "/admin/jobs/?p=abc", "/admin/jobs/?p=-1", "/admin/jobs/?p=99999999999999999999", "/admin/jobs/1/",
        "/admin/jobs/99999999999999999999/", "/admin/jobs/99999999999999999999/progress/",
        "/admin/jobs/99999999999999999999/file/", "/admin/jobs/1/progress/", "/admin/jobs/1/file/", "/admin/imports/")]
    requests += [("POST", "/admin/imports/", data) for data in (
        {}, JUNK_POST, {"kind": "junk", "file": "notafile"}, {"kind": "scores", "skip_invalid": "maybe"})]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        requests += [("GET", f"{changelist}?{query}", None) for query in HOSTILE_QUERIES]
        actions = [name for name in model_admin.get_actions(_Request(user)) if name != "delete_selected"]
        for action in actions + ["delete_selected", "no_such_action"]:
            for selected in ["abc", "99999999999999999999"]:
                requests.append(("POST", changelist, {"action": action, "_selected_action": selected, "index": "0"}))
        requests.append(("POST", changelist, {"action": "", "index": "abc"}))
        for junk in JUNK_IDS:
            requests += [("GET", f"{changelist}{junk}/{suffix}", None) for suffix in ("change/", "delete/", "history/")]
        if first:
            requests += [("POST", f"{changelist}{first}/change/", JUNK_POST), ("POST", f"{changelist}{first}/change/", {}),
                         ("POST", f"{changelist}{first}/delete/", {"post": "yes"})]
        requests += [("GET", f"{changelist}add/", None), ("POST", f"{changelist}add/", {}),
                     ("POST", f"{changelist}add/", JUNK_POST)]
        for url in custom_admin_urls(model_admin, first):
            requests += [("GET", url, None), ("GET", url + "?shop=%00&step=abc&fmt=junk", None),
                         ("POST", url, {}), ("POST", url, JUNK_POST)]
    return requests


class _Request:
    """Just enough of a request for ``get_actions``."""

    def __init__(self, user):
        self.user = user
        self.GET = {}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_no_admin_input_reaches_a_500(request, world, role):
    user = request.getfixturevalue(role)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    requests = admin_requests(user)
    assert len(requests) > 300  # the enumeration really found the admin
    assert server_errors(client, requests) == ""


def portal_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from portal_routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and prefix.startswith("portal/"):
            yield "/" + prefix + str(entry.pattern)


def test_no_portal_input_reaches_a_500(world):
    merchant = ShopMember.objects.select_related("user", "shop").filter(user__username="merchant1").first()
    shop_no = merchant.shop.shop_no
    number = Ticket.objects.filter(shop=merchant.shop).values_list("number", flat=True).first()
    warning = ViolationWarning.objects.filter(shop=merchant.shop).values_list("number", flat=True).first()
    own_values = [shop_no, number, warning, "junk", "%00", "WG" + "9" * 40, "99999999999999999999", "²", "١٢"]
    # Not the log-out: after it every request would be an anonymous one (a redirect).
    routes = [route for route in portal_routes() if not route.endswith("/logout/")]
    assert len(routes) >= 8
    requests = []
    for route in routes:
        for url in {path for path in fill(route, own_values)}:
            requests += [("GET", url, None), ("GET", url + "?status=junk&class=%00&page=-1", None),
                         ("GET", url + "?page=abc&violation_class=Z", None),
                         ("GET", url + "?renews=²&type=²&product=١٢&page=²&kind=²", None),
                         ("GET", url + "?renews=99999999999999999999999&type=" + "9" * 5000, None),
                         ("POST", url, {}),
                         ("POST", url, {**JUNK_POST, "statement": "\x00", "new_password1": "x"})]
    for user in (None, merchant.user):
        client = Client(raise_request_exception=False)
        if user:
            client.force_login(user)
        assert server_errors(client, requests) == ""
        if user:  # still logged in: every request above was the merchant's
            assert client.get(f"/portal/shops/{shop_no}/").status_code == 200


def test_pending_appeal_decide_view_with_junk(client, world, appeal_reviewer):
    appeal = Appeal.objects.filter(status=Appeal.Status.PENDING).first()
    client = Client(raise_request_exception=False)
    client.force_login(appeal_reviewer)
    url = reverse("admin:compliance_appeal_decide", args=[appeal.pk])
    assert server_errors(client, [("POST", url, {"decision": "approve", "reason": "\x00"}),
                                  ("POST", url, {"decision": "maybe", "reason": "x"}),
                                  ("POST", url, {"decision": "approve", "reason": "x" * 100000})]) == ""


# The integration API (SPEC §12) ------------------------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000
API_BODIES = [
    '{"warnings": ' + DEEP + "}",
    '{"warnings": [{"evidence": ' + '{"a":' * 300 + "1" + "}" * 300 + "}]}",
    '{"rows": [' + DEEP + "]}",
    '{"rows": [{"shop": "١٢٣٤٥٦", "day": "２０２６-０１-０１", "paid_orders": 99999999999999999999999, '
    '"gift_orders": "²"}]}',
    '{"rows": [{"shop": "123456", "day": "2026-01-01", "score": 1e400, "paid_orders": -0.0}], "skip_invalid": "²"}',
    '{"warnings": [{"report_id": "²", "shop": "١٢٣٤٥٦٧٨", "rule": "fake_shipment", "summary": "x", '
    '"detected_at": "٢٠٢٦-01-01T00:00:00+08:00", "order_nos": ["١٢٣٤٥٦", "-1"], "product_nos": [1e99]}]}',
    '{"warnings": [' + ",".join(['{"x": ' + "9" * 5000 + "}"] * 3) + "]}",
    # A lone surrogate in free-form evidence: PostgreSQL's text cannot hold it (was a 500).
    r'{"warnings": [{"report_id": "sur", "shop": "10000001", "rule": "false_advertising", "summary": "x", '
    r'"detected_at": "2026-01-01T00:00:00+08:00", "evidence": {"a": "\ud800", "\udfff": 1}}]}',
    "9" * 5000, "[]", "{}", "null", '"²"', '{"warnings": NaN}', r'"\ud800"', r'{"warnings": [{"report_id": "\ud800"}]}',
]


def api_routes() -> list[str]:
    api = next(e for e in get_resolver().url_patterns if str(e.pattern) == "api/v1/")
    return ["/api/v1/" + str(p.pattern) for p in api.url_patterns
            if isinstance(p, URLPattern) and "(?P" not in str(p.pattern) and p.name not in ("schema", "docs")]


def test_no_api_input_reaches_a_500(world):
    """Every route of the API, with junk in its path and query and every
    hostile body: never a 5xx, always the API's JSON shape."""
    from compliance.models import Integration

    assert Integration.objects.exists()
    key = "ck_demo_detector_key_for_local_use_only_2026"
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {key}")
    routes = api_routes()
    assert len(routes) >= 7
    bad = []
    for route in routes:
        for url in {path for path in fill(route, ["²", "١٢", "9" * 300, "10000001", "junk"])}:
            for query in ("", "?year=²", "?year=202²&by=²", "?year=" + "9" * 5000, "?by=%FF"):
                response = client.get(url + query)
                if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                    bad.append(f"GET {url}{query[:40]} → {response.status_code}")
            for body in API_BODIES:
                response = client.post(url, data=body, content_type="application/json")
                if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                    bad.append(f"POST {url} {body[:40]} → {response.status_code}")
    assert bad == [], "\n".join(bad)
