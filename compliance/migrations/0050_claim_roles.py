"""SPEC §14: compliance admins hand claimed items to another reviewer and see
the claims' history."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.view_claim", "compliance.reassign_claim"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0049_claims")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
