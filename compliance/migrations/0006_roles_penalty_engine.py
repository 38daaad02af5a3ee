"""Permissions of the penalty engine's models for the three staff groups
(SPEC §1). Ledgers, measures and events are read-only for everyone."""

from django.db import migrations

from ._grants import grant

READ = [
    "compliance.view_rule", "compliance.view_ruletier", "compliance.view_pointnode", "compliance.view_ticket",
    "compliance.view_ticketevidence", "compliance.view_pointentry", "compliance.view_depositentry",
    "compliance.view_measure", "compliance.view_event",
]
ISSUE_AND_REVOKE = ["compliance.add_ticket", "compliance.revoke_ticket"]
EDIT_CATALOGUE = [
    "compliance.add_rule", "compliance.change_rule", "compliance.add_ruletier", "compliance.change_ruletier",
    "compliance.add_pointnode", "compliance.change_pointnode",
]
ROLES = {
    "Reviewer": READ + ISSUE_AND_REVOKE,
    "Appeal reviewer": READ,
    "Compliance admin": READ + ISSUE_AND_REVOKE + EDIT_CATALOGUE,
}


def forward(apps, schema_editor):
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_catalogue"), ("compliance", "0003_roles")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
