"""Policy insight through HTTP (issue #14): a compliance admin previews a
node, tier or policy change, saves it with a reason (a rule change is a new
version), and reads the decision quality of the year, as a page, a CSV and
through the API."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from compliance.models import Appeal, Event, Job, PointNode, PolicyChange, PolicySettings, Rule, Scope, Ticket
from compliance.services.appeals import appeal_decide, appeal_submit
from compliance.services.tickets import ticket_revoke
from tests.worker import drain
from tests.factories import fund, issue, make_integration, make_merchant, make_product, make_shop, make_staff

pytestmark = pytest.mark.django_db


def counts():
    """Every table's rows but the job's own record (the job and its journal entries)."""
    found = {m._meta.label: m.objects.count() for m in apps.get_app_config("compliance").get_models()}
    found["compliance.Event"] = Event.objects.exclude(subject=Event.Subject.JOB).count()
    del found["compliance.Job"]
    return found


def node_form(node, **changes) -> dict:
    data = {"violation_class": node.violation_class, "threshold": node.threshold,
            "suspend_days": node.suspend_days or "", "deposit_amount": node.deposit_amount,
            "clear_shop": "on" if node.clear_shop else "", "is_active": "on" if node.is_active else ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def shops(reviewer):
    made = []
    for n in (3, 4):  # A9 and A12
        shop = fund(make_shop(), 50000)
        for _ in range(n):
            issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)])
        made.append(shop)
    return made


def test_a_node_change_is_previewed_then_saved_with_a_reason(client, compliance_admin, shops):
    node = PointNode.objects.get(violation_class="A", threshold=12)
    client.force_login(compliance_admin)
    change_url = f"/admin/compliance/pointnode/{node.pk}/change/"
    page = client.get(change_url).content.decode()
    assert f'formaction="/admin/compliance/pointnode/preview/?pk={node.pk}"' in page and "preview-progress" in page
    drain()  # the tickets' events published first: the count below is the preview's alone
    before = counts()
    started = client.post(f"/admin/compliance/pointnode/preview/?pk={node.pk}", node_form(node, threshold=9))
    # A job replays the year (SPEC §10): its page follows it, then shows the effect with the save button.
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/admin/jobs/{job.pk}/"
    waiting = client.get(started["Location"]).content.decode()
    assert "<progress" in waiting and f"/admin/jobs/{job.pk}/progress/" in waiting
    assert client.get(f"/admin/jobs/{job.pk}/progress/").json()["status"] == "queued"
    drain()
    assert counts() == before  # nothing written
    progress = client.get(f"/admin/jobs/{job.pk}/progress/").json()
    assert (progress["status"], progress["percent"], progress["finished"]) == ("done", 100, True)
    response = client.get(started["Location"])
    body = response.content.decode()
    assert 'id="preview-nodes"' in body and shops[0].shop_no in body  # the shop at 9 is in the sample
    job.refresh_from_db()
    assert job.result["reach"]["A12 → A9"] == 1
    assert Decimal(job.result["deposit_more"]) == Decimal("2000")
    assert f'action="{change_url}"' in body and 'name="threshold" value="9"' in body
    # Saving needs a reason; with one, the change and who made it are recorded.
    refused = client.post(change_url, node_form(node, threshold=9, _save="1"))
    assert refused.status_code == 200 and PointNode.objects.get(pk=node.pk).threshold == 12
    saved = client.post(change_url, node_form(node, threshold=9, change_reason="征求意见后下调节点", _save="1"))
    # A new version: the old node keeps its figures for the shops that reached it, and is no longer applied.
    new = PointNode.objects.get(violation_class="A", threshold=9)
    assert saved.status_code == 302 and saved["Location"] == f"/admin/compliance/pointnode/{new.pk}/change/"
    old = PointNode.objects.get(pk=node.pk)
    assert (old.threshold, old.is_active, old.replaced_by) == (12, False, new) and new.is_active
    applied = shops[1].node_applications.get()
    assert applied.node == old and applied.label.endswith("12")  # history unchanged
    change = PolicyChange.objects.get()
    assert change.kind == "node" and change.changed_by == compliance_admin and change.reason == "征求意见后下调节点"
    assert ("threshold", 12, 9) in change.changes and change.object_id == new.pk
    # The replaced version is not edited again; switching a node off is done in place.
    again = client.post(change_url, node_form(old, threshold=10, change_reason="再改", _save="1"), follow=True)
    assert "newer version" in again.content.decode() or "更新的版本" in again.content.decode()
    off = client.post(f"/admin/compliance/pointnode/{new.pk}/change/",
                      node_form(new, is_active="", change_reason="暂停该节点", _save="1"))
    assert off.status_code == 302 and not PointNode.objects.get(pk=new.pk).is_active
    assert PointNode.objects.filter(violation_class="A", threshold=9).count() == 1


def test_a_rule_change_is_a_new_version_and_tickets_keep_theirs(client, compliance_admin, shops):
    rule = Rule.objects.get(code="false_advertising", version=1)
    tiers = list(rule.tiers.order_by("position", "id"))
    client.force_login(compliance_admin)
    url = f"/admin/compliance/rule/{rule.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: ("on" if value is True else value) for name, value in form.initial.items()
            if value not in (None, False) and name in form.fields}
    data.update({"effective_from": rule.effective_from.isoformat(), "effective_to": ""})
    prefix = "tiers"
    data.update({f"{prefix}-TOTAL_FORMS": len(tiers), f"{prefix}-INITIAL_FORMS": len(tiers),
                 f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    for i, tier in enumerate(tiers):
        for field in ("code", "position", "name_zh", "name_en", "violation_class", "points_default", "points_min",
                      "points_max", "deposit_amount", "deposit_per_order", "deposit_daily_cap", "ban_products",
                      "suspend_days", "clear_shop"):
            value = getattr(tier, field)
            data[f"{prefix}-{i}-{field}"] = "" if value is None else value
        for field in ("deposit_all", "warning", "delist_products", "freeze_proceeds"):
            if getattr(tier, field):
                data[f"{prefix}-{i}-{field}"] = "on"
        data[f"{prefix}-{i}-id"], data[f"{prefix}-{i}-rule"] = tier.pk, rule.pk
    general = next(i for i, t in enumerate(tiers) if t.code == "general")
    data[f"{prefix}-{general}-deposit_amount"] = "3000"
    data = {k: v for k, v in data.items() if v != ""}
    preview = client.post(f"/admin/compliance/rule/preview/?pk={rule.pk}", data)
    assert preview.status_code == 302, preview.context and preview.context["errors"]
    drain()
    job = Job.objects.get()
    assert Decimal(job.result["deposit_more"]) == Decimal("7000")  # 7 general tickets × ¥1,000
    assert job.user == compliance_admin and job.kind == "rule_preview"
    assert Rule.objects.filter(code="false_advertising").count() == 1
    saved = client.post(url, {**data, "change_reason": "标准调整", "_save": "1"})
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    versions = list(Rule.objects.filter(code="false_advertising").order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    today = timezone.localdate()
    assert versions[0].effective_to == versions[1].effective_from - datetime.timedelta(days=1)
    assert versions[1].effective_from >= today
    assert versions[1].tiers.get(code="general").deposit_amount == Decimal("3000")
    assert versions[0].tiers.get(code="general").deposit_amount == Decimal("2000")
    assert set(Ticket.objects.values_list("rule_id", flat=True)) == {versions[0].pk}
    change = PolicyChange.objects.get(kind="rule")
    assert ("general.deposit_amount", "2000.00", "3000.00") in change.changes
    assert saved["Location"] == f"/admin/compliance/rule/{versions[1].pk}/change/"


def test_a_policy_change_is_previewed_and_logged(client, compliance_admin, shops):
    policy = PolicySettings.load()
    client.force_login(compliance_admin)
    url = f"/admin/compliance/policysettings/{policy.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if name in form.fields and value is not None}
    data["certificate_warning_days"] = 60
    preview = client.post(f"/admin/compliance/policysettings/preview/?pk={policy.pk}", data)
    assert preview.status_code == 200 and not preview.context["errors"]
    [effect] = preview.context["result"]
    assert (effect.before, effect.after) == (30, 60)
    assert client.post(url, {**data, "change_reason": "提前提醒", "_save": "1"}).status_code == 302
    assert PolicySettings.load().certificate_warning_days == 60
    assert ("certificate_warning_days", 30, 60) in PolicyChange.objects.get(kind="policy").changes


def test_only_compliance_admins_preview_and_see_quality(client, reviewer, appeal_reviewer, shops):
    node = PointNode.objects.get(violation_class="A", threshold=12)
    for user in (reviewer, appeal_reviewer):
        client.force_login(user)
        assert client.post(f"/admin/compliance/pointnode/preview/?pk={node.pk}", node_form(node)).status_code == 403
        assert client.get("/admin/insight/quality/").status_code == 403
        assert client.get("/admin/compliance/policychange/").status_code == 403


@pytest.fixture
def decided(reviewer, appeal_reviewer):
    """Hand-countable decisions: rule false_advertising by reviewer (4
    tickets: 2 appealed, 1 overturned, 1 more revoked); rule
    logistics_mismatch by a second reviewer (2 tickets, 1 appealed and
    rejected)."""
    other = make_staff("t-reviewer-2", "Reviewer")
    shop = fund(make_shop(), 100000)
    merchant = make_merchant("quality-merchant", shop)
    fa = [issue(shop, "false_advertising", "general", reviewer, products=[make_product(shop)]) for _ in range(4)]
    lm = [issue(shop, "logistics_mismatch", "general", other, products=[make_product(shop)]) for _ in range(2)]
    now = timezone.now()
    a1 = appeal_submit(ticket=fa[0], actor=merchant, reason="证据", statement="见附件", now=now)
    appeal_decide(appeal=a1, approve=True, reason="成立", actor=appeal_reviewer, now=now + datetime.timedelta(hours=10))
    a2 = appeal_submit(ticket=fa[1], actor=merchant, reason="证据", statement="见附件", now=now)
    appeal_decide(appeal=a2, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=now + datetime.timedelta(hours=30))
    ticket_revoke(ticket=fa[2], actor=reviewer, reason="录入错误")
    a3 = appeal_submit(ticket=lm[0], actor=merchant, reason="证据", statement="见附件", now=now)
    appeal_decide(appeal=a3, approve=False, reason="不成立", actor=appeal_reviewer,
                  now=now + datetime.timedelta(hours=20))
    return dict(reviewer=reviewer, other=other)


def test_decision_quality_matches_hand_counts(client, compliance_admin, decided):
    PolicySettings.objects.update(overturn_flag_min_tickets=3, overturn_flag_ratio=Decimal("1.2"))
    client.force_login(compliance_admin)
    page = client.get("/admin/insight/quality/")
    q = page.context["q"]
    rows = {r.key: r for r in q.rows}
    fa, lm = rows["false_advertising"], rows["logistics_mismatch"]
    assert (fa.issued, fa.appealed, fa.overturned, fa.revoked, fa.decisions) == (4, 2, 1, 2, 2)
    assert (lm.issued, lm.appealed, lm.overturned, lm.revoked) == (2, 1, 0, 0)
    assert (q.total.issued, q.total.overturned) == (6, 1)
    assert fa.median_hours == 20.0 and fa.p90_hours == 28.0  # 10 h and 30 h
    # 1/4 against 1/6 overall: 1.5 times ≥ 1.2, with 4 ≥ 3 tickets → flagged; the other is not.
    assert fa.flagged and not lm.flagged
    body = page.content.decode()
    assert "<svg" in body and 'id="quality-table"' in body and "flagged" in body
    by_reviewer = {r.key: r for r in client.get("/admin/insight/quality/", {"by": "reviewer"}).context["q"].rows}
    assert by_reviewer[str(decided["reviewer"].pk)].issued == 4 and by_reviewer[str(decided["other"].pk)].issued == 2
    [month] = client.get("/admin/insight/quality/", {"by": "month"}).context["q"].rows
    assert month.issued == 6 and month.label == timezone.localdate().strftime("%Y-%m")
    export = client.get("/admin/insight/quality/", {"format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["rule", "label", "issued"] and table[-1][2] == "6"
    assert client.get("/admin/insight/quality/", {"year": "abc", "by": "junk"}).status_code == 200


def test_decision_quality_through_the_api(client, decided):
    _i, key = make_integration("报表", scopes=[Scope.INSIGHT])
    body = client.get("/api/v1/insight/decision-quality/", {"by": "rule"},
                      HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert body["total"]["issued"] == 6 and {r["key"] for r in body["rows"]} == {"false_advertising",
                                                                                 "logistics_mismatch"}
    _j, other = make_integration("无权", scopes=[Scope.TICKETS])
    assert client.get("/api/v1/insight/decision-quality/", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 403


def test_appeal_counts_do_not_double_count(client, compliance_admin, decided):
    """A ticket appealed twice counts once as appealed."""
    ticket = Ticket.objects.filter(appeals__status=Appeal.Status.REJECTED, rule__code="false_advertising").get()
    ticket.status = Ticket.Status.ISSUED
    ticket.save(update_fields=["status"])
    appeal_submit(ticket=ticket, actor=ticket.shop.members.get().user, reason="再次", statement="补充材料")
    client.force_login(compliance_admin)
    rows = {r.key: r for r in client.get("/admin/insight/quality/").context["q"].rows}
    assert rows["false_advertising"].appealed == 2
