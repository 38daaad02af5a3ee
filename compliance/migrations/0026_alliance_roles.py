"""Selected Alliance permissions (SPEC §1): reviewers decide applications and
close memberships; everyone on the staff sees them and the scores."""

from django.db import migrations

from ._grants import grant

READ = ["compliance.view_alliancemembership", "compliance.view_allianceclosure", "shops.view_shopscore"]
ROLES = {
    "Reviewer": READ + ["compliance.decide_alliance"],
    "Appeal reviewer": READ,
    "Compliance admin": READ + ["compliance.decide_alliance"],
}


def forward(apps, schema_editor):
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0025_alliance"), ("shops", "0006_shop_scores")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
