"""The message centre (SPEC §11): every notice is a message, written with
the change it announces; the e-mail is its copy, sent after commit."""

import pytest
from django.db import transaction

from compliance.models import Message, OutboxEmail
from tests.factories import fund, issue, make_merchant, make_product, make_shop
from tests.worker import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return fund(make_shop(), 20000)


def test_a_ticket_writes_a_message_per_member_and_mails_a_copy_after_commit(
        shop, reviewer, mailoutbox):
    owner = make_merchant("msg-owner", shop)
    owner.email = "owner@shop.example"
    owner.save()
    operator = make_merchant("msg-operator", shop)  # no e-mail address: the message only
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    assert Message.objects.filter(kind="ticket_issued").count() == 2 and mailoutbox == []
    assert OutboxEmail.objects.get().to == "owner@shop.example"  # the address-less operator gets none
    drain()
    assert len(mailoutbox) == 1 and mailoutbox[0].subject == Message.objects.get(user=owner).subject
    message = Message.objects.get(user=operator)
    assert ticket.number in message.subject and message.link.endswith(f"/portal/tickets/{ticket.number}/")


def test_a_rolled_back_ticket_leaves_no_message(shop, reviewer):
    make_merchant("msg-rollback", shop)
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
        raise RuntimeError
    assert not Message.objects.exists()


def test_inbox_unread_count_read_and_access(client, shop, reviewer):
    merchant = make_merchant("msg-inbox", shop)
    stranger = make_merchant("msg-stranger", fund(make_shop(), 1000))
    ticket = issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)])
    issue(shop, "logistics_mismatch", "general", reviewer, products=[make_product(shop)])
    client.force_login(merchant)
    page = client.get(f"/portal/shops/{shop.shop_no}/").content.decode()
    assert '<span class="count">2</span>' in page
    inbox = client.get("/portal/messages/")
    assert len(inbox.context["page"].object_list) == 2
    assert len(client.get("/portal/messages/", {"kind": "appeal_decided"}).context["page"].object_list) == 0
    assert client.get("/portal/messages/", {"kind": "junk", "page": "x"}).status_code == 200
    message = Message.objects.filter(user=merchant).order_by("id").first()
    response = client.post(f"/portal/messages/{message.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.number}/"
    message.refresh_from_db()
    assert message.read_at is not None
    assert client.get(f"/portal/messages/{message.pk}/open/").status_code == 405
    client.post("/portal/messages/read-all/")
    assert not Message.objects.filter(user=merchant, read_at=None).exists()
    client.force_login(stranger)
    assert client.post(f"/portal/messages/{message.pk}/open/").status_code == 404
    assert not client.get("/portal/messages/").context["page"].object_list


def test_email_makes_way_for_the_daily_run_and_then_goes_on(shop, reviewer, mailoutbox):
    """A delivery task stops after a batch once work someone waits for is
    queued (the day's shards: compliance.tasks), and queues itself again."""
    from django_tasks_db.models import DBTaskResult

    from compliance.services import outbox
    from compliance.tasks import daily_shard, deliver_mail

    shops = [fund(make_shop(), 20000) for _ in range(outbox.BATCH + 5)]
    for n, each in enumerate(shops):
        member = make_merchant(f"way-{n}", each)
        member.email = f"way-{n}@shop.example"
        member.save()
    for each in shops:
        issue(each, "price_mismatch", "general", reviewer, products=[make_product(each)])
    DBTaskResult.objects.all().delete()  # the tasks issuing queued: this test runs delivery itself
    assert outbox.deliver()["tried"] == outbox.BATCH + 5  # nothing waiting: one task sends them all
    assert len(mailoutbox) == outbox.BATCH + 5

    for each in shops:
        issue(each, "price_mismatch", "general", reviewer, products=[make_product(each)])
    DBTaskResult.objects.all().delete()
    daily_shard.enqueue(0)  # a shard of the day's run is queued
    assert outbox.deliver()["tried"] == outbox.BATCH  # one batch, then it makes way
    waiting = DBTaskResult.objects.ready().filter(task_path=deliver_mail.module_path)
    assert waiting.count() == 1  # the rest: a task at the back of the queue
    DBTaskResult.objects.filter(task_path=daily_shard.module_path).delete()
    assert outbox.deliver()["tried"] == 5 and len(mailoutbox) == 2 * (outbox.BATCH + 5)


def test_a_drain_ends_after_its_batch_when_the_worker_stops_or_its_time_is_up(shop, reviewer, mailoutbox, settings):
    """A worker asked to stop (compliance.worker sets ``queueing.stopping``)
    or a task past TASK_SHARE_SECONDS sends the batch in hand, queues a task
    for the rest and returns: a backlog never keeps a worker from stopping."""
    from django_tasks_db.models import DBTaskResult

    from compliance import queueing
    from compliance.services import outbox
    from compliance.tasks import deliver_mail

    shops = [fund(make_shop(), 20000) for _ in range(2 * outbox.BATCH + 5)]
    for n, each in enumerate(shops):
        member = make_merchant(f"stop-{n}", each)
        member.email = f"stop-{n}@shop.example"
        member.save()
        issue(each, "price_mismatch", "general", reviewer, products=[make_product(each)])
    DBTaskResult.objects.all().delete()
    waiting = DBTaskResult.objects.ready().filter(task_path=deliver_mail.module_path)
    queueing.stopping.set()
    try:
        assert outbox.deliver()["tried"] == outbox.BATCH
    finally:
        queueing.stopping.clear()
    assert len(mailoutbox) == outbox.BATCH and waiting.count() == 1
    DBTaskResult.objects.all().delete()
    settings.TASK_SHARE_SECONDS = 0  # the share's time is up after its first batch
    assert outbox.deliver()["tried"] == outbox.BATCH and waiting.count() == 1
    settings.TASK_SHARE_SECONDS = 60
    assert outbox.deliver()["tried"] == 5 and len(mailoutbox) == 2 * outbox.BATCH + 5
