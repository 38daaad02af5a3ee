"""Error pages: branded, in the user's language, with a way back to where
they work (the portal's 商家中心, the admin's dashboard). No database access:
a 500 may come from the database itself."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from compliance.api.errors import json_error


def _way_back(request) -> tuple[str, str]:
    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return reverse("admin:index"), _("Back to the dashboard")
    if path.startswith("/portal/"):
        return reverse("portal:home"), _("Back to the merchant centre")
    return reverse("home"), _("Back to the home page")


def error_page(request, *, status: int, title: str, message: str):
    if (getattr(request, "path", "") or "").startswith("/api/"):
        # The integration API answers in its own JSON shape (compliance.api.errors).
        return json_error(status, {400: "bad_request", 403: "permission_denied", 404: "not_found"}.get(
            status, "server_error"), message)
    url, label = _way_back(request)
    context = {"status": status, "title": title, "message": message, "back_url": url, "back_label": label}
    return render(request, "error.html", context, status=status)


def page_not_found(request, exception=None):
    return error_page(request, status=404, title=_("Page not found"),
                      message=_("The page does not exist, or it is not yours to see."))


def permission_denied(request, exception=None):
    return error_page(request, status=403, title=_("Not allowed"),
                      message=_("Your account may not open this page. Ask a compliance admin if you need it."))


def bad_request(request, exception=None):
    return error_page(request, status=400, title=_("Bad request"),
                      message=_("The request could not be understood. Go back and try again."))


def server_error(request):
    return error_page(request, status=500, title=_("Something went wrong on our side"),
                      message=_("Nothing you entered was lost or half-saved. Please try again in a moment; "
                                "if it keeps happening, tell the compliance team what you were doing."))


def csrf_failure(request, reason=""):
    """Django's CSRF refusal as our 403 page (the API's JSON under /api/)."""
    return error_page(request, status=403, title=_("Not allowed"),
                      message=_("The form was out of date or not sent from this site. Go back, reload the page "
                                "and try again."))


def error_preview(request, status: int):
    """DEBUG only (config/urls.py): an error page as production shows it,
    for ``make screenshots`` and a look by hand — ``?under=admin`` or
    ``?under=portal`` picks the way back. Answered with 200: it is a preview."""
    handler = {400: bad_request, 403: permission_denied, 404: page_not_found, 500: server_error}.get(status)
    if handler is None:
        raise Http404
    under = request.GET.get("under", "")
    request.path = f"/{under}/" if under in ("admin", "portal") else "/"
    response = handler(request)
    response.status_code = 200
    return response
