"""Webhook subscriptions in the admin (SPEC §13): a compliance admin makes
one for an integration with the scope, sees the secret once, pauses,
resumes, replaces the secret and deletes it; a refused URL is a form error;
reviewers cannot reach any of it. The resolver is patched."""

import pytest

from compliance.models import Event, Scope, WebhookSubscription
from tests.resolver import patch_resolver
from tests.factories import make_integration, make_staff

pytestmark = pytest.mark.django_db
BASE = "/admin/compliance/webhooksubscription/"


@pytest.fixture(autouse=True)
def production_rule(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    patch_resolver(monkeypatch, {"receiver.example.com": "93.184.216.34", "inside.example.com": "10.0.0.5"})


@pytest.fixture
def admin_client(client, compliance_admin):
    client.force_login(compliance_admin)
    return client


def test_made_in_the_admin_with_the_secret_shown_once(admin_client):
    platform = make_integration("执行系统", scopes=[Scope.WEBHOOKS])[0]
    detector = make_integration("检测系统", scopes=[Scope.WARNINGS])[0]
    form = admin_client.get(f"{BASE}add/")
    assert form.status_code == 200
    refused = admin_client.post(f"{BASE}add/", {"integration": detector.pk, "url": "https://receiver.example.com/h",
                                                "events": ["ticket.issued"]})
    assert refused.status_code == 200 and "integration" in refused.context["adminform"].form.errors
    refused = admin_client.post(f"{BASE}add/", {"integration": platform.pk, "url": "https://inside.example.com/h",
                                                "events": ["ticket.issued"]})
    assert "10.0.0.5" in str(refused.context["adminform"].form.errors["url"])
    assert not WebhookSubscription.objects.exists()

    made = admin_client.post(f"{BASE}add/", {"integration": platform.pk, "url": "https://receiver.example.com/h",
                                             "events": ["ticket.issued", "deposit.deducted"]})
    subscription = WebhookSubscription.objects.get()
    assert made.status_code == 200 and subscription.secret in made.content.decode()
    assert subscription.events == ["ticket.issued", "deposit.deducted"]
    page = admin_client.get(f"{BASE}{subscription.pk}/change/")
    assert page.status_code == 200 and subscription.secret not in page.content.decode()
    assert Event.objects.get(action=Event.Action.WEBHOOK_SUBSCRIBED).actor.username == "t-complianceadmin"


def test_pause_resume_replace_the_secret_and_delete(admin_client):
    platform = make_integration("执行系统", scopes=[Scope.WEBHOOKS])[0]
    admin_client.post(f"{BASE}add/", {"integration": platform.pk, "url": "https://receiver.example.com/h",
                                      "events": ["ticket.issued"]})
    subscription = WebhookSubscription.objects.get()
    old = subscription.secret
    for action, status in (("pause", "paused"), ("resume", "active")):
        assert admin_client.get(f"{BASE}{subscription.pk}/{action}/").status_code == 200
        assert admin_client.post(f"{BASE}{subscription.pk}/{action}/").status_code == 302
        subscription.refresh_from_db()
        assert subscription.status == status
    assert admin_client.post(f"{BASE}{subscription.pk}/resume/").status_code == 302  # already active: refused
    assert WebhookSubscription.objects.get().status == "active"
    rotated = admin_client.post(f"{BASE}{subscription.pk}/rotate-secret/")
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.secret in rotated.content.decode()
    assert subscription.previous_secret == old
    assert admin_client.post(f"{BASE}{subscription.pk}/remove/").status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "deleted"
    assert admin_client.post(f"{BASE}{subscription.pk}/pause/").status_code == 302
    assert WebhookSubscription.objects.get().status == "deleted"
    assert admin_client.get(f"{BASE}{subscription.pk}/junk/").status_code in (302, 404)  # not an action


def test_reviewers_cannot_see_or_change_subscriptions(client):
    platform = make_integration("执行系统", scopes=[Scope.WEBHOOKS])[0]
    from compliance.services.webhooks import webhook_subscribe

    subscription, _secret = webhook_subscribe(integration=platform, url="https://receiver.example.com/h",
                                              events=["ticket.issued"])
    client.force_login(make_staff("t-rev-webhooks", "Reviewer"))
    assert client.get(BASE).status_code == 403
    for action in ("pause", "rotate-secret", "remove"):
        assert client.post(f"{BASE}{subscription.pk}/{action}/").status_code == 403
    assert WebhookSubscription.objects.get().status == "active"
