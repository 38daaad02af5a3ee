"""SPEC §9: the 2024 renewal campaign as data (its order threshold is a
default no source page states: compliance admins set the real one), and the
permissions of the provider screens."""

import datetime
from decimal import Decimal

from django.db import migrations

from ._grants import grant

READ = ["shops.view_serviceprovider", "shops.view_providerbinding", "shops.view_shopdailyorders",
        "compliance.view_renewalcampaign", "compliance.view_renewalresult", "compliance.view_providerrequest"]
ROLES = {
    "Reviewer": READ + ["compliance.confirm_renewal"],
    "Appeal reviewer": READ,
    "Compliance admin": READ + ["compliance.confirm_renewal", "compliance.add_renewalcampaign",
                                "compliance.change_renewalcampaign"],
}


def forward(apps, schema_editor):
    RenewalCampaign = apps.get_model("compliance", "RenewalCampaign")
    RenewalCampaign.objects.get_or_create(name="2024年产业带服务商续牌考核", defaults=dict(
        certified_before=datetime.date(2023, 12, 1), converted_before=datetime.date(2023, 11, 30),
        period_start=datetime.date(2023, 12, 1), period_end=datetime.date(2024, 2, 29),
        order_threshold=3000, deposit_required=Decimal("100000")))
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0028_renewals"), ("shops", "0007_service_providers")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
