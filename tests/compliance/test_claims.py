"""Claims 领取 in the reviewers' queues (SPEC §14): one holder at a time,
for a lease; nobody else decides a held item; a compliance admin hands
items over; the lists show who holds what and filter by it in one click."""

import datetime

import pytest
from django.utils import timezone, translation

from compliance.exceptions import DomainError, NotPermitted
from compliance.models import Claim, Event, PolicySettings, Qualification
from compliance.services import claims
from compliance.services.qualifications import qualification_review
from tests.factories import fund, make_merchant, make_shop, make_staff, submit_certificate

pytestmark = pytest.mark.django_db
SUBJECT = Qualification.EVENT_SUBJECT
NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 10))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):  # the messages matched below
        yield


@pytest.fixture
def shop(db):
    return fund(make_shop(), 20000)


@pytest.fixture
def merchant(shop):
    return make_merchant("claim-merchant", shop)


@pytest.fixture
def certificate(shop, merchant):
    return submit_certificate(shop, "business_licence", merchant, now=NOW)


@pytest.fixture
def colleague(db):
    return make_staff("claim-colleague", "Reviewer")


@pytest.fixture
def admin_user(db):
    return make_staff("claim-admin", "Compliance admin")


def take(user, pk, now=NOW):
    return claims.claim_take(subject=SUBJECT, subject_id=pk, actor=user, now=now)


# The service -------------------------------------------------------------------------------------

def test_a_claimed_item_is_the_holders_alone_until_the_lease_runs_out(certificate, reviewer, colleague):
    mine = take(reviewer, certificate.pk)
    assert mine.leased_until == NOW + datetime.timedelta(minutes=30)  # SPEC §14's default, data
    with pytest.raises(claims.ClaimHeld) as refused:
        take(colleague, certificate.pk, NOW + datetime.timedelta(minutes=5))
    assert "t-reviewer" in refused.value.message and "10:00" in refused.value.message
    with pytest.raises(claims.ClaimHeld):
        qualification_review(qualification=certificate, approve=True, reason="", actor=colleague,
                             now=NOW + datetime.timedelta(minutes=5))
    certificate.refresh_from_db()
    assert certificate.status == Qualification.Status.SUBMITTED  # nothing half-written
    # Taking it again renews the holder's lease; the colleague takes it once the lease has run out.
    renewed = take(reviewer, certificate.pk, NOW + datetime.timedelta(minutes=20))
    assert renewed.pk == mine.pk and renewed.leased_until == NOW + datetime.timedelta(minutes=50)
    theirs = take(colleague, certificate.pk, NOW + datetime.timedelta(minutes=51))
    mine.refresh_from_db()
    assert (mine.status, mine.ended_by, theirs.holder) == (Claim.Status.LAPSED, colleague, colleague)
    assert Claim.objects.filter(subject=SUBJECT, subject_id=certificate.pk, status="held").count() == 1


def test_the_lease_is_the_policys_figure(certificate, reviewer):
    PolicySettings.objects.filter(pk=1).update(claim_lease_minutes=45)
    assert take(reviewer, certificate.pk).leased_until == NOW + datetime.timedelta(minutes=45)


def test_deciding_ends_the_deciders_claim_and_needs_none(shop, merchant, certificate, reviewer, colleague):
    take(reviewer, certificate.pk)
    qualification_review(qualification=certificate, approve=True, reason="", actor=reviewer, now=NOW)
    claim = Claim.objects.get(subject=SUBJECT, subject_id=certificate.pk)
    assert (claim.status, claim.ended_at) == (Claim.Status.DONE, NOW)
    assert list(Event.objects.filter(subject=Event.Subject.CLAIM, subject_id=claim.pk).values_list(
        "action", flat=True).order_by("id")) == [Event.Action.CLAIM_TAKEN, Event.Action.CLAIM_DONE]
    unclaimed = submit_certificate(shop, "business_licence", merchant, now=NOW)
    qualification_review(qualification=unclaimed, approve=False, reason="模糊", actor=colleague, now=NOW)
    with pytest.raises(DomainError, match="no longer waiting"):
        take(colleague, certificate.pk)


def test_release_and_hand_over(certificate, reviewer, colleague, admin_user, merchant):
    take(reviewer, certificate.pk)
    with pytest.raises(NotPermitted):
        claims.claim_release(subject=SUBJECT, subject_id=certificate.pk, actor=colleague, now=NOW)
    with pytest.raises(NotPermitted):
        claims.claim_reassign(subject=SUBJECT, subject_id=certificate.pk, to=colleague, actor=colleague, now=NOW)
    with pytest.raises(DomainError, match="does not decide"):
        claims.claim_reassign(subject=SUBJECT, subject_id=certificate.pk, to=merchant, actor=admin_user, now=NOW)
    handed = claims.claim_reassign(subject=SUBJECT, subject_id=certificate.pk, to=colleague, actor=admin_user,
                                   now=NOW)
    assert handed.holder == colleague
    assert Claim.objects.get(holder=reviewer).status == Claim.Status.REASSIGNED
    claims.claim_release(subject=SUBJECT, subject_id=certificate.pk, actor=colleague, now=NOW)
    with pytest.raises(DomainError, match="Nobody holds"):
        claims.claim_release(subject=SUBJECT, subject_id=certificate.pk, actor=colleague, now=NOW)


def test_only_the_queues_deciders_claim(certificate, merchant, appeal_reviewer):
    with pytest.raises(NotPermitted):
        take(merchant, certificate.pk)
    with pytest.raises(NotPermitted):  # appeal reviewers read certificates; they do not review them
        take(appeal_reviewer, certificate.pk)
    with pytest.raises(DomainError):
        claims.claim_take(subject="ticket", subject_id=certificate.pk, actor=appeal_reviewer)


# The admin -------------------------------------------------------------------------------------------

CHANGELIST = "/admin/compliance/qualification/"


def test_the_list_shows_the_holder_and_filters_in_one_click(client, shop, merchant, certificate, reviewer, colleague):
    other = submit_certificate(shop, "business_licence", merchant, now=timezone.now())
    free = submit_certificate(shop, "business_licence", merchant, now=timezone.now())
    take(reviewer, certificate.pk, timezone.now())
    take(colleague, other.pk, timezone.now())
    client.force_login(reviewer)
    page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="claim-mine"' in page and "claim-colleague" in page
    assert "Claimed by me" in page and "Unclaimed" in page and "Overdue" in page

    def listed(view):
        page = client.get(CHANGELIST, {"claim": view}).content.decode()
        return {q.pk for q in (certificate, other, free) if f"/{q.pk}/review/" in page}

    assert listed("mine") == {certificate.pk}
    assert listed("others") == {other.pk}
    assert listed("unclaimed") == {free.pk}
    assert listed("overdue") == {certificate.pk}  # submitted on 15 June: its 3 working days are long past
    assert client.get(CHANGELIST, {"claim": "nonsense"}).status_code == 200


def test_claim_release_and_hand_over_from_the_list(client, shop, merchant, certificate, reviewer, colleague,
                                                   admin_user):
    other = submit_certificate(shop, "business_licence", merchant, now=timezone.now())
    take(colleague, other.pk, timezone.now())
    client.force_login(reviewer)
    response = client.post(CHANGELIST, {"action": "claim_selected", "_selected_action": [certificate.pk, other.pk]},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "1 item(s) claimed" in page and "Held by claim-colleague since" in page
    assert claims.holder_of(SUBJECT, certificate.pk).holder == reviewer
    assert "hand_over_selected" not in page  # reviewers do not hand items over
    client.force_login(admin_user)
    page = client.post(CHANGELIST, {"action": "hand_over_selected", "_selected_action": [certificate.pk, other.pk]},
                       HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hand items to another reviewer" in page and 'name="to"' in page
    response = client.post(CHANGELIST, {"action": "hand_over_selected", "_selected_action": [certificate.pk, other.pk],
                                        "hand_over": "1", "to": colleague.pk}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "2 item(s) handed to claim-colleague." in response.content.decode()
    assert {claims.holder_of(SUBJECT, q.pk).holder for q in (certificate, other)} == {colleague}
    response = client.post(CHANGELIST, {"action": "hand_over_selected", "_selected_action": [certificate.pk],
                                        "hand_over": "1", "to": "999999"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    client.force_login(colleague)
    response = client.post(CHANGELIST, {"action": "release_selected", "_selected_action": [certificate.pk]},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 item(s) released." in response.content.decode()
    assert claims.holder_of(SUBJECT, certificate.pk) is None


def test_the_review_page_says_who_holds_it_and_keeps_the_form_from_others(client, certificate, reviewer,
                                                                         colleague):
    url = f"/admin/compliance/qualification/{certificate.pk}/review/"
    claim_url = f"/admin/compliance/qualification/{certificate.pk}/claim/"
    client.force_login(reviewer)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Nobody has claimed this item." in page and 'value="take"' in page and "Record review" in page
    response = client.post(claim_url, {"op": "take", "next": url}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == url and "You claimed this item" in page and "data-renew-url" in page
    assert client.post(claim_url, {"op": "renew"}).status_code == 204
    assert client.get(claim_url).status_code == 403
    client.force_login(colleague)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "t-reviewer claimed this item" in page and "Record review" not in page
    assert client.post(claim_url, {"op": "renew"}).status_code == 409  # not theirs to renew
    response = client.post(url, {"decision": "approve", "reason": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Held by t-reviewer since" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == Qualification.Status.SUBMITTED
    response = client.post(claim_url, {"op": "take", "next": "https://elsewhere.example/"})
    assert response.status_code == 302 and response["Location"] == "/admin/compliance/qualification/"


@pytest.mark.parametrize("path", ["/admin/compliance/appeal/", "/admin/compliance/violationwarning/",
                                  "/admin/compliance/qualification/", "/admin/compliance/alliancemembership/",
                                  "/admin/compliance/qualificationgap/", "/admin/compliance/providerrequest/"])
def test_every_queue_has_the_claim_views(client, admin_user, path):
    client.force_login(admin_user)
    for view in ("", "mine", "unclaimed", "others"):
        response = client.get(path, {"claim": view} if view else {}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (path, view)
    assert "Claimed by me" in response.content.decode()



# The index as a workspace -----------------------------------------------------------------------------

def test_the_index_is_each_roles_workspace(client, certificate, reviewer, appeal_reviewer, admin_user,
                                           django_assert_max_num_queries):
    take(reviewer, certificate.pk, timezone.now())
    client.force_login(reviewer)
    with django_assert_max_num_queries(20):
        response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    rows = {q.queue.subject: q for q in response.context["dashboard"].queues}
    # Reviewers decide warnings, certificates, alliance applications, missing qualifications and provider
    # requests; not appeals.
    assert set(rows) == {"warning", "qualification", "alliance", "gap", "provider_request"}
    assert (rows["qualification"].open, rows["qualification"].mine, rows["qualification"].unclaimed) == (1, 1, 0)
    assert rows["qualification"].overdue == 1 and rows["gap"].overdue is None
    client.force_login(appeal_reviewer)
    rows = client.get("/admin/").context["dashboard"].queues
    assert [q.queue.subject for q in rows] == ["appeal"]
    client.force_login(admin_user)
    body = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    order = [body.index(f'class="app-{group} module') for group in
             ("queues", "records", "shops", "rules", "delivery", "accounts")]
    assert order == sorted(order) and body.index('id="dashboard-queues"') < order[0]
    assert body.index("/admin/compliance/appeal/") < body.index("/admin/compliance/integrationcall/")
    assert 'class="app-other' not in body  # every registered model has its place


# Reason templates 常用理由 --------------------------------------------------------------------------------

def test_decide_pages_offer_their_queues_reason_templates(client, shop, merchant, certificate, reviewer, admin_user):
    from compliance.models import ReasonTemplate
    from tests.factories import make_integration, receive_warning

    shipped = ReasonTemplate.objects.filter(queue="qualification", active=True)
    assert shipped.filter(decision="reject").count() >= 2  # the product ships Chinese templates (data)
    ReasonTemplate.objects.filter(title="资质已过期").update(active=False)
    client.force_login(reviewer)
    page = client.get(f"/admin/compliance/qualification/{certificate.pk}/review/", HTTP_ACCEPT_LANGUAGE="en"
                      ).content.decode()
    assert 'id="reason-template"' in page and "图片模糊或不完整" in page and 'data-decision="reject"' in page
    assert "资质已过期" not in page  # retired
    assert "核实属实" not in page  # another queue's
    # Per rule: a warning under its rule offers the rule's own template before the general ones.
    integration = make_integration("reasons-detector")[0]
    warning = receive_warning(integration, shop, "r-reasons", now=NOW)
    own = ReasonTemplate.objects.create(queue="warning", decision="dismiss", rule_code=warning.rule.code,
                                        title="物流轨迹已补录", text="物流轨迹已补录，预警不成立。")
    ReasonTemplate.objects.create(queue="warning", decision="dismiss", rule_code="counterfeit", title="别的规则",
                                  text="x")
    from compliance.selectors.reasons import reason_templates

    offered = reason_templates("warning", warning.rule.code)
    dismiss = [t.title for t in offered if t.decision == "dismiss"]
    assert dismiss[0] == own.title and "别的规则" not in dismiss and "检测误报" in dismiss
    # Compliance admins write them; nobody deletes one (retired by unticking "offered").
    client.force_login(admin_user)
    response = client.post("/admin/compliance/reasontemplate/add/", {
        "queue": "appeal", "decision": "reject", "rule_code": "", "title": "超出申诉期", "text": "已超过申诉期。",
        "position": "5", "active": "on"})
    assert response.status_code == 302 and ReasonTemplate.objects.filter(title="超出申诉期").exists()
    assert client.get(f"/admin/compliance/reasontemplate/{own.pk}/delete/").status_code == 403
    client.force_login(reviewer)
    assert client.get("/admin/compliance/reasontemplate/add/").status_code == 403
