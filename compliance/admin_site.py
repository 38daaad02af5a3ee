"""The admin site: Django's, with the compliance dashboard on its index."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ComplianceAdminSite(admin.AdminSite):
    site_header = _("Merchant compliance back-office")
    site_title = _("Compliance back-office")
    index_title = _("Compliance work")
    index_template = "admin/compliance_index.html"

    def index(self, request, extra_context=None):
        from compliance.selectors import dashboard

        return super().index(request, {"dashboard": dashboard(request.user), **(extra_context or {})})
