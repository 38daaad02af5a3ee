"""The merchant portal: standing, tickets, appeals. Every read goes through
``MerchantScope``; every write through a service."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from compliance.exceptions import DomainError
from compliance.models import Appeal, Message, PolicySettings, Ticket, ViolationClass, ViolationWarning
from compliance.selectors import (
    MerchantScope, alliance_summary, health_page, score_trend, shop_certificates, ticket_measures, ticket_timeline,
)
from compliance.selectors.alliance import counted_closures, settlement_materials
from compliance.selectors.tickets import appeal_block_reason, appeal_days_left, chances
from compliance.services.alliance import alliance_apply
from compliance.services.appeals import appeal_submit
from compliance.services.qualifications import qualification_submit
from compliance.services.warnings import warning_answer
from shops.numbers import whole_number_or_none
from shops.uploads import attachment_response

from .forms import AppealForm, CertificateForm, TicketFilterForm, WarningAnswerForm

PORTAL_LOGIN = reverse_lazy("portal:login")


def merchant_view(view):
    """Logged-in merchants only: anonymous users go to the portal's log-in,
    staff to the admin (RoleRoutingMiddleware does the latter for all URLs)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{PORTAL_LOGIN}?next={request.get_full_path()}")
        scope = MerchantScope(request.user)
        return view(request, scope, *args, **kwargs)

    return wrapper


def _context(request, scope, shop=None, **extra):
    return {"shops": scope.shops(), "current_shop": shop, "unread": scope.unread_messages(), **extra}


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("admin:index") if self.request.user.is_staff else reverse("portal:home")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:password_done")

    def get_context_data(self, **kwargs):
        # The header keeps its shop switch and tabs on this page too.
        scope = MerchantScope(self.request.user)
        shops = scope.shops()
        return {**super().get_context_data(**kwargs), **_context(self.request, scope, shops[0] if shops else None)}


@merchant_view
def home(request, scope):
    shops = list(scope.shops())
    # The shop switch in the header submits ?shop=<shop ID> (script or not).
    chosen = next((s for s in shops if s.shop_no == request.GET.get("shop")), None)
    if chosen or shops:
        return redirect("portal:standing", shop_no=(chosen or shops[0]).shop_no)
    return render(request, "portal/no_shop.html", _context(request, scope))


@merchant_view
def standing(request, scope, shop_no):
    shop = scope.shop(shop_no)
    page = health_page(shop)
    return render(request, "portal/standing.html", _context(
        request, scope, shop, tab="standing", standing=page.standing, health=page.health,
        certificates=page.certificates, alliance=page.alliance, trend=page.trend, recent=page.recent,
        page_key=page.key))


@merchant_view
def ticket_list(request, scope, shop_no):
    shop = scope.shop(shop_no)
    filters = TicketFilterForm(request.GET or None)
    tickets = scope.tickets().filter(shop=shop).select_related("rule").order_by("-issued_at", "-id")
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            tickets = tickets.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data["violation_class"]:
            tickets = tickets.filter(violation_class=filters.cleaned_data["violation_class"])
    return render(request, "portal/tickets.html", _context(
        request, scope, shop, tab="tickets", filters=filters, classes=ViolationClass.choices,
        open_warnings=_open_warnings(scope, shop), **_page(request, tickets)))


def _page(request, rows) -> dict:
    """The shared pager's context: the page and the query without ``page``."""
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": Paginator(rows, 20).get_page(request.GET.get("page")), "query": query.urlencode()}


def _open_warnings(scope, shop) -> int:
    return scope.warnings().filter(shop=shop, status=ViolationWarning.Status.OPEN,
                                   deadline__gte=timezone.now()).count()


@merchant_view
def warning_list(request, scope, shop_no):
    shop = scope.shop(shop_no)
    status = request.GET.get("status", "")
    rows = scope.warnings().filter(shop=shop).select_related("rule").order_by("-received_at", "-id")
    if status in ViolationWarning.Status.values:
        rows = rows.filter(status=status)
    return render(request, "portal/warnings.html", _context(
        request, scope, shop, tab="tickets", status=status, statuses=ViolationWarning.Status.choices,
        open_warnings=_open_warnings(scope, shop), **_page(request, rows)))


@merchant_view
@require_http_methods(["GET", "POST"])
def warning_detail(request, scope, number):
    """A warning with what the detector saw, and the answer form while the
    merchant can still answer (SPEC §11)."""
    warning = scope.warning(number)
    now = timezone.now()
    form = WarningAnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            warning_answer(warning=warning, actor=request.user, text=form.cleaned_data["answer"],
                           put_right=form.cleaned_data["put_right"], files=form.cleaned_data["files"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your answer was sent. A reviewer will decide; you will get a message."))
            return redirect("portal:warning", number=warning.number)
        warning = scope.warning(number)
    can_answer = warning.awaiting_merchant(now)
    return render(request, "portal/warning.html", _context(
        request, scope, warning.shop, tab="tickets", warning=warning, form=form, can_answer=can_answer,
        hours_left=int((warning.deadline - now).total_seconds() // 3600) if can_answer else None,
        files=warning.files.all(), products=warning.products.all(), hint=warning.rule.evidence_hint),
        status=400 if request.method == "POST" else 200)


def _file(rows, pk, stem):
    """A file of the merchant's own (``rows`` is a MerchantScope queryset),
    as an attachment named by ``stem(item)``; anyone else's is not found."""
    item = rows.filter(pk=pk).first()
    if item is None:
        raise Http404
    return attachment_response(item.file, download_stem=stem(item))


@merchant_view
def warning_file(request, scope, pk):
    return _file(scope.warning_files().select_related("warning"), pk, lambda f: f"{f.warning.number}-{f.pk}")


@merchant_view
@require_http_methods(["GET", "POST"])
def ticket_detail(request, scope, number):
    ticket = scope.ticket(number)
    blocked = appeal_block_reason(ticket)
    form = AppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if blocked:
            messages.error(request, blocked)
        elif form.is_valid():
            try:
                appeal_submit(ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"],
                              statement=form.cleaned_data["statement"], files=form.cleaned_data["evidence"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Your appeal was submitted. You will be told the decision by e-mail."))
                return redirect("portal:ticket", number=ticket.number)
        ticket.refresh_from_db()
        blocked = appeal_block_reason(ticket)
    appeals = list(ticket.appeals.prefetch_related("evidence").order_by("attempt"))
    context = _context(
        request, scope, ticket.shop,
        tab="tickets", ticket=ticket, form=form, blocked=blocked, appeals=appeals,
        chances_left=max(chances(ticket) - len(appeals), 0),
        days_left=appeal_days_left(ticket) if ticket.status == Ticket.Status.ISSUED else None,
        measures=ticket_measures(ticket),
        events=ticket_timeline(ticket),
        evidence=ticket.evidence.all(), products=ticket.products.all(),
        pending=any(a.status == Appeal.Status.PENDING for a in appeals),
    )
    return render(request, "portal/ticket.html", context, status=400 if request.method == "POST" else 200)


@merchant_view
def ticket_evidence_file(request, scope, pk):
    return _file(scope.ticket_evidence().select_related("ticket"), pk, lambda f: f"{f.ticket.number}-{f.pk}")


@merchant_view
def appeal_evidence_file(request, scope, pk):
    return _file(scope.appeal_evidence().select_related("appeal__ticket"), pk,
                 lambda f: f"{f.appeal.ticket.number}-appeal-{f.pk}")


@merchant_view
def certificates(request, scope, shop_no):
    shop = scope.shop(shop_no)
    return render(request, "portal/certificates.html", _context(
        request, scope, shop, tab="certificates", certificates=shop_certificates(shop)))


@merchant_view
@require_http_methods(["GET", "POST"])
def certificate_new(request, scope, shop_no):
    """Submit a certificate; ``?renews=<id>`` renews one of the shop's, and
    ``?product=<product ID>&type=<id>`` comes from a missing-certificate row."""
    shop = scope.shop(shop_no)
    renews = None
    if request.GET.get("renews"):
        renews_id = whole_number_or_none(request.GET["renews"])
        renews = renews_id and scope.qualifications().filter(shop=shop, pk=renews_id).select_related(
            "qualification_type").first()
        if not renews:
            raise Http404
    initial = {}
    if renews:
        initial = {"qualification_type": renews.qualification_type_id, "holder": renews.holder,
                   "authority": renews.authority, "brand": renews.brand,
                   "product_nos": " ".join(renews.products.values_list("product_no", flat=True))}
    else:
        product = shop.products.filter(product_no=request.GET.get("product", "")).first()
        if product:
            initial = {"product_nos": product.product_no, "brand": product.brand}
        type_id = whole_number_or_none(request.GET.get("type"))
        if type_id is not None:
            initial["qualification_type"] = type_id
    form = CertificateForm(request.POST or None, request.FILES or None, shop=shop, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            qualification_submit(
                shop=shop, qualification_type=data["qualification_type"], number=data["number"],
                holder=data["holder"], authority=data["authority"], issued_on=data["issued_on"],
                expires_on=None if data["permanent"] else data["expires_on"], brand=data["brand"],
                products=data["product_nos"], files=data["documents"], actor=request.user, renews=renews,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Certificate submitted. You will be told the review result by e-mail."))
            return redirect("portal:certificates", shop_no=shop.shop_no)
    return render(request, "portal/certificate_form.html", _context(
        request, scope, shop, tab="certificates", form=form, renews=renews),
        status=400 if request.method == "POST" else 200)


@merchant_view
def certificate_file(request, scope, pk):
    return _file(scope.qualification_documents().select_related("qualification"), pk,
                 lambda f: f"{f.qualification.number}-{f.pk}")


@merchant_view
@require_http_methods(["GET", "POST"])
def alliance(request, scope, shop_no):
    """The Selected Alliance: status, every criterion with its reason, and
    the application (SPEC §8)."""
    shop = scope.shop(shop_no)
    if request.method == "POST":
        try:
            alliance_apply(shop=shop, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Application submitted. You will be told the decision by e-mail."))
            return redirect("portal:alliance", shop_no=shop.shop_no)
    membership, eligibility = alliance_summary(shop)
    _materials, missing = settlement_materials(shop)
    policy = PolicySettings.load()
    closures = list(membership.closures.select_related("ticket").order_by("-created_at")) if membership.pk else []
    return render(request, "portal/alliance.html", _context(
        request, scope, shop, tab="alliance", membership=membership, eligibility=eligibility, missing=missing,
        closures=closures, counted=counted_closures(membership), limit=policy.alliance_max_closures,
        review_days=policy.alliance_review_working_days,
        trend=score_trend(shop)), status=400 if request.method == "POST" else 200)


@merchant_view
def messages_inbox(request, scope):
    """The message centre: every notice sent to this merchant, newest first."""
    kind = request.GET.get("kind", "")
    inbox = scope.messages().select_related("shop").order_by("-created_at", "-id")
    if kind in Message.Kind.values:
        inbox = inbox.filter(kind=kind)
    shops = scope.shops()
    return render(request, "portal/messages.html", _context(
        request, scope, shops[0] if shops else None, tab="messages", kind=kind, kinds=Message.Kind.choices,
        **_page(request, inbox)))


@merchant_view
@require_http_methods(["POST"])
def message_open(request, scope, pk):
    """Mark one message read and follow its link (or back to the inbox)."""
    message = scope.messages().filter(pk=pk).first()
    if message is None:
        raise Http404
    if message.read_at is None:
        scope.messages().filter(pk=pk, read_at=None).update(read_at=timezone.now())
    target = message.link if message.link.startswith(settings.SITE_URL) else ""
    return redirect(target[len(settings.SITE_URL):] if target else "portal:messages")


@merchant_view
@require_http_methods(["POST"])
def messages_read_all(request, scope):
    scope.messages().filter(read_at=None).update(read_at=timezone.now())
    messages.success(request, _("All messages are marked read."))
    return redirect("portal:messages")
