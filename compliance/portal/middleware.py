from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control


class RoleRoutingMiddleware:
    """Staff work in the admin and merchants in the portal: a logged-in user
    who opens the other side's pages is sent to their own (SPEC §1)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            path = request.path_info
            if path.startswith("/admin/") and not user.is_staff:
                return redirect("portal:home")
            if path.startswith("/portal/") and user.is_staff and path != reverse("portal:logout"):
                return redirect("admin:index")
        response = self.get_response(request)
        if request.path_info.startswith("/portal/"):
            # A merchant's standing and files are private: no shared or back-button cache.
            patch_cache_control(response, private=True, no_store=True)
        return response
