"""Issue #14: policy insight — previews and decision quality — is the
compliance admins'; they read the change log too."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.view_insight", "compliance.view_policychange"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0035_policy_insight")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
