from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .errors import json_error

app_name = "api"


def unknown(request, rest=""):
    return json_error(404, "not_found", "No such endpoint: see /api/v1/docs/.")


urlpatterns = [
    path("warnings/", views.WarningBatchView.as_view(), name="warnings"),
    path("warnings/<str:report_id>/", views.WarningView.as_view(), name="warning"),
    path("tickets/<str:number>/", views.TicketView.as_view(), name="ticket"),
    path("shops/<str:shop_no>/standing/", views.StandingView.as_view(), name="standing"),
    path("imports/daily-orders/", views.OrdersImportView.as_view(), name="import_orders"),
    path("imports/experience-scores/", views.ScoresImportView.as_view(), name="import_scores"),
    path("insight/decision-quality/", views.QualityView.as_view(), name="quality"),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<rest>.*)$", unknown),
]
