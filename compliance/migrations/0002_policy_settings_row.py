from django.db import migrations


def forward(apps, schema_editor):
    # SPEC §3 and §7 defaults; a compliance admin edits them afterwards.
    PolicySettings = apps.get_model("compliance", "PolicySettings")
    PolicySettings.objects.get_or_create(pk=1, defaults={"reentry_wait_months": 6, "upload_max_mb": 10})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
