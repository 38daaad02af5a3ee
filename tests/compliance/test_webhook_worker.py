"""Webhooks the way ``make run`` runs them: a real worker process
(``db_worker``) publishes the journal's steps and delivers them to the demo
receiver (``manage.py webhook_receiver``, another process on loopback),
which checks each signature against the subscription's secret. The test
commits (``transaction=True``) so that the processes see its rows."""

import os
import subprocess
import sys

import pytest

from compliance.models import WebhookDelivery
from compliance.services.webhooks import webhook_subscribe
from tests.factories import fund, issue, make_integration, make_product, make_shop
from tests.mailserver import closed_port
from tests.worker import ROOT, WorkerProcess, database_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_worker_delivers_a_ticket_s_events_to_the_demo_receiver_signed(reviewer, compliance_admin, tmp_path,
                                                                        settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    port = closed_port()
    log = tmp_path / "receiver.log"
    receiver = subprocess.Popen(
        [sys.executable, "tests/guarded_manage.py", "webhook_receiver", "--port", str(port)], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "DJANGO_LOG_LEVEL": "WARNING"},
        stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "Receiving" in log.read_text(), what="the receiver")
        integration, _key = make_integration("执行系统", scopes=["webhooks"])
        webhook_subscribe(integration=integration, url=f"http://127.0.0.1:{port}/webhooks/",
                          events=["ticket.issued", "measure.started", "deposit.deducted"], actor=compliance_admin)
        shop = fund(make_shop(), 50000)
        issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
        with WorkerProcess(tmp_path, DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS="true") as worker:
            wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 5,
                     what=f"the deliveries (worker: {worker.output()})")
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    lines = [line for line in log.read_text().splitlines() if "sequence=" in line]
    assert lines == [f"{kind} shop={shop.shop_no} sequence={n} signature=ok" for n, kind in enumerate(
        ["ticket.issued", "measure.started", "measure.started", "measure.started", "deposit.deducted"], 1)]
    assert set(WebhookDelivery.objects.values_list("last_code", flat=True)) == {200}
