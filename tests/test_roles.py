"""SPEC §1: three staff groups with exactly the permissions their work needs."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db

READ_SHOPS = {"shops.view_controller", "shops.view_shop", "shops.view_shopmember", "shops.view_product"}
READ_TICKETS = {
    "compliance.view_rule", "compliance.view_ruletier", "compliance.view_pointnode", "compliance.view_ticket",
    "compliance.view_ticketevidence", "compliance.view_pointentry", "compliance.view_depositentry",
    "compliance.view_measure", "compliance.view_event", "compliance.view_nodeapplication", "compliance.view_appeal", "compliance.view_appealevidence",
}
ISSUE_AND_REVOKE = {"compliance.add_ticket", "compliance.revoke_ticket"}
READ_CERTIFICATES = {
    "compliance.view_qualification", "compliance.view_qualificationdocument", "compliance.view_rectificationnotice",
    "compliance.view_qualificationrequirement", "compliance.view_qualificationtype",
}
REVIEW_CERTIFICATES = {"compliance.review_qualification", "compliance.view_qualificationgap"}
READ_ALLIANCE = {"compliance.view_alliancemembership", "compliance.view_allianceclosure", "shops.view_shopscore"}
DECIDE_ALLIANCE = {"compliance.decide_alliance"}
READ_PROVIDERS = {"shops.view_serviceprovider", "shops.view_providerbinding", "shops.view_shopdailyorders",
                  "compliance.view_renewalcampaign", "compliance.view_renewalresult", "compliance.view_providerrequest"}
CONFIRM_RENEWALS = {"compliance.confirm_renewal"}
READ_WARNINGS = {"compliance.view_violationwarning", "compliance.view_warninganswerfile"}
DECIDE_WARNINGS = {"compliance.decide_warning"}
INSIGHT = {"compliance.view_insight", "compliance.view_policychange"}
# Issue #21: the outbox (see it, send again) and the upload page for the daily imports.
BACKGROUND = {"compliance.view_outboxemail", "compliance.resend_outboxemail", "compliance.import_daily"}
# Issue #22: the webhook subscriptions (made, changed, paused, deleted through the service).
WEBHOOKS = {"compliance.view_webhooksubscription", "compliance.add_webhooksubscription",
            "compliance.change_webhooksubscription", "compliance.view_webhookdelivery",
            "compliance.resend_webhookdelivery", "compliance.view_outboundevent"}
# Issue #23: compliance admins hand claimed items over and write the reason templates (SPEC §14).
CLAIMS = {"compliance.reassign_claim", "compliance.view_reasontemplate", "compliance.add_reasontemplate",
          "compliance.change_reasontemplate"}
MANAGE_INTEGRATIONS = {"compliance.view_integration", "compliance.add_integration", "compliance.change_integration",
                       "compliance.revoke_integration", "compliance.view_integrationcall"}


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_groups_have_exactly_their_permissions():
    assert perms("Reviewer") == (READ_SHOPS | READ_TICKETS | ISSUE_AND_REVOKE | READ_CERTIFICATES | REVIEW_CERTIFICATES
                                 | READ_ALLIANCE | DECIDE_ALLIANCE | READ_PROVIDERS | CONFIRM_RENEWALS | READ_WARNINGS
                                 | DECIDE_WARNINGS)
    assert perms("Appeal reviewer") == (READ_SHOPS | READ_TICKETS | READ_CERTIFICATES | READ_ALLIANCE | READ_PROVIDERS
                                        | READ_WARNINGS | {"compliance.decide_appeal"})
    assert perms("Compliance admin") == (READ_SHOPS | READ_TICKETS | ISSUE_AND_REVOKE | READ_CERTIFICATES
                                         | REVIEW_CERTIFICATES | READ_ALLIANCE | DECIDE_ALLIANCE | READ_PROVIDERS
                                         | CONFIRM_RENEWALS | READ_WARNINGS | DECIDE_WARNINGS
                                         | MANAGE_INTEGRATIONS | INSIGHT | BACKGROUND | WEBHOOKS | CLAIMS) | {
        "compliance.add_renewalcampaign", "compliance.change_renewalcampaign",
        "compliance.add_qualificationrequirement", "compliance.change_qualificationrequirement",
        "compliance.add_qualificationtype", "compliance.change_qualificationtype",
        "compliance.decide_appeal",
        "compliance.add_rule", "compliance.change_rule", "compliance.add_ruletier", "compliance.change_ruletier",
        "compliance.add_pointnode", "compliance.change_pointnode",
        "shops.add_controller", "shops.change_controller", "shops.add_shop", "shops.change_shop",
        "shops.add_shopmember", "shops.change_shopmember", "shops.view_personal_data",
        "compliance.view_policysettings", "compliance.change_policysettings", "auth.view_user",
    }


def test_only_compliance_admins_edit_the_catalogue():
    for name in ("Reviewer", "Appeal reviewer"):
        assert not {p for p in perms(name) if p.split(".")[1].split("_")[0] in ("add", "change")} - ISSUE_AND_REVOKE


def test_nobody_but_superusers_may_delete_or_touch_groups():
    for name in ("Reviewer", "Appeal reviewer", "Compliance admin"):
        assert not any(p.split(".")[1].startswith("delete_") for p in perms(name))
        assert not any(p.startswith("auth.") and "group" in p for p in perms(name))
        assert "auth.change_user" not in perms(name)


@pytest.mark.parametrize("role", ["reviewer", "compliance_admin"])
def test_staff_cannot_edit_group_permissions(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    group = Group.objects.get(name="Reviewer")
    before = perms("Reviewer")
    url = f"/admin/auth/group/{group.pk}/change/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"name": "Reviewer", "permissions": []})
    assert response.status_code == 403
    assert perms("Reviewer") == before


def test_merchant_cannot_open_admin(client, db):
    from tests.factories import make_merchant, make_shop

    client.force_login(make_merchant("m1", make_shop()))
    for url in ("/admin/", "/admin/shops/shop/", "/admin/compliance/ticket/", "/admin/auth/group/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/portal/", url


def test_staff_opening_the_portal_go_to_the_admin(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/admin/shops/shop/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
