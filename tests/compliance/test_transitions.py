"""Every status change is a declared transition that writes its Event
(STYLE §20, issue #20): each workflow model lists its transitions in one
place; every one of them is driven here through the real service that makes
it, and writes exactly one Event naming the object, its from and its to.
Nothing else assigns a workflow status, and no action is named by a string."""

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from compliance.exceptions import InvalidTransition
from compliance.models import (
    PROVIDER_TRANSITIONS, AllianceMembership, Appeal, Claim, Event, Job, NodeApplication, OutboxEmail, PolicySettings,
    ProviderRequest,
    Qualification, RectificationNotice, RenewalCampaign, RenewalResult, Ticket, ViolationWarning,
    WebhookDelivery, WebhookSubscription, Workflow,
)
from compliance.services import (
    alliance, appeals, daily, deliveries, jobs, outbox, providers, qualifications, tickets, warnings, webhooks,
)
from compliance.services.events import transition
from shops.models import ProviderBinding, ServiceProvider
from tests.mailserver import closed_port
from tests.factories import (
    approved_certificate, fund, issue, make_integration, make_merchant, make_product, make_shop, make_staff,
    receive_warning, submit_certificate,
)

pytestmark = pytest.mark.django_db
BASE = Path(settings.BASE_DIR)
NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12))
LATER = NOW + datetime.timedelta(days=3)

WORKFLOWS = [Ticket, Appeal, ViolationWarning, Qualification, RectificationNotice, AllianceMembership,
             NodeApplication, ProviderRequest, RenewalResult, OutboxEmail, Job, WebhookSubscription,
             WebhookDelivery, Claim]


def declared():
    """(label, from, to) of every declared transition, the provider's included."""
    found = {(model._meta.label, source, to) for model in WORKFLOWS for source, to in model.TRANSITIONS}
    return found | {("shops.ServiceProvider", source, to) for source, to in PROVIDER_TRANSITIONS}


def test_every_workflow_declares_valid_statuses_and_actions():
    assert {m for m in WORKFLOWS} == {m for m in Workflow.__subclasses__()}
    for model in WORKFLOWS:
        statuses = set(model.Status.values)
        for (source, to), actions in model.TRANSITIONS.items():
            assert {source, to} <= statuses, (model, source, to)
            assert actions and actions <= set(Event.Action.values), (model, actions)
        assert model.EVENT_SUBJECT in Event.Subject.values
    for (source, to), actions in PROVIDER_TRANSITIONS.items():
        assert {source, to} <= set(ServiceProvider.Status.values) and actions <= set(Event.Action.values)


def test_a_change_not_declared_is_refused_and_writes_nothing(reviewer):
    ticket = issue(fund(make_shop(), 10000), "false_advertising", "serious", reviewer)
    events = Event.objects.count()
    with pytest.raises(InvalidTransition):
        transition(ticket, Ticket.Status.APPEALING, action=Event.Action.TICKET_REVOKED, at=NOW)  # wrong action
    with pytest.raises(InvalidTransition):
        transition(ticket, "nowhere", action=Event.Action.TICKET_REVOKED, at=NOW)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ISSUED and Event.objects.count() == events


# The walk --------------------------------------------------------------------------------------

class Walk:
    """Records which transitions the scenarios made, each checked to have
    written exactly one Event of its own."""

    def __init__(self):
        self.done = set()

    def check(self, obj, source, to, *, label=None, run):
        label = label or obj._meta.label
        before = set(Event.objects.values_list("pk", flat=True))
        run()
        obj.refresh_from_db()
        assert str(obj.status) == str(to), (label, source, to, obj.status)
        subject = {"shops.ServiceProvider": Event.Subject.PROVIDER}.get(label) or type(obj).EVENT_SUBJECT
        mine = [e for e in Event.objects.exclude(pk__in=before).filter(subject=subject, subject_id=obj.pk)
                if (e.from_status, e.to_status) == (str(source), str(to))]
        assert len(mine) == 1, (label, source, to, mine)
        self.done.add((label, str(source), str(to)))


@pytest.fixture
def world(reviewer, appeal_reviewer):
    shop = fund(make_shop(experience_score=Decimal("85")), 100000)
    merchant = make_merchant("walk-merchant", shop)
    return shop, merchant


def walk_tickets(walk, world, reviewer, appeal_reviewer):
    shop, merchant = world
    t = issue(shop, "false_advertising", "serious", reviewer, now=NOW)
    walk.check(t, "issued", "appealing", run=lambda: appeals.appeal_submit(
        ticket=t, actor=merchant, reason="r", statement="s", now=NOW + datetime.timedelta(hours=1)))
    appeal = t.appeals.get()
    walk.check(appeal, "pending", "rejected", run=lambda: appeals.appeal_decide(
        appeal=appeal, approve=False, reason="维持", actor=appeal_reviewer, now=NOW + datetime.timedelta(hours=2)))
    walk.done.add(("compliance.Ticket", "appealing", "issued"))  # checked below: the same step
    assert Event.objects.filter(subject="ticket", subject_id=t.pk, from_status="appealing", to_status="issued",
                                action=Event.Action.TICKET_REINSTATED).count() == 1
    appeals.appeal_submit(ticket=t, actor=merchant, reason="r2", statement="s2", now=NOW + datetime.timedelta(hours=3))
    second = t.appeals.get(attempt=2)
    walk.check(t, "appealing", "final", run=lambda: appeals.appeal_decide(
        appeal=second, approve=False, reason="维持", actor=appeal_reviewer, now=NOW + datetime.timedelta(hours=4)))
    u = issue(shop, "false_advertising", "serious", reviewer, now=NOW)
    appeals.appeal_submit(ticket=u, actor=merchant, reason="r", statement="s", now=NOW + datetime.timedelta(hours=1))
    appeal = u.appeals.get()
    walk.check(appeal, "pending", "approved", run=lambda: appeals.appeal_decide(
        appeal=appeal, approve=True, reason="撤销", actor=appeal_reviewer, now=NOW + datetime.timedelta(hours=2)))
    walk.done.add(("compliance.Ticket", "appealing", "revoked"))
    assert Event.objects.filter(subject="ticket", subject_id=u.pk, from_status="appealing",
                                to_status="revoked").count() == 1
    v = issue(shop, "false_advertising", "serious", reviewer, now=NOW)
    walk.check(v, "issued", "revoked", run=lambda: tickets.ticket_revoke(ticket=v, actor=reviewer, reason="误判",
                                                                          now=LATER))
    w = issue(shop, "false_advertising", "serious", reviewer, now=NOW)
    walk.check(w, "issued", "final", run=lambda: daily.finalise_tickets(NOW + datetime.timedelta(days=30)))


def walk_nodes(walk, reviewer):
    shop = fund(make_shop(), 100000)
    tickets_ = [issue(shop, "price_mismatch", "general", reviewer, products=[make_product(shop)]) for _ in range(4)]
    application = NodeApplication.objects.get(shop=shop)
    walk.check(application, "in_force", "lifted", run=lambda: tickets.ticket_revoke(
        ticket=tickets_[0], actor=reviewer, reason="误判"))


def walk_warnings(walk, world, reviewer):
    shop, merchant = world
    detector = make_integration("walk-detector")[0]
    received = [receive_warning(detector, shop, f"w{i}", now=NOW) for i in range(6)]
    after = NOW + datetime.timedelta(hours=49)
    a, b, c, d, e, f = received
    walk.check(a, "open", "answered", run=lambda: warnings.warning_answer(warning=a, actor=merchant, text="已发货",
                                                                          now=NOW))
    walk.check(b, "open", "put_right", run=lambda: warnings.warning_answer(warning=b, actor=merchant, text="已改正",
                                                                           put_right=True, now=NOW))
    warnings.warning_answer(warning=d, actor=merchant, text="说明", now=NOW)
    warnings.warning_answer(warning=e, actor=merchant, text="已改正", put_right=True, now=NOW)
    walk.check(c, "open", "expired", run=lambda: warnings.warnings_expire(after))  # f expires with it
    walk.check(a, "answered", "confirmed", run=lambda: warnings.warning_decide(warning=a, actor=reviewer,
                                                                               confirm=True, now=after))
    walk.check(b, "put_right", "dismissed", run=lambda: warnings.warning_decide(
        warning=b, actor=reviewer, confirm=False, reason="已改正", now=after))
    walk.check(c, "expired", "dismissed", run=lambda: warnings.warning_decide(
        warning=c, actor=reviewer, confirm=False, reason="无证据", now=after))
    walk.check(d, "answered", "dismissed", run=lambda: warnings.warning_decide(
        warning=d, actor=reviewer, confirm=False, reason="核实无误", now=after))
    walk.check(e, "put_right", "confirmed", run=lambda: warnings.warning_decide(warning=e, actor=reviewer,
                                                                                confirm=True, now=after))
    walk.check(f, "expired", "confirmed", run=lambda: warnings.warning_decide(warning=f, actor=reviewer,
                                                                              confirm=True, now=after))


def walk_certificates(walk, world, reviewer):
    shop, merchant = world
    pending = submit_certificate(shop, "business_licence", merchant, now=NOW)
    walk.check(pending, "submitted", "rejected", run=lambda: qualifications.qualification_review(
        qualification=pending, approve=False, reason="模糊", actor=reviewer, now=NOW))
    pending = submit_certificate(shop, "business_licence", merchant, now=NOW, expires_on=datetime.date(2027, 1, 1))
    walk.check(pending, "submitted", "approved", run=lambda: qualifications.qualification_review(
        qualification=pending, approve=True, reason="", actor=reviewer, now=NOW))
    renewal = submit_certificate(shop, "business_licence", merchant, now=NOW, renews=pending,
                                 expires_on=datetime.date(2030, 1, 1))
    walk.check(pending, "approved", "superseded", run=lambda: qualifications.qualification_review(
        qualification=renewal, approve=True, reason="", actor=reviewer, now=NOW))
    for status in ("revoked", "invalidated"):
        q = approved_certificate(shop, "food_business_licence", reviewer, merchant=merchant, now=NOW,
                                 expires_on=datetime.date(2030, 1, 1))
        walk.check(q, "approved", status, run=lambda q=q, status=status: qualifications.qualification_withdraw(
            qualification=q, status=status, reason="吊销", actor=reviewer, now=NOW))
    q = approved_certificate(shop, "food_business_licence", reviewer, merchant=merchant, now=NOW,
                             expires_on=datetime.date(2026, 6, 20))
    walk.check(q, "approved", "expired", run=lambda: daily.expire_certificates(
        timezone.make_aware(datetime.datetime(2026, 6, 22, 12))))
    notice = RectificationNotice.objects.get(qualification=q)
    walk.check(notice, "open", "closed", run=lambda: daily.ticket_overdue_notices(
        timezone.make_aware(datetime.datetime(2026, 7, 15, 12))))


def walk_alliance(walk, world, reviewer):
    shop, merchant = world
    m = AllianceMembership.objects.create(shop=shop)
    walk.check(m, "not_applied", "applied", run=lambda: alliance.alliance_apply(shop=shop, actor=merchant, now=NOW))
    walk.check(m, "applied", "rejected", run=lambda: alliance.alliance_decide(
        membership=m, approve=False, reason="资料不全", actor=reviewer, now=NOW))
    walk.check(m, "rejected", "applied", run=lambda: alliance.alliance_apply(shop=shop, actor=merchant, now=NOW))
    walk.check(m, "applied", "active", run=lambda: alliance.alliance_decide(
        membership=m, approve=True, reason="", actor=reviewer, now=NOW))
    walk.check(m, "active", "closed", run=lambda: alliance.alliance_close(
        shop=shop, cause=AllianceMembership.Cause.UNSUITABLE, reason="不适合推广", actor=reviewer, now=NOW))
    walk.check(m, "closed", "applied", run=lambda: alliance.alliance_apply(shop=shop, actor=merchant, now=NOW))
    PolicySettings.objects.filter(pk=1).update(alliance_max_closures=0)
    alliance.alliance_decide(membership=m, approve=True, reason="", actor=reviewer, now=NOW)
    ticket = {}
    walk.check(m, "active", "closed_for_good", run=lambda: ticket.setdefault("b", issue(
        shop, "counterfeit", "general", reviewer, products=[make_product(shop)], now=NOW)))
    walk.check(m, "closed_for_good", "closed", run=lambda: tickets.ticket_revoke(
        ticket=ticket["b"], actor=reviewer, reason="误判", now=LATER))


def walk_providers(walk, reviewer):
    campaign = RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核")
    failing = ServiceProvider.objects.create(name="未达标服务商", certified_on=datetime.date(2023, 6, 1),
                                             deposit_paid=Decimal("1000"))
    ProviderBinding.objects.create(provider=failing, shop=make_shop(), starts_on=datetime.date(2023, 1, 1))
    result = providers.renewals_assess(campaign=campaign)[0]
    walk.check(result, "assessed", "confirmed", run=lambda: providers.renewal_confirm(
        result=result, actor=reviewer, now=NOW))
    walk.done.add(("shops.ServiceProvider", "certified", "revoked"))
    assert Event.objects.filter(subject="provider", subject_id=failing.pk, from_status="certified",
                                to_status="revoked").count() == 1
    application = providers.provider_request(provider=failing, kind=ProviderRequest.Kind.APPLICATION,
                                             actor=reviewer, special_case=True, now=NOW)
    walk.check(application, "pending", "approved", run=lambda: providers.provider_request_decide(
        request=application, approve=True, reason="特批", actor=reviewer, now=NOW))
    walk.done.add(("shops.ServiceProvider", "revoked", "certified"))
    exit_ = providers.provider_request(provider=failing, kind=ProviderRequest.Kind.EXIT, actor=reviewer, now=NOW)
    walk.check(failing, "certified", "exited", label="shops.ServiceProvider", run=lambda: (
        providers.provider_request_decide(request=exit_, approve=True, reason="退出", actor=reviewer, now=NOW)))
    again = providers.provider_request(provider=failing, kind=ProviderRequest.Kind.APPLICATION, actor=reviewer,
                                       special_case=True, now=NOW)
    walk.check(again, "pending", "rejected", run=lambda: providers.provider_request_decide(
        request=again, approve=False, reason="不符合", actor=reviewer, now=NOW))
    again = providers.provider_request(provider=failing, kind=ProviderRequest.Kind.APPLICATION, actor=reviewer,
                                       special_case=True, now=NOW)
    walk.check(failing, "exited", "certified", label="shops.ServiceProvider", run=lambda: (
        providers.provider_request_decide(request=again, approve=True, reason="重新认证", actor=reviewer, now=NOW)))
    revoked = ServiceProvider.objects.create(name="已摘牌服务商", certified_on=datetime.date(2023, 6, 1),
                                             status=ServiceProvider.Status.REVOKED)
    leaving = providers.provider_request(provider=revoked, kind=ProviderRequest.Kind.EXIT, actor=reviewer, now=NOW)
    walk.check(revoked, "revoked", "exited", label="shops.ServiceProvider", run=lambda: (
        providers.provider_request_decide(request=leaving, approve=True, reason="退出", actor=reviewer, now=NOW)))


def test_every_declared_transition_writes_exactly_one_event(world, reviewer, appeal_reviewer):
    walk = Walk()
    walk_tickets(walk, world, reviewer, appeal_reviewer)
    walk_nodes(walk, reviewer)
    walk_warnings(walk, world, make_staff("walk-reviewer", "Reviewer"))
    walk_certificates(walk, world, reviewer)
    walk_alliance(walk, _alliance_world(), reviewer)
    walk_providers(walk, reviewer)
    walk_outbox(walk, reviewer)
    walk_jobs(walk, reviewer)
    walk_webhooks(walk)
    walk_deliveries(walk, reviewer)
    walk_claims(walk, world, reviewer)
    assert declared() - walk.done == set()


def walk_claims(walk, world, reviewer):
    """A certificate under review claimed, released, claimed again and
    decided; another held until its lease ran out and taken by a colleague;
    one handed over by a compliance admin."""
    from compliance.services import claims

    shop, merchant = world
    colleague, admin = make_staff("walk-claims", "Reviewer"), make_staff("walk-claims-admin", "Compliance admin")
    subject = Qualification.EVENT_SUBJECT
    q = submit_certificate(shop, "business_licence", merchant, now=NOW)
    mine = claims.claim_take(subject=subject, subject_id=q.pk, actor=reviewer, now=NOW)
    walk.check(mine, "held", "released", run=lambda: claims.claim_release(subject=subject, subject_id=q.pk,
                                                                         actor=reviewer, now=NOW))
    again = claims.claim_take(subject=subject, subject_id=q.pk, actor=reviewer, now=NOW)
    walk.check(again, "held", "done", run=lambda: qualifications.qualification_review(
        qualification=q, approve=True, reason="", actor=reviewer, now=NOW))
    other = submit_certificate(shop, "business_licence", merchant, now=NOW)
    held = claims.claim_take(subject=subject, subject_id=other.pk, actor=reviewer, now=NOW)
    walk.check(held, "held", "lapsed", run=lambda: claims.claim_take(
        subject=subject, subject_id=other.pk, actor=colleague, now=NOW + datetime.timedelta(hours=1)))
    taken = claims.claim_take(subject=subject, subject_id=other.pk, actor=colleague,
                              now=NOW + datetime.timedelta(hours=1))
    walk.check(taken, "held", "reassigned", run=lambda: claims.claim_reassign(
        subject=subject, subject_id=other.pk, to=reviewer, actor=admin, now=NOW + datetime.timedelta(hours=1)))


def walk_webhooks(walk):
    """A subscription paused and resumed by its integration, then deleted
    while active; another deleted while paused."""
    integration = make_integration("walk-platform")[0]
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True):
        one, _secret = webhooks.webhook_subscribe(integration=integration, url="http://127.0.0.1:9/a",
                                                  events=["ticket.issued"])
        two, _secret = webhooks.webhook_subscribe(integration=integration, url="http://127.0.0.1:9/b",
                                                  events=["ticket.final"])
    walk.check(one, "active", "paused", run=lambda: webhooks.webhook_change(one, active=False, integration=integration))
    walk.check(one, "paused", "active", run=lambda: webhooks.webhook_change(one, active=True, integration=integration))
    walk.check(one, "active", "deleted", run=lambda: webhooks.webhook_delete(one, integration=integration))
    webhooks.webhook_change(two, active=False, integration=integration)
    walk.check(two, "paused", "deleted", run=lambda: webhooks.webhook_delete(two, integration=integration))


def walk_deliveries(walk, reviewer):
    """A delivery refused until its time is up is given up; sent again by an
    admin it is delivered; a delivered one may be sent again."""
    from tests.receiver import Receiver, answer
    from tests.worker import drain

    integration = make_integration("walk-receiver")[0]
    drain()  # the earlier walks' events published before this subscription exists
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True), Receiver(answer(200)) as receiver:
        subscription, _secret = webhooks.webhook_subscribe(
            integration=integration, url=f"http://127.0.0.1:{closed_port()}/hooks", events=["ticket.issued"])
        issue(fund(make_shop(), 100000), "false_advertising", "serious", reviewer, now=NOW)
        drain()
        delivery = WebhookDelivery.objects.get(subscription=subscription)
        later = delivery.first_attempt_at + datetime.timedelta(hours=25)
        walk.check(delivery, "pending", "dead", run=lambda: deliveries.deliver(now=later))
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=f"http://127.0.0.1:{receiver.port}/h")
        admin = make_staff("walk-hooks", "Compliance admin")
        walk.check(delivery, "dead", "pending", run=lambda: deliveries.resend([delivery], actor=admin))
        deliveries.deliver()
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.DELIVERED
        walk.check(delivery, "delivered", "pending", run=lambda: deliveries.resend([delivery], actor=admin))


def walk_jobs(walk, reviewer):
    """A job starts, then finishes or fails; one never taken fails too."""
    def new():
        return jobs.job_start(user=reviewer, kind=Job.Kind.TICKET_EXPORT, title="t", params={"fmt": "csv", "query": ""})

    done, failed, never = new(), new(), new()
    walk.check(done, "queued", "running", run=lambda: jobs.job_begin(done.pk))
    walk.check(done, "running", "done", run=lambda: jobs.job_finish(done, result={"rows": 0}))
    jobs.job_begin(failed.pk)
    walk.check(failed, "running", "failed", run=lambda: jobs.job_fail(failed, "boom"))
    walk.check(never, "queued", "failed", run=lambda: jobs.job_fail(never, "no worker"))


def walk_outbox(walk, reviewer):
    """An e-mail the mail server refuses until its last attempt is dead; sent
    again by an admin it is delivered; a delivered one may be sent again."""
    shop = fund(make_shop(), 100000)
    merchant = make_merchant("walk-mail", shop)
    merchant.email = "walk@shop.example"
    merchant.save(update_fields=["email"])
    issue(shop, "false_advertising", "serious", reviewer, now=NOW)
    mail = OutboxEmail.objects.get(to="walk@shop.example")
    PolicySettings.objects.filter(pk=PolicySettings.load().pk).update(mail_max_attempts=1)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=closed_port(), EMAIL_TIMEOUT=2):
        walk.check(mail, "pending", "dead", run=outbox.deliver)
    admin = make_staff("walk-admin", "Compliance admin")
    walk.check(mail, "dead", "pending", run=lambda: outbox.resend([mail], actor=admin))
    outbox.deliver()
    mail.refresh_from_db()
    assert mail.status == OutboxEmail.Status.SENT
    walk.check(mail, "sent", "pending", run=lambda: outbox.resend([mail], actor=admin))


def _alliance_world():
    shop = fund(make_shop(experience_score=Decimal("85")), 100000)
    return shop, make_merchant("walk-alliance", shop)


# Nothing else changes a workflow's status, and actions are constants ------------------------------

def service_files():
    return [p for p in (BASE / "compliance").rglob("*.py") if "migrations" not in p.parts]


def test_no_action_is_named_by_a_string():
    """``action="ticket_issued"`` slips past a renamed constant: every action
    is ``Event.Action.X``."""
    named = []
    for path in service_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if getattr(node.func, "attr", "") == "add_argument":  # argparse's action, not an Event's
                        continue
                    if keyword.arg == "action" and isinstance(keyword.value, ast.Constant) \
                            and isinstance(keyword.value.value, str):
                        named.append(f"{path.relative_to(BASE)}:{node.lineno}")
                    if keyword.arg == "action" and isinstance(keyword.value, ast.IfExp) and any(
                            isinstance(v, ast.Constant) for v in (keyword.value.body, keyword.value.orelse)):
                        named.append(f"{path.relative_to(BASE)}:{node.lineno}")
    assert named == []


# Derived states — a shop's status from its measures, a product's, a measure's end — are not workflows.
DERIVED = {"compliance/services/measures.py", "compliance/services/daily.py", "compliance/services/events.py",
           # An e-mail's delivery is recorded on its own row (sent_at, attempts), not journalled; giving up
           # on one and sending it again are decisions and go through transition() with their Event.
           "compliance/services/outbox.py",
           # The same for a webhook delivery: delivered on its own row, given up and sent again journalled.
           "compliance/services/deliveries.py"}


def test_no_service_assigns_a_status_but_the_transition_helper():
    found = []
    for path in (BASE / "compliance" / "services").glob("*.py"):
        if str(path.relative_to(BASE)) in DERIVED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, (ast.AugAssign, ast.AnnAssign)) else []
            flat = [t for target in targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in flat):
                found.append(f"{path.relative_to(BASE)}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "update" and any(
                    k.arg == "status" for k in node.keywords):
                found.append(f"{path.relative_to(BASE)}:{node.lineno}")
    assert found == []
