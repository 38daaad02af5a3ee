"""The webhook delivery log in the admin (SPEC §13), through HTTP with a
real receiver on loopback: a subscription's page links to its log, which
shows each delivery's attempts, answer codes and times and the exact body
sent; a compliance admin sends a test event, sends a delivery again, and
sends every given-up one since a time again; reviewers see none of it."""

import datetime
import json
import re

import pytest
from django.utils import timezone

from compliance.models import OutboundEvent, WebhookDelivery, WebhookSubscription
from compliance.services import deliveries
from compliance.services.deliveries import body_of
from compliance.services.webhooks import webhook_subscribe
from tests.factories import fund, issue, make_integration, make_product, make_shop
from tests.mailserver import closed_port
from tests.receiver import Receiver, answer
from tests.test_webhooks_doc import documented_verify
from tests.worker import drain

pytestmark = pytest.mark.django_db
SUBSCRIPTIONS = "/admin/compliance/webhooksubscription/"
LOG = "/admin/compliance/webhookdelivery/"
Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receivers run on this machine


@pytest.fixture
def admin_client(client, compliance_admin):
    client.force_login(compliance_admin)
    return client


def subscription_to(url, actor, events=("ticket.issued", "deposit.deducted")):
    integration, _key = make_integration("执行系统", scopes=["webhooks"])
    return webhook_subscribe(integration=integration, url=url, events=list(events), actor=actor)


def test_the_log_shows_attempts_codes_times_and_the_body_sent(admin_client, compliance_admin, reviewer):
    with Receiver(answer(200, b'{"received": true}')) as receiver:
        subscription, _secret = subscription_to(f"http://127.0.0.1:{receiver.port}/hooks", compliance_admin)
        shop = fund(make_shop(), 50000)
        issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
        drain()
    page = admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert f'href="{LOG}?subscription={subscription.pk}"' in page
    log = admin_client.get(f"{LOG}?subscription={subscription.pk}")
    assert log.status_code == 200
    rows = log.context["cl"].result_list
    assert sorted(d.event.type for d in rows) == ["deposit.deducted", "ticket.issued"]
    assert all(d.status == Status.DELIVERED and d.last_code == 200 and d.last_ms is not None for d in rows)
    delivery = rows[0]
    detail = admin_client.get(f"{LOG}{delivery.pk}/change/").content.decode()
    sent = [body for _path, _headers, body in receiver.received if json.loads(body)["id"] == str(delivery.event.uuid)]
    assert sent == [body_of(delivery.event)]  # the log shows what went out, byte for byte
    assert json.loads(sent[0])["id"] in detail and "received" in detail  # the body, and the answer of its attempt


def test_a_test_event_is_sent_signed_logged_and_kept_out_of_the_feed(admin_client, compliance_admin):
    with Receiver(answer(204, b"")) as receiver:
        subscription, secret = subscription_to(f"http://127.0.0.1:{receiver.port}/hooks", compliance_admin)
        asked = admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/send-test/")
        assert asked.status_code == 200
        sent = admin_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/send-test/")
        assert sent.status_code == 302 and sent["Location"] == f"{LOG}?subscription={subscription.pk}"
        drain()
    ((_path, headers, body),) = receiver.received
    assert json.loads(body)["type"] == "webhook.test" and json.loads(body)["sequence"] == 0
    assert documented_verify()(secret, body, headers["X-Compliance-Signature"])
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == Status.DELIVERED and delivery.last_code == 204
    from compliance.selectors.outbound import events_after

    assert events_after(0) == [] and OutboundEvent.objects.count() == 1


def test_dead_deliveries_are_sent_again_one_or_all_since_a_time(admin_client, compliance_admin, reviewer):
    subscription, _secret = subscription_to(f"http://127.0.0.1:{closed_port()}/hooks", compliance_admin,
                                            events=["ticket.issued"])
    shop = fund(make_shop(), 100000)
    for _ in range(3):
        issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
    drain()
    first = WebhookDelivery.objects.order_by("sequence").first().first_attempt_at
    for hours in (2, 8, 14, 20, 26, 50, 75):  # each dies a day after its first attempt, one after the other
        deliveries.deliver(now=first + datetime.timedelta(hours=hours))
    assert list(WebhookDelivery.objects.values_list("status", flat=True).distinct()) == [Status.DEAD]
    with Receiver(answer(200)) as receiver:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=f"http://127.0.0.1:{receiver.port}/hooks")
        subscription.refresh_from_db()
        assert subscription.status == "paused"  # failing for three days
        assert admin_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/resume/").status_code == 302
        one = WebhookDelivery.objects.order_by("sequence").first()
        done = admin_client.post(LOG, {"action": "resend_selected", "_selected_action": [one.pk]})
        assert done.status_code == 302
        drain()
        one.refresh_from_db()
        assert one.status == Status.DELIVERED and len(receiver.received) == 1
        url = f"{SUBSCRIPTIONS}{subscription.pk}/resend-dead/"
        shown = admin_client.get(url).content.decode()  # the product's one time format, not the browser's
        assert re.search(r'name="since" value="\d{4}-\d{2}-\d{2} \d{2}:\d{2}"', shown), shown
        refused = admin_client.post(url, {"since": "2026-13-45"})  # a clear message, nothing done
        assert refused.status_code == 200 and refused.context["form"].errors
        assert WebhookDelivery.objects.filter(status=Status.DEAD).count() == 2
        since = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        again = admin_client.post(url, {"since": since})
        assert again.status_code == 302
        drain()
    assert list(WebhookDelivery.objects.values_list("status", flat=True).distinct()) == [Status.DELIVERED]
    assert [json.loads(body)["sequence"] for _p, _h, body in receiver.received] == [1, 6, 11]  # in order


def test_reviewers_see_no_delivery_log(client, reviewer, compliance_admin):
    subscription, _secret = subscription_to("http://127.0.0.1:9/hooks", compliance_admin)
    client.force_login(reviewer)
    assert client.get(LOG).status_code == 403
    assert client.post(f"{SUBSCRIPTIONS}{subscription.pk}/send-test/").status_code == 403
    assert client.post(f"{SUBSCRIPTIONS}{subscription.pk}/resend-dead/", {"since": "2026-01-01"}).status_code == 403
    assert not WebhookDelivery.objects.exists()
