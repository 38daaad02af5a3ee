"""SPEC §14: compliance admins hand claimed items to another reviewer (the
claims' history is the journal's: every change of a claim is an Event)."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.reassign_claim"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0049_claims")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
