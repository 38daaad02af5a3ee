"""Shared by the role migrations (the loader skips modules starting with _).
Keep it stable: past migrations run it as it is now."""

from django.contrib.auth.management import create_permissions


def grant(apps, roles: dict[str, list[str]]) -> None:
    """Create the groups if needed and give them ``app_label.codename`` perms."""
    # Permissions are normally created after all migrations (post_migrate);
    # create them now so that groups can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
