from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    default = True
    name = "compliance"
    verbose_name = _("Compliance")


class ComplianceAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (INSTALLED_APPS)."""

    default = False

    default_site = "compliance.admin_site.ComplianceAdminSite"
