from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from config.db_router import read_alias
from compliance.exports import streaming_export
from compliance.models import Job, Rule, RuleTier, Ticket, TicketEvidence
from compliance.models.base import in_chinese
from compliance.selectors import shop_standing, ticket_measures, ticket_timeline
from compliance.wording import labelled, person
from compliance.services.tickets import REVOCABLE, ticket_issue, ticket_preview, ticket_revoke
from shops.admin_base import (
    BaseModelAdmin, money_column, shop_label, status_column, ticket_shapes, time_column, truncated, valid_pk,
)
from shops.uploads import attachment_response, preview_response

from .base import EvidenceInline, start_job
from .filters import IssuedByMeFilter, period_filter, rule_filter
from .forms import EvidenceForm, IssueTicketForm, RevokeForm, RulePickForm, ShopPickForm

EXPORT_HEADER = [
    gettext_lazy("ticket number"), gettext_lazy("shop ID"), gettext_lazy("shop"), gettext_lazy("rule"),
    gettext_lazy("tier"), gettext_lazy("class"), gettext_lazy("points"), gettext_lazy("deposit charged (CNY)"),
    gettext_lazy("status"), gettext_lazy("occurred at"), gettext_lazy("issued at"), gettext_lazy("issued by"),
    gettext_lazy("appeal deadline"),
]
EXPORT_COLUMNS = ("number", "shop__shop_no", "shop__name", "rule_snapshot", "violation_class", "points",
                  "deposit_amount", "status", "occurred_at", "issued_at", "issued_by__username", "appeal_deadline")


def export_rows(queryset):
    """The export's rows, read as they are written. Everything language-
    dependent is resolved now: a streamed response produces its rows after
    the view returned, when the request's language is no longer active."""
    statuses = {value: str(label) for value, label in Ticket.Status.choices}
    zh = in_chinese()
    alias = read_alias()
    # iterator(): PostgreSQL streams through a server-side cursor, SQLite
    # fetches in chunks; neither loads the whole result. Inside a
    # transaction the cursor also works through PgBouncer's transaction
    # pooling. Exports read from the replica when there is one.
    with transaction.atomic(using=alias):
        for (number, shop_no, shop_name, snap, cls, points, deposit, status, occurred, issued, by,
             deadline) in queryset.using(alias).iterator(chunk_size=2000):
            yield [number, shop_no, shop_name, snap.get("rule_name_zh" if zh else "rule_name_en"),
                   snap.get("tier_name_zh" if zh else "tier_name_en"), cls, points, deposit,
                   statuses.get(status, status), timezone.localtime(occurred),
                   timezone.localtime(issued), by, timezone.localtime(deadline)]


def job_export(user, query: str):
    """An export job's header, rows and row count: the ticket list as the
    query string filtered it, for that user, through the changelist's own
    filters (a request rebuilt from the query, never a second parser)."""
    request = HttpRequest()
    request.method, request.path = "GET", reverse("admin:compliance_ticket_changelist")
    request.GET, request.user = QueryDict(query), user
    model_admin = admin.site.get_model_admin(Ticket)
    if not model_admin.has_view_permission(request):
        raise PermissionDenied(_("You may no longer see tickets."))
    queryset = model_admin.export_queryset(request)
    return [str(h) for h in EXPORT_HEADER], export_rows(queryset), queryset.count()


class TicketEvidenceInline(EvidenceInline):
    model = TicketEvidence
    fields = readonly_fields = ("download", "kind_and_size", "uploader", "uploaded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=gettext_lazy("uploaded by"))
    def uploader(self, obj):
        return person(obj.uploaded_by)

    def download_url(self, obj):
        return reverse("admin:compliance_ticket_evidence", args=[obj.ticket_id, obj.pk])


@admin.register(Ticket)
class TicketAdmin(BaseModelAdmin):
    list_display = ("number", "status_display", "shop_display", "rule_display", "class_display", "points",
                    "deposit_display", "issued_display")
    list_filter = ("status", "violation_class", rule_filter(), period_filter("issued_at", gettext_lazy("issue date")),
                   IssuedByMeFilter)
    list_select_related = ("shop", "rule")
    search_shapes = ticket_shapes()
    search_help_text = gettext_lazy("Ticket number (WG…) or shop ID, from the start; or words of the shop name.")
    sortable_by = ("number", "issued_display")
    raw_id_fields = ("shop", "rule", "tier", "issued_by")
    inlines = [TicketEvidenceInline]
    actions = ["revoke_selected"]
    fieldsets = (
        (None, {"fields": ("number", "shop", "status", "rule_display", "tier_display", "violation_class", "points",
                           "point_year", "deposit_display", "order_count", "deposit_day")}),
        (gettext_lazy("Violation"), {"fields": ("description", "products_display", "occurred_at")}),
        (gettext_lazy("Issue and appeal"), {"fields": ("issued_at", "issued_by_display", "appeal_deadline",
                                                        "revoked_at", "revoke_reason")}),
    )
    readonly_fields = ("number", "shop", "status", "rule_display", "tier_display", "violation_class", "points",
                       "point_year", "deposit_display", "order_count", "deposit_day", "description",
                       "products_display", "occurred_at", "issued_at", "issued_by_display", "appeal_deadline",
                       "revoked_at", "revoke_reason")

    @admin.display(description=gettext_lazy("rule"))
    def rule_display(self, obj):
        return truncated(obj.rule_name, "11em")

    @admin.display(description=gettext_lazy("issued by"))
    def issued_by_display(self, obj):
        return person(obj.issued_by)

    issued_display = time_column("issued_at", gettext_lazy("issued at"), ordering="issued_at")
    status_display = status_column(gettext_lazy("status"))
    deposit_display = money_column("deposit_amount", gettext_lazy("deposit"))

    @admin.display(description=gettext_lazy("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop)

    @admin.display(description=gettext_lazy("class"), ordering="violation_class")
    def class_display(self, obj):
        return obj.violation_class

    @admin.display(description=gettext_lazy("tier"))
    def tier_display(self, obj):
        return obj.tier_name

    @admin.display(description=gettext_lazy("affected products"))
    def products_display(self, obj):
        return ", ".join(f"{p.product_no} {p.title}" for p in obj.products.all()) or "—"

    # Tickets are created by the issue view and changed only by services.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        """Used by the revoke action (permissions=["revoke"]) and the revoke view."""
        return request.user.has_perm("compliance.revoke_ticket")

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:compliance_ticket_issue") + (
            f"?shop={request.GET['shop']}" if request.GET.get("shop") else ""))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("issue/", wrap(self.issue_view), name="compliance_ticket_issue"),
            path("export/<str:fmt>/", wrap(self.export_view), name="compliance_ticket_export"),
            path("<int:pk>/revoke/", wrap(self.revoke_view), name="compliance_ticket_revoke"),
            path("<int:pk>/evidence/<int:evidence_pk>/", wrap(self.evidence_view), name="compliance_ticket_evidence"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        extra = {}
        if ticket is not None:
            extra = {
                "events": ticket_timeline(ticket),
                "measures": ticket_measures(ticket),
                "may_revoke": self.has_revoke_permission(request) and ticket.status in REVOCABLE,
                "pending_appeal": (ticket.appeals.filter(status="pending").first()
                                   if request.user.has_perm("compliance.decide_appeal") else None),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # Issue --------------------------------------------------------------------
    def issue_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": _("Issue ticket")}
        pick = ShopPickForm(request.GET or None)
        if not pick.is_valid():
            return TemplateResponse(request, "admin/compliance/ticket/issue_pick_shop.html", {**context, "form": pick})
        shop = pick.cleaned_data["shop"]
        # Step one: the rule. Step two lists only its tiers and the fields they can use.
        rule = self._chosen_rule(request)
        context.update(shop=shop, standing=shop_standing(shop))
        if rule is None:
            return TemplateResponse(request, "admin/compliance/ticket/issue_pick_rule.html",
                                    {**context, "form": RulePickForm(request.GET if "rule" in request.GET else None)})
        step = request.POST.get("step", "edit")
        form = IssueTicketForm(request.POST or None, shop=shop, rule=rule)
        evidence = EvidenceForm(request.POST or None, request.FILES or None)
        context.update(form=form, rule=rule, media=self.media + form.media,
                       products=shop.products.order_by("-id")[:20])
        if request.method != "POST" or step == "edit" or not form.is_valid():
            return TemplateResponse(request, "admin/compliance/ticket/issue.html", context)
        try:
            if step == "confirm" and evidence.is_valid() and self._evidence_settled(request, form, evidence):
                ticket = ticket_issue(shop=shop, actor=request.user, description=form.cleaned_data["description"],
                                      idempotency_key=form.cleaned_data["idempotency_key"],
                                      evidence=evidence.cleaned_data["evidence"], **form.service_kwargs())
                self.message_user(request, _("Ticket %(number)s issued.") % {"number": ticket.number},
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_ticket_change", args=[ticket.pk]))
            preview = ticket_preview(shop=shop, actor=request.user, description=form.cleaned_data["description"],
                                     **form.service_kwargs())
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return TemplateResponse(request, "admin/compliance/ticket/issue.html", context)
        context.update(preview=preview, evidence_form=evidence, hidden=form.hidden_copy(),
                       evidence_missing=step == "confirm" and evidence.is_valid())
        return TemplateResponse(request, "admin/compliance/ticket/issue_confirm.html", context)

    @staticmethod
    def _evidence_settled(request, form, evidence) -> bool:
        """Files are attached, or the reviewer chose to issue without any, or
        this is a second submission of a ticket already issued (it returns
        that ticket). Otherwise the confirmation page asks again."""
        if evidence.cleaned_data["evidence"] or request.POST.get("without_evidence") == "yes":
            return True
        return Ticket.objects.filter(idempotency_key=form.cleaned_data["idempotency_key"]).exists()

    @staticmethod
    def _chosen_rule(request):
        """The rule of the query (?rule=code) or of the submitted tier."""
        today = timezone.localdate()
        code = request.GET.get("rule") or request.POST.get("rule")
        if code:
            return Rule.objects.effective_on(today).filter(code=code).first()
        tier_pk = request.POST.get("tier", "")
        if valid_pk(RuleTier, tier_pk):
            tier = RuleTier.objects.select_related("rule").filter(pk=tier_pk).first()
            return tier.rule if tier else None
        return None

    # Revoke -------------------------------------------------------------------
    def revoke_view(self, request, pk):
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        ticket = Ticket.objects.filter(pk=pk).select_related("shop").first()
        if ticket is None:
            raise Http404
        return self._revoke(request, [ticket], reverse("admin:compliance_ticket_change", args=[pk]))

    @admin.action(description=gettext_lazy("Revoke selected tickets…"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        return self._revoke(request, list(queryset.select_related("shop")), request.get_full_path())

    def _revoke(self, request, tickets, done_url):
        form = RevokeForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            revoked = 0
            for ticket in tickets:
                try:
                    ticket_revoke(ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"])
                    revoked += 1
                except DomainError as exc:
                    self.message_user(request, labelled(ticket.number, exc.message), messages.ERROR)
            if revoked:
                self.message_user(request, _("%(n)d ticket(s) revoked; their effects were reversed.") % {"n": revoked},
                                  messages.SUCCESS)
            return HttpResponseRedirect(done_url)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": _("Revoke tickets"),
            "tickets": tickets, "form": form, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "is_action": "action" in request.POST,
        }
        return TemplateResponse(request, "admin/compliance/ticket/revoke.html", context)

    # Evidence and export ----------------------------------------------------------
    def evidence_view(self, request, pk, evidence_pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = TicketEvidence.objects.filter(pk=evidence_pk, ticket_id=pk).select_related("ticket").first()
        if item is None:
            raise Http404
        serve = preview_response if request.GET.get("inline") == "1" else attachment_response
        return serve(item.file, download_stem=f"{item.ticket.number}-{item.pk}")

    def export_view(self, request, fmt):
        if fmt not in ("csv", "xlsx"):
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.export_queryset(request)
        except (IncorrectLookupParameters, FieldError, ValidationError):
            # Bad filter parameters: back to the list, as the changelist itself does.
            return HttpResponseRedirect(reverse("admin:compliance_ticket_changelist") + "?e=1")
        # More rows than a request should carry: a job writes the file (SPEC §10).
        limit = settings.EXPORT_IN_REQUEST_ROWS
        if queryset[:limit + 1].count() > limit:
            return start_job(request, kind=Job.Kind.TICKET_EXPORT, title=fmt.upper(),
                             params={"fmt": fmt, "query": request.GET.urlencode()})
        return streaming_export(fmt, header=[str(h) for h in EXPORT_HEADER], rows=export_rows(queryset),
                                filename="tickets")

    def export_queryset(self, request):
        """The export's rows: the list as its filters and search select them."""
        return self.get_changelist_instance(request).get_queryset(request).values_list(*EXPORT_COLUMNS)


