from django.urls import Resolver404, path, re_path, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .errors import json_error

app_name = "api"


@csrf_exempt  # an API client sends no CSRF token: the answer is JSON whatever the method
def unknown(request, rest=""):
    """Every other path under /api/v1/: 404 in the API's shape. A path that
    only lacks its trailing slash says so (a POST cannot be redirected)."""
    if rest and not rest.endswith("/"):
        try:
            known = resolve(f"{request.path}/").func is not unknown
        except Resolver404:
            known = False
        if known:
            return json_error(404, "not_found", _("No such endpoint: the address ends with a slash, %(path)s/.")
                              % {"path": request.path})
    return json_error(404, "not_found", _("No such endpoint: see /api/v1/docs/."))


urlpatterns = [
    path("warnings/", views.WarningBatchView.as_view(), name="warnings"),
    path("warnings/<str:report_id>/", views.WarningView.as_view(), name="warning"),
    path("tickets/<str:number>/", views.TicketView.as_view(), name="ticket"),
    path("shops/<str:shop_no>/standing/", views.StandingView.as_view(), name="standing"),
    path("imports/daily-orders/", views.OrdersImportView.as_view(), name="import_orders"),
    path("imports/experience-scores/", views.ScoresImportView.as_view(), name="import_scores"),
    path("insight/decision-quality/", views.QualityView.as_view(), name="quality"),
    path("events/", views.EventFeedView.as_view(), name="events"),
    path("webhooks/", views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", views.WebhookView.as_view(), name="webhook"),
    path("webhooks/<int:pk>/rotate-secret/", views.WebhookSecretView.as_view(), name="webhook_secret"),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<rest>.*)$", unknown),
]
