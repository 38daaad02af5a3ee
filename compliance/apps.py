from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    default = True
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        # Imported once the app registry is ready: models cannot be imported with this module.
        from shops import uploads

        from .models import PolicySettings

        # Upload limits are policy data a compliance admin edits (SPEC §4, §7).
        uploads.set_limits_provider(lambda: PolicySettings.load().upload_limits())
        # People by their names wherever a user or a role is shown — a reply's author, a
        # reviewer in a change page, a group in a filter — not by a login or an English group name
        # (issue #23; the logins stay in the user list's own column).
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.utils.translation import gettext

        from .wording import person

        get_user_model().__str__ = person
        Group.__str__ = lambda group: gettext(group.name)


class ComplianceAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (INSTALLED_APPS)."""

    default = False

    default_site = "compliance.admin_site.ComplianceAdminSite"

    def ready(self):
        super().ready()
        # The registry is ready: the task engine's own admin of raw task rows
        # is not ours to show (the outbox and the daily runs are shown in
        # their own terms), and it would bypass our admin's conventions.
        from django.contrib import admin
        from django_tasks_db.models import DBTaskResult

        if admin.site.is_registered(DBTaskResult):
            admin.site.unregister(DBTaskResult)
