"""Every API error in one shape:

    {"error": {"status": 403, "code": "permission_denied", "message": "…", "fields": {…}}}

``fields`` is there for invalid input: the field names with their messages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from compliance.exceptions import DomainError

from .fields import flat_errors
from .serializers import ERROR_CODES


def error_body(status: int, code: str, message: str, fields=None) -> dict:
    error = {"status": status, "code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = exceptions.ValidationError({"non_field_errors": [str(exc.message)]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's handler500 (JSON under /api/) takes it
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(response.status_code, "invalid", _("The request is not valid."),
                                   flat_errors(exc.detail))
    elif isinstance(exc, (Http404, exceptions.NotFound)):
        response.data = error_body(404, "not_found", _("Not found."))
    elif isinstance(exc, (PermissionDenied, exceptions.PermissionDenied)):
        response.data = error_body(403, "permission_denied", exc.detail if isinstance(exc, exceptions.APIException)
                                   else _("You do not have permission to do this."))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "bad_request"
        code = code if isinstance(code, str) and code in ERROR_CODES else "bad_request"
        response.data = error_body(response.status_code, code, detail)
    return response


def json_error(status: int, code: str, message: str) -> JsonResponse:
    """For errors outside DRF's views: unknown URLs, the request size limit, a 500."""
    return JsonResponse(error_body(status, code, message), status=status, json_dumps_params={"ensure_ascii": False})
