"""Qualification certificates in the admin (SPEC §4): the review queue with
its review, withdrawal and trademark-event views, the requirement matrix,
rectification notices, and the queue of products missing a certificate."""

import datetime
import secrets

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.models import (
    EventSubject, Job, PolicySettings, Qualification, QualificationDocument, QualificationGap, QualificationRequirement, QualificationType,
    RectificationNotice,
)
from compliance.models.qualifications import REVIEW_ORDER
from compliance.selectors import active_requirements, missing_for, missing_plan
from compliance.calendar import shanghai
from compliance.services.qualifications import (
    brand_products, missing_preview, missing_ticket_issue, qualification_review,
    qualification_type_save, qualification_withdraw, requirement_save, trademark_event, trademark_event_preview,
)
from shops.admin_base import (
    BaseModelAdmin, SafeChangeList, SearchShape, per_request, shop_id_prefix, shop_label, shop_shapes, short_time,
    status_column, time_column, time_left, truncated, valid_pk,
)
from shops.identifiers import is_digits, normalize_identifier
from shops.models import Product
from shops.uploads import attachment_response, preview_response

from .base import EvidenceInline, ReadOnlyAdmin, start_job
from .claims import ClaimFilter, ClaimQueueMixin

REVIEW = "compliance.review_qualification"


def _today():
    return shanghai(timezone.now()).date()


def _warn_until(request) -> datetime.date:
    """The last day of the policy's warning window, read once per request."""
    if not hasattr(request, "certificate_warn_until"):
        request.certificate_warn_until = _today() + datetime.timedelta(
            days=PolicySettings.load().certificate_warning_days)
    return request.certificate_warn_until


# The catalogue: types and requirements ---------------------------------------------------------

def _queue_checked(request, model_admin, counts):
    opened, resolved = counts
    model_admin.message_user(request, _("The missing-certificate queue was checked again: %(opened)d product(s) "
                                        "added, %(resolved)d resolved.") % {"opened": opened, "resolved": resolved},
                             messages.INFO)


@admin.register(QualificationType)
class QualificationTypeAdmin(BaseModelAdmin):
    list_display = ("name_zh", "english_name", "kind", "code", "position", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ()
    sortable_by = ("name_zh", "english_name", "kind", "code", "position")  # a few dozen rows
    ordering = ("position", "id")

    @admin.display(description=gettext_lazy("name (English)"), ordering="name_en")
    def english_name(self, obj):
        return truncated(obj.name_en, "18em")

    def save_model(self, request, obj, form, change):
        _queue_checked(request, self, qualification_type_save(qualification_type=obj))

    def has_delete_permission(self, request, obj=None):
        return False  # certificates refer to their type; deactivate instead


@admin.register(QualificationRequirement)
class QualificationRequirementAdmin(BaseModelAdmin):
    list_display = ("__str__", "accepted", "per_brand", "is_active", "note_display")
    list_filter = ("is_active", "per_brand")
    list_select_related = ()
    filter_horizontal = ("accepted_types",)
    fields = ("category", "shop_type", "accepted_types", "per_brand", "is_active", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("accepted_types")

    def save_model(self, request, obj, form, change):
        pass  # saved with its accepted types by the service (save_related)

    def save_related(self, request, form, formsets, change):
        _queue_checked(request, self, requirement_save(requirement=form.instance,
                                                       accepted_types=form.cleaned_data["accepted_types"]))

    @admin.display(description=gettext_lazy("accepted certificate types"))
    def accepted(self, obj):
        return truncated(_(" or ").join(str(t) for t in obj.accepted_types.all()), "24em")

    @admin.display(description=gettext_lazy("note"))
    def note_display(self, obj):
        return truncated(obj.note, "14em") if obj.note else "—"

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate a requirement instead: the queue's history stays explainable


# Certificates ----------------------------------------------------------------------------------

class ExpiringFilter(admin.SimpleListFilter):
    title = gettext_lazy("expires within")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [(str(n), gettext_lazy("%(n)d days") % {"n": n}) for n in (7, 30, 90)]

    def queryset(self, request, queryset):
        if self.value() not in {"7", "30", "90"}:
            return queryset
        today = _today()
        return queryset.filter(status=Qualification.Status.APPROVED, expires_on__gte=today,
                               expires_on__lte=today + datetime.timedelta(days=int(self.value())))


def _number_or_shop(value) -> Q:
    """Digits are a certificate number (CCC numbers are digits) or a shop ID:
    both are looked up through their own index on the certificate table."""
    return Q(number__startswith=value) | shop_id_prefix()(value)


_number_or_shop.lookup_path = "number"


class DocumentInline(EvidenceInline):
    model = QualificationDocument
    verbose_name_plural = gettext_lazy("certificate files")

    def download_url(self, obj):
        return reverse("admin:compliance_qualification_document", args=[obj.qualification_id, obj.pk])


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", gettext_lazy("Approve: the certificate is genuine, legible and matches the data")),
        ("reject", gettext_lazy("Reject: the merchant must submit it again")),
    ])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000, help_text=gettext_lazy("Required for a rejection; the merchant reads it."))


class WithdrawForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("The certificate is"), widget=forms.RadioSelect, choices=[
        (Qualification.Status.REVOKED, gettext_lazy("Revoked by the issuing authority")),
        (Qualification.Status.INVALIDATED, gettext_lazy("Invalidated (declared void, or found not genuine)")),
    ])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text=gettext_lazy("The merchant reads it with the rectification notice."))


class TrademarkForm(forms.Form):
    EVENTS = [
        ("acceptance_rejected", gettext_lazy("Trademark application rejected (acceptance notice void)")),
        ("registration_invalidated", gettext_lazy("Registered trademark declared invalid")),
        ("authorisation_withdrawn", gettext_lazy("Brand authorisation withdrawn")),
    ]
    event = forms.ChoiceField(label=gettext_lazy("Event"), widget=forms.RadioSelect, choices=EVENTS)
    details = forms.CharField(label=gettext_lazy("Details"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                              help_text=gettext_lazy("The merchant reads this on the ticket."))
    ban = forms.BooleanField(label=gettext_lazy("Ban the brand's products"), required=False)
    clear = forms.BooleanField(label=gettext_lazy("Clear the shop"), required=False,
                               help_text=gettext_lazy("Terminates the shop and bars its controller for good."))


@admin.register(Qualification)
class QualificationAdmin(ClaimQueueMixin, BaseModelAdmin):
    """The reviewers' certificate queue: under review first, oldest first."""

    claim_subject = Qualification.EVENT_SUBJECT
    decider_field = "reviewed_by"
    list_display = ("number_link", "type_display", "status_display", "shop_display", "expiry_display",
                    "submitted_display", "due_display", "holder_display")
    list_display_links = None
    list_filter = (ClaimFilter, "kind", "status", ExpiringFilter, "qualification_type")
    list_select_related = ("shop", "qualification_type", "reviewed_by")
    search_shapes = (
        SearchShape(r"\d{1,64}", (_number_or_shop,)),
        SearchShape(r"[0-9A-Z\-]*[A-Z][0-9A-Z\-]*", ("number__startswith",)),
        shop_shapes()[2],
    )
    search_help_text = gettext_lazy("Certificate number or shop ID, from the start; or words of the shop name.")
    sortable_by = ("submitted_display", "due_display")
    inlines = [DocumentInline]
    fields = readonly_fields = (
        "shop", "qualification_type", "kind", "number", "holder", "authority", "issued_on", "expires_on", "brand",
        "products_display", "renews", "status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at",
        "review_reason", "lapsed_at", "lapse_reason", "notice_display", "event_ticket")

    def get_queryset(self, request):
        queryset = self.model._default_manager.get_queryset().annotate(queue=REVIEW_ORDER)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["queue", "submitted_at", "id"]

    @admin.display(description=gettext_lazy("certificate number"))
    @per_request
    def number_link(self, obj, request):
        pending = obj.status == Qualification.Status.SUBMITTED and request.user.has_perm(REVIEW)
        url = reverse("admin:compliance_qualification_review" if pending else
                      "admin:compliance_qualification_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)

    status_display = status_column(gettext_lazy("status"), prefix="q-")
    submitted_display = time_column("submitted_at", gettext_lazy("submitted at"), ordering="submitted_at")

    # The target counts working days from the submission: sorted by it, the queue is in the same order.
    @admin.display(description=gettext_lazy("review due"), ordering="submitted_at")
    def due_display(self, obj):
        return time_left(obj.due_at) if obj.status == Qualification.Status.SUBMITTED else "—"

    @admin.display(description=gettext_lazy("certificate type"))
    def type_display(self, obj):
        return truncated(str(obj.qualification_type), "8.5em")

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop, "10em")

    @admin.display(description=gettext_lazy("valid until"))
    @per_request
    def expiry_display(self, obj, request):
        if obj.expires_on is None:
            return _("permanent")
        label = obj.expires_on.isoformat()
        # Expiring within the policy's warning window (SPEC §10) is marked in the list.
        if obj.status == Qualification.Status.APPROVED and obj.expires_on <= _warn_until(request):
            return format_html('<strong class="due-today">{}</strong>', label)
        return label

    @admin.display(description=gettext_lazy("products covered"))
    def products_display(self, obj):
        products = list(obj.products.all()[:50])
        if not products:
            return _("the whole shop")
        return format_html_join(mark_safe("<br>"), "{} {}", ((p.product_no, p.title) for p in products))

    @admin.display(description=gettext_lazy("rectification notice"))
    def notice_display(self, obj):
        notice = RectificationNotice.objects.filter(qualification=obj).first()
        if notice is None:
            return "—"
        url = reverse("admin:compliance_rectificationnotice_change", args=[notice.pk])
        return format_html('<a href="{}">{} · {}</a>', url, notice.get_status_display(),
                           notice.get_outcome_display() if notice.outcome else short_time(notice.deadline))

    def has_add_permission(self, request):
        return False  # merchants submit certificates in the portal

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the review and withdraw views

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/review/", wrap(self.review_view), name="compliance_qualification_review"),
            path("<int:pk>/withdraw/", wrap(self.withdraw_view), name="compliance_qualification_withdraw"),
            path("<int:pk>/trademark/", wrap(self.trademark_view), name="compliance_qualification_trademark"),
            path("<int:pk>/document/<int:document_pk>/", wrap(self.document_view),
                 name="compliance_qualification_document"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        q = self.get_object(request, object_id)
        may = request.user.has_perm(REVIEW) and q is not None
        extra = {
            "may_review": may and q.status == Qualification.Status.SUBMITTED,
            "may_withdraw": may and q.status == Qualification.Status.APPROVED,
            "may_trademark": may and q.status == Qualification.Status.APPROVED and q.kind == "brand"
            and request.user.has_perm("compliance.add_ticket"),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _certificate(self, request, pk, *, perm=REVIEW):
        if not request.user.has_perm(perm):
            raise PermissionDenied
        q = (Qualification.objects.select_related("shop", "qualification_type", "submitted_by", "renews__qualification_type")
             .prefetch_related("documents", "products").filter(pk=pk).first())
        if q is None:
            raise Http404
        return q

    def _page(self, request, template, title, q, form, **extra):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, "q": q, "form": form,
                   **extra}
        return TemplateResponse(request, f"admin/compliance/qualification/{template}.html", context)

    def review_view(self, request, pk):
        q = self._certificate(request, pk)
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                qualification_review(qualification=q, approve=form.cleaned_data["decision"] == "approve",
                                     reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Review recorded; the merchant is told by e-mail."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_qualification_changelist"))
            q.refresh_from_db()
        others = (Qualification.objects.filter(shop=q.shop_id).exclude(pk=q.pk).select_related("qualification_type")
                  .order_by("-submitted_at")[:10])
        notices = RectificationNotice.objects.filter(shop=q.shop_id, status=RectificationNotice.Status.OPEN
                                                     ).select_related("qualification__qualification_type")
        return self._page(request, "review", _("Review certificate"), q, form, others=others, notices=notices,
                          **self.decide_context(request, q.pk,
                                                waiting=q.status == Qualification.Status.SUBMITTED))

    def withdraw_view(self, request, pk):
        q = self._certificate(request, pk)
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                qualification_withdraw(qualification=q, status=form.cleaned_data["status"],
                                       reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Certificate withdrawn; a rectification notice was sent to the merchant."),
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_qualification_change", args=[q.pk]))
        return self._page(request, "withdraw", _("Withdraw certificate"), q, form)

    def trademark_view(self, request, pk):
        q = self._certificate(request, pk)
        if not request.user.has_perm("compliance.add_ticket"):
            raise PermissionDenied
        form = TrademarkForm(request.POST or None)
        preview = reason = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            reason = f"{dict(TrademarkForm.EVENTS)[data['event']]}：{data['details'].strip()}"
            event = {"qualification": q, "reason": reason, "ban": data["ban"], "clear": data["clear"],
                     "actor": request.user}
            try:
                # "Preview" shows what the ticket does (the page's first step); "Issue" issues it.
                if request.POST.get("step") == "preview":
                    preview = trademark_event_preview(**event)
                else:
                    ticket = trademark_event(**event)
                    self.message_user(request, _("Ticket %(number)s issued for the trademark event.")
                                      % {"number": ticket.number}, messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:compliance_ticket_change", args=[ticket.pk]))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return self._page(request, "trademark", _("Trademark event"), q, form, preview=preview, description=reason,
                          brand_products=brand_products(q).order_by("pk")[:50])

    def document_view(self, request, pk, document_pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = QualificationDocument.objects.select_related("qualification").filter(
            pk=document_pk, qualification_id=pk).first()
        if item is None:
            raise Http404
        serve = preview_response if request.GET.get("inline") == "1" else attachment_response
        return serve(item.file, download_stem=f"{item.qualification.number}-{item.pk}")


@admin.register(RectificationNotice)
class RectificationNoticeAdmin(ReadOnlyAdmin):
    list_display = ("certificate_display", "shop_display", "cause", "status_display", "opened_display",
                    "deadline_display", "outcome_display", "ticket_display")
    list_filter = ("status", "outcome", "cause")
    list_select_related = ("shop", "qualification__qualification_type", "ticket")
    search_shapes = shop_shapes()[1:]
    search_help_text = gettext_lazy("Shop ID from the start, or words of the shop name.")
    fields = readonly_fields = ("qualification", "shop", "cause", "opened_at", "deadline", "status", "closed_at",
                                "outcome", "ticket", "replacement", "relisted_at")
    status_display = status_column(gettext_lazy("status"), prefix="notice-")
    opened_display = time_column("opened_at", gettext_lazy("opened at"), ordering="opened_at")
    deadline_display = time_column("deadline", gettext_lazy("deadline"))
    sortable_by = ("opened_display",)

    @admin.display(description=gettext_lazy("certificate"))
    def certificate_display(self, obj):
        # The row's link to the notice (whose page links the certificate): a link inside it would nest.
        return truncated(f"{obj.qualification.qualification_type} {obj.qualification.number}", "9em")

    @admin.display(description=gettext_lazy("outcome"))
    def outcome_display(self, obj):
        return truncated(obj.get_outcome_display(), "7em") if obj.outcome else "—"


# The queue of products missing a certificate (商品资质缺失) ---------------------------------------

class GapChangeList(SafeChangeList):
    """After the page is read, what each row's product lacks now: one query
    for the page's shops' certificates, not one per row."""

    def get_results(self, request):
        super().get_results(request)
        products = [gap.product for gap in self.result_list]
        lacking = missing_for(products, _today(), active_requirements())
        for gap in self.result_list:
            gap.lacking = lacking.get(gap.product_id, [])


class CategoryFilter(admin.SimpleListFilter):
    """The categories the requirement matrix names (a short list), not every
    category a product has."""

    title = gettext_lazy("product category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(c, c) for c in sorted({r.category for r in active_requirements() if r.category})]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(product__category=self.value())
        return queryset


MAX_BATCH = 200


def issue_form_context(ids: str, complaint: bool, serious: bool, effects: int, clearing: list[str]) -> dict:
    """What the issue page's two forms carry (the page itself, or a preview job's); ``clearing``: the
    shops the tickets clear, stated again beside the button that issues them."""
    return {"ids": ids, "complaint": complaint, "serious": serious, "effects": effects, "clearing": clearing,
            "issue_url": reverse("admin:compliance_qualificationgap_issue")}


@admin.register(QualificationGap)
class QualificationGapAdmin(ClaimQueueMixin, BaseModelAdmin):
    """The queue 商品资质缺失: products on sale that the last check found
    without a required certificate, newest first; tickets in one step."""

    claim_subject = EventSubject.GAP
    decider_field = None
    list_display = ("product_display", "shop_display", "category_display", "missing_display", "found_display",
                    "holder_display", "issue_link")
    list_display_links = None
    list_select_related = ("product__shop",)
    list_filter = (ClaimFilter, "shop__shop_type", CategoryFilter)
    raw_id_fields = ("product", "shop", "ticket")
    search_shapes = (shop_shapes()[2],)
    search_help_text = gettext_lazy("Product ID or shop ID, from the start; or words of the shop name.")
    actions = ["issue_tickets"]
    sortable_by = ("found_display",)
    fields = readonly_fields = ("product", "shop", "found_at", "resolved_at", "ticket")
    found_display = time_column("found_at", gettext_lazy("found at"), ordering="found_at")

    def get_queryset(self, request):
        # Open gaps of products still on sale (another ticket may have delisted one since the check).
        return (QualificationGap.objects.open().filter(product__status=Product.Status.ON_SALE)
                .order_by("-found_at", "-id"))

    def get_search_results(self, request, queryset, search_term):
        # A product ID and a shop ID look alike: match either, each found first through its own index.
        term = normalize_identifier(search_term)
        if is_digits(term):
            products = list(Product.objects.filter(product_no__startswith=term).values_list("pk", flat=True)[:500])
            return queryset.filter(Q(product_id__in=products) | shop_id_prefix()(term)), False
        return super().get_search_results(request, queryset, search_term)

    def get_changelist(self, request, **kwargs):
        return GapChangeList

    @admin.display(description=gettext_lazy("product"))
    def product_display(self, obj):
        return truncated(f"{obj.product.title} · {obj.product.product_no}", "14em")

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return shop_label(obj.product.shop, "12em")

    @admin.display(description=gettext_lazy("category"))
    def category_display(self, obj):
        return " · ".join(filter(None, [obj.product.category, obj.product.brand])) or "—"

    @admin.display(description=gettext_lazy("missing"))
    def missing_display(self, obj):
        lacking = getattr(obj, "lacking", None)
        if lacking == []:
            return _("resolved since the check")
        return truncated(_("; ").join(_(" or ").join(str(t) for t in r.types) for r in lacking or []), "13em")

    @admin.display(description="")
    @per_request
    def issue_link(self, obj, request):
        if not request.user.has_perm("compliance.add_ticket") or not getattr(obj, "lacking", None):
            return ""
        url = reverse("admin:compliance_qualificationgap_issue") + "?" + urlencode({"ids": obj.product_id})
        return format_html('<a class="button" href="{}">{}</a>', url, _("Issue ticket"))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("compliance.add_ticket"):
            actions.pop("issue_tickets", None)
        return actions

    @admin.action(description=gettext_lazy("Issue tickets for the selected products"))
    def issue_tickets(self, request, queryset):
        ids = list(queryset.values_list("product_id", flat=True)[:MAX_BATCH + 1])
        if len(ids) > MAX_BATCH:
            self.message_user(request, _("Choose at most %(n)d products at a time.") % {"n": MAX_BATCH},
                              messages.ERROR)
            return None
        url = reverse("admin:compliance_qualificationgap_issue") + "?" + urlencode({"ids": ",".join(map(str, ids))})
        return HttpResponseRedirect(url)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("issue/", self.admin_site.admin_view(self.issue_view), name="compliance_qualificationgap_issue"),
                *super().get_urls()]

    def issue_view(self, request):
        """The preview of what the tickets would do, then one submission
        issues them (SPEC §4: one step from the queue). ``ids`` are product
        ids; each is checked again against the certificates now."""
        if not (request.user.has_perm("compliance.add_ticket") and self.has_view_permission(request)):
            raise PermissionDenied
        params = request.POST if request.method == "POST" else request.GET
        raw = [v for v in params.get("ids", "").split(",") if v.strip()]
        changelist = reverse("admin:compliance_qualificationgap_changelist")
        if not raw or len(raw) > MAX_BATCH or not all(valid_pk(Product, v) for v in raw):
            self.message_user(request, _("Choose the products again (at most %(n)d).") % {"n": MAX_BATCH},
                              messages.ERROR)
            return HttpResponseRedirect(changelist)
        circumstances = {"complaint": params.get("complaint") == "1",
                                "especially_serious": params.get("serious") == "1"}
        if len(raw) > settings.BULK_IN_REQUEST_ITEMS:
            # More products than a page should wait for: the preview, and the issuing, are jobs (SPEC §10).
            confirm = request.method == "POST" and params.get("confirm") == "1"
            return start_job(request, kind=Job.Kind.MISSING_ISSUE if confirm else Job.Kind.MISSING_PREVIEW,
                             title=str(len(raw)), params={
                                 "ids": raw, "complaint": circumstances["complaint"],
                                 "serious": circumstances["especially_serious"],
                                 "token": params.get("token", "")[:32] or secrets.token_hex(8)})
        now = timezone.now()
        try:
            plan = missing_plan(raw, today=_today(), at=now, **circumstances)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(changelist)
        if not plan.products:
            self.message_user(request, _("None of these products is missing a certificate any more."),
                              messages.WARNING)
            return HttpResponseRedirect(changelist)
        if request.method == "POST" and params.get("confirm") == "1":
            tickets, errors = missing_ticket_issue(groups=plan.groups, lacking=plan.lacking, actor=request.user,
                                                   token=params.get("token", "")[:32] or secrets.token_hex(8), now=now)
            for error in errors:
                self.message_user(request, error, messages.ERROR)
            if tickets:
                self.message_user(request, _("%(n)d ticket(s) issued: %(numbers)s") % {
                    "n": len(tickets), "numbers": ", ".join(t.number for t in tickets)}, messages.SUCCESS)
            return HttpResponseRedirect(changelist)
        preview = missing_preview(plan=plan, actor=request.user, now=now)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": _("Issue tickets for missing certificates"), "token": secrets.token_hex(8),
            "preview": preview, "rows": preview.rows,
            **issue_form_context(plan.ids, plan.complaint, plan.especially_serious, len(preview.effects),
                                 preview.clearing_labels),
        }
        return TemplateResponse(request, "admin/compliance/qualificationgap/issue.html", context)
