"""Issue #22: compliance admins read the webhook delivery log and send deliveries again."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.view_webhookdelivery", "compliance.resend_webhookdelivery",
                                        "compliance.view_outboundevent"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0045_outbound_events")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
