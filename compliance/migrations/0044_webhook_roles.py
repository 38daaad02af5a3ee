"""Issue #22: compliance admins manage the webhook subscriptions."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.view_webhooksubscription", "compliance.add_webhooksubscription",
                                        "compliance.change_webhooksubscription"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0043_webhook_subscriptions")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
