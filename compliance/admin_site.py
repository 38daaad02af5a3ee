"""The admin site: Django's, with the compliance dashboard on its index."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from compliance.selectors.dashboard import dashboard


class ComplianceAdminSite(admin.AdminSite):
    site_header = _("Merchant compliance back-office")
    site_title = _("Compliance back-office")
    index_title = _("Compliance work")
    index_template = "admin/compliance_index.html"
    # The lists need the width (1280 px screens): navigation is the breadcrumbs and the index.
    enable_nav_sidebar = False

    def get_urls(self):
        # A true cycle: compliance.admin registers its model admins on this site.
        from compliance.admin.insight import quality_view
        # The same cycle: the job views are in compliance.admin.
        from compliance.admin import jobs

        return [path("insight/quality/", self.admin_view(quality_view(self)), name="insight_quality"),
                *jobs.urls(self), *super().get_urls()]

    def each_context(self, request):
        # "My jobs" in the user links: this site's, not another admin site's.
        return {**super().each_context(request), "jobs_url": reverse("admin:jobs", current_app=self.name)}

    def index(self, request, extra_context=None):
        return super().index(request, {"dashboard": dashboard(request.user), **(extra_context or {})})
