"""Existing data under the revised SPEC §6.2 and §7.

- Every node measure gets the node application it belongs to (one per ticket
  and node). Applications of revoked tickets are recorded as lifted; a second
  in-force application of the same node in the same year (the old engine could
  apply a node twice) is recorded as lifted when the second one was applied.
  Deposit entries written before the revision combined the ticket's and the
  node's deduction into one entry; they stay the ticket's.
- Appeal deadlines become whole Shanghai days: 23:59:59 on the day
  ``window`` days after the issue date."""

import datetime
from zoneinfo import ZoneInfo

from django.db import migrations

from ._grants import grant

SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 2000


def node_applications(apps, schema_editor):
    Measure = apps.get_model("compliance", "Measure")
    NodeApplication = apps.get_model("compliance", "NodeApplication")
    in_force = set()
    made = {}
    measures = Measure.objects.filter(node__isnull=False).select_related("ticket", "node").order_by("created_at", "id")
    for measure in measures.iterator():
        key = (measure.ticket_id, measure.node_id)
        if key not in made:
            ticket = measure.ticket
            force_key = (ticket.shop_id, measure.node_id, ticket.point_year)
            revoked = ticket.status == "revoked"
            lifted = revoked or force_key in in_force
            made[key] = NodeApplication.objects.create(
                shop_id=ticket.shop_id, node_id=measure.node_id, violation_class=measure.node.violation_class,
                year=ticket.point_year, ticket=ticket, total_reached=measure.node.threshold,
                applied_at=measure.created_at, status="lifted" if lifted else "in_force",
                lifted_at=(ticket.revoked_at if revoked else measure.created_at) if lifted else None,
                lifted_by=ticket if revoked else None,
            )
            if not lifted:
                in_force.add(force_key)
        Measure.objects.filter(pk=measure.pk).update(node_application=made[key])


def whole_day_deadlines(apps, schema_editor):
    Ticket = apps.get_model("compliance", "Ticket")
    batch = []
    for ticket in Ticket.objects.select_related("rule").only(
            "id", "issued_at", "rule_snapshot", "rule__appeal_window_days").iterator(chunk_size=BATCH):
        window = int((ticket.rule_snapshot or {}).get("appeal_window_days") or ticket.rule.appeal_window_days)
        issue_day = ticket.issued_at.astimezone(SHANGHAI).date()
        ticket.appeal_deadline = datetime.datetime.combine(
            issue_day + datetime.timedelta(days=window), datetime.time(23, 59, 59, 999999), tzinfo=SHANGHAI)
        batch.append(ticket)
        if len(batch) >= BATCH:
            Ticket.objects.bulk_update(batch, ["appeal_deadline"])
            batch = []
    Ticket.objects.bulk_update(batch, ["appeal_deadline"])


def grant_view(apps, schema_editor):
    grant(apps, {role: ["compliance.view_nodeapplication"]
                 for role in ("Reviewer", "Appeal reviewer", "Compliance admin")})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0012_node_applications")]
    operations = [
        migrations.RunPython(node_applications, migrations.RunPython.noop),
        migrations.RunPython(whole_day_deadlines, migrations.RunPython.noop),
        migrations.RunPython(grant_view, migrations.RunPython.noop),
    ]
