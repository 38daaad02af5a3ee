"""Appeal permissions (SPEC §1): appeal reviewers decide, reviewers see."""

from django.db import migrations

from ._grants import grant

READ = ["compliance.view_appeal", "compliance.view_appealevidence"]
ROLES = {
    "Reviewer": READ,
    "Appeal reviewer": READ + ["compliance.decide_appeal"],
    "Compliance admin": READ + ["compliance.decide_appeal"],
}


def forward(apps, schema_editor):
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0008_appeals"), ("compliance", "0006_roles_penalty_engine")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
