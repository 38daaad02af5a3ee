from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from compliance.api.errors import json_error
from compliance.api.limits import MAX_BODY_BYTES
from compliance.api.parsers import too_large_message
from config.views import bad_request, page_not_found


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than settings.MAX_REQUEST_BYTES with 413
    before Django reads it: the upload size policy (10 MB a file by default)
    is checked per file later, but nothing else would stop a 2 GB upload from
    being spooled to disk first. A proxy in front should enforce it too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.path_info.startswith("/api/"):
            # The API's own limit, computed from its row caps (compliance/api/limits.py).
            if length > MAX_BODY_BYTES:
                return json_error(413, "too_large", too_large_message())
            return self.get_response(request)
        if length > settings.MAX_REQUEST_BYTES:
            limit = settings.MAX_REQUEST_BYTES // 1_000_000
            return HttpResponse(_("The request is too large (at most %(n)d MB).") % {"n": limit}, status=413,
                                content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is refused before any
    view: PostgreSQL text cannot hold one, so a lookup with it would be a 500
    (the form fields refuse NUL in posted text themselves)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        in_path = "\x00" in request.path_info
        if in_path or "%00" in request.META.get("QUERY_STRING", "") or any(
                "\x00" in value for _key, values in request.GET.lists() for value in values):
            status, message = (404, _("The page does not exist.")) if in_path else (
                400, _("The address contains a character that is not allowed."))
            if request.path_info.startswith("/api/"):
                return json_error(status, "not_found" if in_path else "bad_request", message)
            return page_not_found(request) if in_path else bad_request(request)
        return self.get_response(request)
