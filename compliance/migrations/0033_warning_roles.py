"""SPEC §11, §12: who sees and decides warnings, who manages integrations."""

from django.db import migrations

from ._grants import grant

READ = ["compliance.view_violationwarning", "compliance.view_warninganswerfile"]
ROLES = {
    "Reviewer": READ + ["compliance.decide_warning"],
    "Appeal reviewer": READ,
    "Compliance admin": READ + ["compliance.decide_warning", "compliance.view_integration",
                                "compliance.add_integration", "compliance.change_integration",
                                "compliance.revoke_integration", "compliance.view_integrationcall"],
}


def forward(apps, schema_editor):
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0032_warnings_api")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
