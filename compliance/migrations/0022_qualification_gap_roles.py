"""The missing-certificate queue is a table of its own now (0021): reviewers
and compliance admins see it; the proxy model it replaced leaves no
permission behind. The queue fills on the next run of compliance_daily."""

from django.db import migrations

from ._grants import grant

ROLES = {"Reviewer": ["compliance.view_qualificationgap"], "Compliance admin": ["compliance.view_qualificationgap"]}


def forward(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="compliance", model="missingqualification").delete()  # and its permissions
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0021_qualification_gaps"), ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
