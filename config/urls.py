from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from compliance.public import delisting_notices

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("portal/", include("compliance.portal.urls")),
    path("notices/", delisting_notices, name="notices"),
    path("api/v1/", include("compliance.api.urls")),
]

if settings.DEBUG:  # the error pages as production shows them (tools/screenshots.py)
    from config.views import error_preview

    urlpatterns.append(path("_errors/<int:status>/", error_preview))

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
