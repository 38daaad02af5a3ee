"""The three staff groups of SPEC §1 with exactly the model permissions their
work needs. Later migrations add the permissions of the models they create."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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
    # Permissions are normally created after all migrations (post_migrate);
    # create them now so that the groups can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_policy_settings_row"),
        ("shops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
