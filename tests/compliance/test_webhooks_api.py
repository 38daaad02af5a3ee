"""Webhook subscriptions through the API (SPEC §13): made with the secret
shown once, changed, paused, rotated and deleted by their own integration
only, every change journalled, every refusal a 400 in the API's shape. The
resolver is patched: no name is looked up, nothing is connected to."""

import datetime

import pytest
from django.utils import timezone

from compliance.models import Event, Scope, WebhookSubscription
from tests.compliance.test_api import api, assert_error
from tests.resolver import patch_resolver
from tests.factories import make_integration

pytestmark = pytest.mark.django_db
URL = "https://receiver.example.com/hooks"


@pytest.fixture(autouse=True)
def public_receiver(settings, monkeypatch):
    """Production's rule (no private addresses); receiver.example.com is public,
    inside.example.com resolves to a private address."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    patch_resolver(monkeypatch, {"receiver.example.com": "93.184.216.34", "other.example.com": "93.184.216.35",
                                 "inside.example.com": "10.0.0.5"})


@pytest.fixture
def platform():
    return make_integration("执行系统", scopes=[Scope.WEBHOOKS])[1]


def subscribe(key, url=URL, events=("ticket.issued", "measure.started")):
    return api(key, "post", "/api/v1/webhooks/", {"url": url, "events": list(events)})


def test_a_subscription_is_made_with_its_secret_shown_once_and_journalled(platform):
    made = subscribe(platform, events=["measure.started", "ticket.issued", "ticket.issued"])
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["ticket.issued", "measure.started"]  # each once, in SPEC §13's order
    assert body["status"] == "active" and body["url"] == URL
    listed = api(platform, "get", "/api/v1/webhooks/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in api(platform, "get", f"/api/v1/webhooks/{body['id']}/").json()
    event = Event.objects.get(action=Event.Action.WEBHOOK_SUBSCRIBED)
    assert event.subject_id == body["id"] and event.integration.name == "执行系统"
    assert body["secret"] not in str(event.data)  # the journal never holds the secret


@pytest.mark.parametrize("url, reason", [
    ("http://receiver.example.com/hooks", "https://"),
    ("https://inside.example.com/hooks", "10.0.0.5"),
    ("https://nowhere.example.com/hooks", "does not resolve"),
    ("https://u:p@receiver.example.com/hooks", "user name"),
    ("not a url", "https://"),
])
def test_a_url_the_product_must_not_call_is_refused_with_the_reason(platform, url, reason):
    error = assert_error(subscribe(platform, url=url), 400, "invalid")
    assert reason in " ".join(error["fields"]["url"])
    assert not WebhookSubscription.objects.exists()


def test_unknown_or_no_event_types_are_refused(platform):
    assert "events.0" in assert_error(subscribe(platform, events=["ticket.exploded"]), 400)["fields"]
    assert "events" in assert_error(subscribe(platform, events=[]), 400)["fields"]
    assert not WebhookSubscription.objects.exists()


def test_change_pause_resume_rotate_and_delete(platform):
    made = subscribe(platform).json()
    path = f"/api/v1/webhooks/{made['id']}/"
    changed = api(platform, "patch", path, {"url": "https://other.example.com/h", "events": ["ticket.final"]})
    assert changed.status_code == 200 and changed.json()["events"] == ["ticket.final"]
    assert_error(api(platform, "patch", path, {"url": "https://inside.example.com/h"}), 400)
    assert WebhookSubscription.objects.get().url == "https://other.example.com/h"  # the refusal changed nothing

    assert api(platform, "patch", path, {"active": False}).json()["status"] == "paused"
    assert api(platform, "patch", path, {"active": True}).json()["status"] == "active"

    before = timezone.now()
    rotated = api(platform, "post", f"{path}rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != made["secret"]
    subscription = WebhookSubscription.objects.get()
    assert subscription.signing_secrets(before + datetime.timedelta(hours=23)) == [rotated.json()["secret"],
                                                                                  made["secret"]]
    assert subscription.signing_secrets(before + datetime.timedelta(hours=25)) == [rotated.json()["secret"]]

    assert api(platform, "delete", path).status_code == 204
    assert_error(api(platform, "get", path), 404)
    assert api(platform, "get", "/api/v1/webhooks/").json()["results"] == []
    assert WebhookSubscription.objects.get().status == "deleted"  # kept, with its journal
    assert list(Event.objects.filter(subject=Event.Subject.WEBHOOK).order_by("id").values_list("action", flat=True)) == [
        "webhook_subscribed", "webhook_changed", "webhook_paused", "webhook_resumed", "webhook_secret_rotated",
        "webhook_deleted"]


def test_an_integration_reaches_only_its_own_subscriptions_and_needs_the_scope(platform):
    theirs = subscribe(platform).json()
    other = make_integration("另一个系统", scopes=[Scope.WEBHOOKS])[1]
    for method, suffix, body in (("get", "", None), ("patch", "", {"active": False}), ("delete", "", None),
                                 ("post", "rotate-secret/", None)):
        assert_error(api(other, method, f"/api/v1/webhooks/{theirs['id']}/{suffix}", body), 404)
    assert api(other, "get", "/api/v1/webhooks/").json()["results"] == []
    assert WebhookSubscription.objects.get().status == "active"

    detector = make_integration("检测系统", scopes=[Scope.WARNINGS])[1]
    assert_error(api(detector, "get", "/api/v1/webhooks/"), 403, "permission_denied")
    assert_error(subscribe(detector), 403, "permission_denied")
    assert_error(api(None, "get", "/api/v1/webhooks/"), 401)
