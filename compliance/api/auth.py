"""API keys, scopes and the per-key rate limit (SPEC §12)."""

import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from compliance.models import Integration, IntegrationCall
from compliance.models.warnings import hash_key

WINDOW = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>``; the integration is ``request.auth``."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as “Authorization: Bearer <key>”."))
        integration = Integration.objects.filter(key_hash=hash_key(header[1])).first()
        if integration is None:
            raise exceptions.AuthenticationFailed(_("This API key is not known."))
        if not integration.is_active:
            raise exceptions.AuthenticationFailed(_("This API key was revoked."))
        return AnonymousUser(), integration

    def authenticate_header(self, request):
        return self.keyword


class HasScope(permissions.BasePermission):
    """The view's ``required_scope`` must be one of the key's scopes."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, Integration):
            raise exceptions.NotAuthenticated(_("Send an API key: “Authorization: Bearer <key>”."))
        scope = getattr(view, "required_scope", None)
        if scope and not request.auth.allows(scope):
            raise exceptions.PermissionDenied(
                _("This key may not use this endpoint: it needs the “%(scope)s” scope.") % {"scope": scope})
        return True


class PerKeyRateLimit(throttling.BaseThrottle):
    """Requests per minute per key, counted over the calls log (every
    process sees the same count, unlike a per-process cache)."""

    def allow_request(self, request, view):
        integration = request.auth
        if not isinstance(integration, Integration):
            return True
        now = timezone.now()
        recent = IntegrationCall.objects.filter(integration=integration, created_at__gt=now - WINDOW).exclude(
            status=429)
        limit = integration.rate_limit
        if recent[:limit].count() < limit:  # at most ``limit`` index entries read
            return True
        # The oldest call counted leaves the window first.
        oldest = recent.order_by("-created_at").values_list("created_at", flat=True)[limit - 1]
        self._wait = max(int((oldest + WINDOW - now).total_seconds()) + 1, 1)
        return False

    def wait(self):
        return getattr(self, "_wait", 60)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The key as the OpenAPI schema describes it."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The integration's API key."}
