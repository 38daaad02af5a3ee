from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_base import (
    BaseModelAdmin, SearchShape, badge, money_column, shop_id_prefix, shop_label, short_time, truncated,
)
from .formats import money
from .identifiers import mask_identifier
from .models import (
    VIEW_PERSONAL_DATA, Controller, Product, ProviderBinding, ServiceProvider, Shop, ShopDailyOrders, ShopMember,
    ShopScore,
)
from .uploads import attachment_response

MASKED = "masked_"
SETTLEMENT_INDIVIDUAL = _("Settlement: individual")
SETTLEMENT_CORPORATE = _("Settlement: individual business or enterprise")


class PersonalDataAdminMixin:
    """SPEC §3: identifiers are shown masked to anyone without the "view
    personal data" permission — in lists always, in forms unless permitted.
    ``masked_<field>`` is a read-only display available for every field named
    in ``personal_data_fields``; private files are simply left out."""

    personal_data_fields: tuple[str, ...] = ()
    personal_file_fields: tuple[str, ...] = ()

    def __getattr__(self, name):
        field_name = name.removeprefix(MASKED)
        if name.startswith(MASKED) and field_name in type(self).personal_data_fields:

            def display(obj):
                return mask_identifier(getattr(obj, field_name))

            display.short_description = self.model._meta.get_field(field_name).verbose_name
            return display
        raise AttributeError(name)

    def can_view_personal_data(self, request):
        return request.user.has_perm(VIEW_PERSONAL_DATA)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.can_view_personal_data(request):
            return fieldsets
        hidden = set(self.personal_file_fields)
        swapped = {f: MASKED + f for f in self.personal_data_fields}
        return [
            (title, {**opts, "fields": [swapped.get(f, f) for f in opts["fields"] if f not in hidden]})
            for title, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.can_view_personal_data(request):
            readonly += [MASKED + f for f in self.personal_data_fields]
        return readonly


class PrivateFileWidget(forms.ClearableFileInput):
    """Links a stored private file to the admin's permission-checked download
    view instead of a public URL (private files have none)."""

    def is_initial(self, value):
        return bool(value and getattr(value, "name", None) and getattr(value, "instance", None))

    def format_value(self, value):
        if self.is_initial(value):
            url = reverse("admin:shops_shop_document", args=[value.instance.pk, value.field.name])
            return _FileLink(url, gettext("download the file on record"))
        return value


class _FileLink:
    def __init__(self, url, label):
        self.url, self.label = url, label

    def __str__(self):
        return self.label


@admin.register(Controller)
class ControllerAdmin(PersonalDataAdminMixin, BaseModelAdmin):
    list_display = ("name", "kind", "masked_id_number", "masked_uscc", "barred_at", "created_at")
    list_filter = ("kind", ("barred_at", admin.EmptyFieldListFilter))
    list_select_related = ()
    search_shapes = (
        SearchShape(r"\d{17}[\dX]", ("id_number", "uscc")),  # a whole resident ID or USCC: exact only
        SearchShape(r"[0-9A-HJ-NPQRTUWXY]{2,18}", ("uscc__startswith",)),
        SearchShape(r".+", ("name__icontains",), normalise=False),
    )
    search_help_text = _("Unified social credit code (from the start), a whole resident ID, or the name.")
    search_fields = ("name",)  # for the autocomplete widgets; the search itself follows search_shapes
    sortable_by = ("name",)
    personal_data_fields = ("id_number", "uscc")
    fields = ("name", "kind", "id_number", "uscc", "barred_at", "barred_reason", "created_at")
    readonly_fields = ("barred_at", "barred_reason", "created_at")


class DepositTopUpFilter(admin.SimpleListFilter):
    """SPEC §6.4: below the required amount the shop is flagged for top-up."""

    title = _("deposit")
    parameter_name = "deposit"

    def lookups(self, request, model_admin):
        return [("short", _("below the required amount")), ("ok", _("at or above the required amount"))]

    def queryset(self, request, queryset):
        short = Q(deposit_balance__lt=F("required_deposit"))
        if self.value() == "short":
            return queryset.filter(short)
        if self.value() == "ok":
            return queryset.exclude(short)
        return queryset


class FlaggedForReviewFilter(admin.SimpleListFilter):
    """SPEC §6.5: another shop of the controller was cleared."""

    title = _("flagged for review")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("flagged for review"))]

    def queryset(self, request, queryset):
        return queryset.filter(review_flagged_at__isnull=False) if self.value() == "yes" else queryset


@admin.register(Shop)
class ShopAdmin(PersonalDataAdminMixin, BaseModelAdmin):
    list_display = (
        "shop_no", "name_display", "status_display", "controller_display", "shop_type",
        "experience_score", "balance_display", "required_display",
    )
    list_display_links = ("shop_no", "name_display")
    list_filter = ("status", "shop_type", "entity_type", DepositTopUpFilter, FlaggedForReviewFilter)
    list_select_related = ("controller",)
    search_shapes = (
        SearchShape(r"[0-9A-HJ-NPQRTUWXY]{18}", ("uscc", "shop_no__startswith")),
        SearchShape(r"\d{1,20}", ("shop_no__startswith",)),
        SearchShape(r"(?=.*[A-Z])[0-9A-HJ-NPQRTUWXY]{2,17}", ("uscc__startswith",)),
        SearchShape(r".+", ("name__icontains",), normalise=False),
    )
    search_help_text = _("Shop ID (from the start), unified social credit code, or words of the shop name.")
    search_fields = ("shop_no", "name")  # for the autocomplete widgets; the search follows search_shapes
    sortable_by = ("shop_no",)
    autocomplete_fields = ("controller",)
    personal_data_fields = ("id_card_number", "bank_card_number", "uscc")
    personal_file_fields = ("id_card_front", "id_card_back")
    readonly_fields = ("status", "suspended_until", "ended_at", "exit_kind", "review_flagged_at",
                       "balance_display", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ["shop_no", "name", "controller", "entity_type", "shop_type"]}),
        (_("Standing"), {"fields": ["status", "suspended_until", "ended_at", "exit_kind",
                                    "review_flagged_at", "experience_score", "balance_display",
                                    "required_deposit"]}),
        (SETTLEMENT_INDIVIDUAL, {"fields": ["id_card_number", "id_card_front", "id_card_back",
                                            "bank_card_number"]}),
        (SETTLEMENT_CORPORATE, {"fields": [
            "company_name", "uscc", "business_term_start", "business_term_end", "business_address"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    )

    @admin.display(description=_("name"))
    def name_display(self, obj):
        return truncated(obj.name, "10em")

    @admin.display(description=_("status"))
    def status_display(self, obj):
        if obj.status == Shop.Status.SUSPENDED and obj.suspended_until:
            label = _("suspended until %(date)s") % {"date": short_time(obj.suspended_until, date_only=True)}
            return badge(obj.status, label)
        return badge(obj.status, obj.get_status_display())

    @admin.display(description=_("controller"))
    def controller_display(self, obj):
        return truncated(obj.controller.name, "8em")

    @admin.display(description=_("deposit balance"))
    def balance_display(self, obj):
        """The balance, and — where it is short of the required deposit — by how much, in words too."""
        if not obj.needs_deposit_top_up:  # SPEC §6.4: an ended shop is not asked to top up
            return money(obj.deposit_balance)
        short = gettext("%(amount)s short of the required deposit") % {"amount": money(obj.deposit_short)}
        return format_html('{} <span class="badge st-final" title="{}">{}</span>', money(obj.deposit_balance),
                           short, gettext("To be paid"))

    required_display = money_column("required_deposit", _("required deposit"))

    def get_fieldsets(self, request, obj=None):
        # An existing shop shows only the settlement section of its entity type.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        hide = SETTLEMENT_INDIVIDUAL if obj.is_corporate else SETTLEMENT_CORPORATE
        return [fs for fs in fieldsets if fs[0] != hide]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.personal_file_fields:
            kwargs["widget"] = PrivateFileWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_urls(self):
        return [
            path(
                "<int:pk>/document/<str:field>/",
                self.admin_site.admin_view(self.document_view),
                name="shops_shop_document",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request, pk, field):
        if field not in self.personal_file_fields:
            raise Http404
        if not (self.has_view_permission(request) and self.can_view_personal_data(request)):
            raise PermissionDenied
        shop = Shop.objects.filter(pk=pk).first()
        stored = getattr(shop, field, None)
        if not stored:
            raise Http404
        return attachment_response(stored, download_stem=f"{shop.shop_no}-{field}")


@admin.register(ShopMember)
class ShopMemberAdmin(BaseModelAdmin):
    list_display = ("user", "shop", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "shop")
    search_shapes = (
        SearchShape(r"\d{1,20}", ("shop__shop_no__startswith",)),
        SearchShape(r".+", ("user__username__icontains",), normalise=False),
    )
    search_help_text = _("Shop ID (from the start) or the user name.")
    autocomplete_fields = ("user", "shop")
    readonly_fields = ("created_at",)


@admin.register(Product)
class ProductAdmin(BaseModelAdmin):
    list_display = ("product_no", "title_display", "shop_display", "category", "brand", "price", "status")
    list_filter = ("status",)
    list_select_related = ("shop",)
    search_shapes = (
        SearchShape(r"\d{1,20}", ("product_no__startswith",)),
        SearchShape(r".+", ("title__icontains",), normalise=False),
    )
    search_help_text = _("Product ID (from the start) or words of the title.")
    sortable_by = ("product_no",)
    autocomplete_fields = ("shop",)
    readonly_fields = ("status", "created_at")

    @admin.display(description=_("title"), ordering="title")
    def title_display(self, obj):
        return truncated(obj.title, "16em")

    @admin.display(description=_("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop, "14em")


@admin.register(ShopScore)
class ShopScoreAdmin(BaseModelAdmin):
    """The imported history of experience scores (import_experience_scores): read-only."""

    list_display = ("shop_display", "day", "score", "imported_at")
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)
    search_shapes = (SearchShape(r"\d{1,20}", (shop_id_prefix(),)),)
    search_help_text = _("Shop ID, from the start.")
    sortable_by = ("day",)

    @admin.display(description=_("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop, "14em")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceProvider)
class ServiceProviderAdmin(BaseModelAdmin):
    """Industry-belt service providers (SPEC §9). Their certification changes
    only through the renewal results and requests (compliance)."""

    list_display = ("name", "status", "certified_on", "converted_on", "deposit_display", "deposit_paid_on")
    list_filter = ("status",)
    list_select_related = ()
    sortable_by = ("name",)  # providers number in the thousands at most
    search_fields = ("name",)
    readonly_fields = ("status", "revoked_at", "created_at")
    deposit_display = money_column("deposit_paid", _("deposit paid (CNY)"))

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProviderBinding)
class ProviderBindingAdmin(BaseModelAdmin):
    list_display = ("provider", "shop_display", "starts_on", "ends_on")
    list_filter = ("provider",)
    list_select_related = ("provider", "shop")
    raw_id_fields = ("provider", "shop")
    search_shapes = (SearchShape(r"\d{1,20}", (shop_id_prefix(),)),)
    search_help_text = _("Shop ID, from the start.")
    sortable_by = ("starts_on",)  # the indexed order (binding_starts)

    @admin.display(description=_("shop"))
    def shop_display(self, obj):
        return shop_label(obj.shop, "14em")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShopDailyOrders)
class ShopDailyOrdersAdmin(ShopScoreAdmin):
    """Imported by import_orders: read-only."""

    list_display = ("shop_display", "day", "paid_orders", "gift_orders")


# Third-party and contrib admins adopt the project's base as well.
admin.site.unregister(User)
admin.site.unregister(Group)
for model in (AccessAttempt, AccessLog, AccessFailureLog):
    admin.site.unregister(model)


@admin.register(User)
class ProjectUserAdmin(BaseModelAdmin, UserAdmin):
    list_select_related = ()
    sortable_by = ("username",)  # unique: indexed


@admin.register(Group)
class ProjectGroupAdmin(BaseModelAdmin, GroupAdmin):
    list_select_related = ()
    sortable_by = ("name",)


@admin.register(AccessAttempt)
class ProjectAccessAttemptAdmin(BaseModelAdmin, AccessAttemptAdmin):
    list_select_related = ()


@admin.register(AccessLog)
class ProjectAccessLogAdmin(BaseModelAdmin, AccessLogAdmin):
    list_select_related = ()


@admin.register(AccessFailureLog)
class ProjectAccessFailureLogAdmin(BaseModelAdmin, AccessFailureLogAdmin):
    list_select_related = ()
