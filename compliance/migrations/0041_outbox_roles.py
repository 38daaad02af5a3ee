"""Issue #21: compliance admins see the e-mail outbox and send again what
the mail server refused, and upload the daily score and order files."""

from django.db import migrations

from ._grants import grant


def forward(apps, schema_editor):
    grant(apps, {"Compliance admin": ["compliance.view_outboxemail", "compliance.resend_outboxemail",
                                        "compliance.import_daily"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0040_background_work")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
