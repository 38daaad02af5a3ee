"""Permissions of the penalty engine's models for the three staff groups
(SPEC §1). Ledgers, measures and events are read-only for everyone."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_catalogue"), ("compliance", "0003_roles")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
