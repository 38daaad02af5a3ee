"""The three staff groups of SPEC §1 with exactly the model permissions their
work needs. Later migrations add the permissions of the models they create."""

from django.db import migrations

from ._grants import grant

READ_SHOPS = [
    "shops.view_controller",
    "shops.view_shop",
    "shops.view_shopmember",
    "shops.view_product",
]

ROLES = {
    "Reviewer": READ_SHOPS,
    "Appeal reviewer": READ_SHOPS,
    "Compliance admin": READ_SHOPS
    + [
        "shops.add_controller",
        "shops.change_controller",
        "shops.add_shop",
        "shops.change_shop",
        "shops.add_shopmember",
        "shops.change_shopmember",
        "shops.view_personal_data",
        "compliance.view_policysettings",
        "compliance.change_policysettings",
        # to pick a merchant account when linking it to a shop (autocomplete)
        "auth.view_user",
    ],
}


def forward(apps, schema_editor):
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_policy_settings_row"),
        ("shops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
