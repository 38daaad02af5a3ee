"""Public pages (no log-in): the service-provider delisting notices 摘牌公示
(SPEC §1, §9)."""

from django.core.paginator import Paginator
from django.shortcuts import render

from compliance.models import RenewalResult


def delisting_notices(request):
    notices = (RenewalResult.objects.filter(published_at__isnull=False).select_related("provider", "campaign")
               .order_by("-published_at", "-id"))
    page = Paginator(notices, 30).get_page(request.GET.get("page"))
    return render(request, "public/notices.html", {"page": page})
