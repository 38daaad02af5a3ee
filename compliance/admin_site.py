"""The admin site: Django's, with the compliance dashboard on its index."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from compliance.selectors.dashboard import dashboard


# SPEC §14: the index is a workspace — the queues first, then what reviewers read and look up, then the
# reference data and the plumbing. Every registered model is in one group (the rest under "Other").
WORKSPACE = [
    ("queues", _("Queues"), ["compliance.appeal", "compliance.violationwarning", "compliance.qualification",
                             "compliance.alliancemembership", "compliance.qualificationgap",
                             "compliance.providerrequest", "compliance.renewalresult"]),
    ("records", _("Tickets and records"), ["compliance.ticket", "compliance.measure", "compliance.rectificationnotice",
                                           "compliance.nodeapplication", "compliance.pointentry",
                                           "compliance.depositentry", "compliance.allianceclosure",
                                           "compliance.event"]),
    ("shops", _("Shops and providers"), ["shops.shop", "shops.controller", "shops.shopmember", "shops.product",
                                         "shops.shopscore", "shops.shopdailyorders", "shops.serviceprovider",
                                         "shops.providerbinding"]),
    ("rules", _("Rules and figures"), ["compliance.rule", "compliance.pointnode", "compliance.qualificationtype",
                                       "compliance.qualificationrequirement", "compliance.policysettings",
                                       "compliance.reasontemplate", "compliance.renewalcampaign",
                                       "compliance.policychange"]),
    ("delivery", _("Integrations, e-mail and webhooks"), [
        "compliance.integration", "compliance.integrationcall", "compliance.webhooksubscription",
        "compliance.webhookdelivery", "compliance.outboxemail"]),
    ("accounts", _("Accounts and sign-in"), ["auth.user", "auth.group", "axes.accessattempt", "axes.accesslog",
                                             "axes.accessfailurelog"]),
]


class ComplianceAdminSite(admin.AdminSite):
    site_header = _("Merchant compliance back-office")
    empty_value_display = "—"  # one mark for "nothing here" in every list and page (Django's is "-")
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

    def get_app_list(self, request, app_label=None):
        """The index's list by work (``WORKSPACE``), not by Django app in
        code-point order; an app's own page keeps Django's."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        found = {f"{app['app_label']}.{model['object_name'].lower()}": (app, model)
                 for app in apps for model in app["models"]}
        groups = []
        for key, name, labels in [*WORKSPACE, ("other", _("Other"), list(found))]:
            chosen = [found.pop(label) for label in labels if label in found]
            if chosen:
                groups.append({"name": name, "app_label": key, "app_url": chosen[0][0]["app_url"],
                               "has_module_perms": True, "models": [model for _app, model in chosen]})
        return groups

    def index(self, request, extra_context=None):
        return super().index(request, {"dashboard": dashboard(request.user), **(extra_context or {})})
