from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(template_name="portal/password_done.html"),
         name="password_done"),
    path("shops/<str:shop_no>/", views.standing, name="standing"),
    path("shops/<str:shop_no>/tickets/", views.ticket_list, name="tickets"),
    path("shops/<str:shop_no>/certificates/", views.certificates, name="certificates"),
    path("shops/<str:shop_no>/alliance/", views.alliance, name="alliance"),
    path("shops/<str:shop_no>/certificates/new/", views.certificate_new, name="certificate_new"),
    path("shops/<str:shop_no>/warnings/", views.warning_list, name="warnings"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("warnings/<str:number>/", views.warning_detail, name="warning"),
    path("messages/", views.messages_inbox, name="messages"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
    path("messages/<int:pk>/open/", views.message_open, name="message_open"),
    path("files/ticket/<int:pk>/", views.ticket_evidence_file, name="ticket_file"),
    path("files/appeal/<int:pk>/", views.appeal_evidence_file, name="appeal_file"),
    path("files/certificate/<int:pk>/", views.certificate_file, name="certificate_file"),
    path("files/warning/<int:pk>/", views.warning_file, name="warning_file"),
]
