"""What every ModelAdmin of the project inherits (STYLE §10): big tables stay
fast by construction."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connections
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .formats import money
from .identifiers import normalize_identifier
from .models import Shop
from .numbers import BIGINT_MAX, whole_number_or_none


class EstimatedCountPaginator(Paginator):
    """Never a full ``COUNT(*)`` of a big table:

    - an unfiltered changelist of a large PostgreSQL table shows the planner's
      estimate (``pg_class.reltuples``); a never-analysed table (-1) or a
      small one is counted;
    - a filtered or searched list counts at most ``ADMIN_COUNT_CAP`` + 1 rows
      (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``): past the cap the list says
      "1,000+" and pages up to there, which is as far as anyone pages.
    """

    capped = False

    @cached_property
    def count(self):
        estimate = self._estimate()
        if estimate is not None and estimate >= settings.ADMIN_ESTIMATED_COUNT_THRESHOLD:
            return estimate
        query = getattr(self.object_list, "query", None)
        if query is not None and (query.where or query.distinct):
            cap = settings.ADMIN_COUNT_CAP
            counted = self.object_list[: cap + 1].count()
            self.capped = counted > cap
            return min(counted, cap)
        return super().count

    def _estimate(self) -> int | None:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.distinct or query.combinator:
            return None  # filtered (or not a queryset): only a real count is right
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
        if row is None or row[0] is None or row[0] < 0:
            return None
        return int(row[0])


@dataclass(frozen=True)
class SearchShape:
    """One way of reading what was typed in the search box (STYLE §18):
    when the (normalised) term matches ``pattern`` in full, the list is
    filtered by ``lookups`` — all on one table, each backed by an index."""

    pattern: str
    lookups: tuple  # lookups ("number__startswith") or callables value -> Q
    normalise: bool = True  # identifiers: NFKC, no spaces, upper case

    def matches(self, term: str) -> str | None:
        value = normalize_identifier(term) if self.normalise else term.strip()
        return value if value and re.fullmatch(self.pattern, value) else None

    def q(self, value) -> Q:
        matches = Q()
        for lookup in self.lookups:
            matches |= lookup(value) if callable(lookup) else Q(**{lookup: value})
        return matches


SHOP_IDS_CAP = 500


def shops_named(path: str):
    """``<path>_id`` among the shops whose name contains the words. The shops
    are found first (a trigram index on PostgreSQL): a few hundred ids make a
    selective filter the planner serves through the foreign-key index, where a
    join would walk the big table newest first looking for rare matches. A
    term that matches more shops than that is common enough for the join."""

    def lookup(value) -> Q:
        ids = list(Shop.objects.filter(name__icontains=value).values_list("pk", flat=True)[:SHOP_IDS_CAP + 1])
        if len(ids) > SHOP_IDS_CAP:
            return Q(**{f"{path}__name__icontains": value})
        return Q(**{f"{path}_id__in": ids})

    lookup.lookup_path = f"{path}__name"
    return lookup


def shop_id_prefix(path: str = "shop"):
    """``<path>_id`` among the shops whose ID starts with the digits typed:
    the shops are found first through their own index, then the big table
    through its foreign-key index (a join would walk the big table)."""

    def lookup(value) -> Q:
        ids = Shop.objects.filter(shop_no__startswith=value).values_list("pk", flat=True)[:SHOP_IDS_CAP]
        return Q(**{f"{path}_id__in": list(ids)})

    lookup.lookup_path = f"{path}__shop_no"
    return lookup


# The shapes most lists share: a ticket number, a shop ID, words of a shop name.
def ticket_shapes(prefix: str = "") -> tuple[SearchShape, ...]:
    """``prefix`` is the path to the ticket ("" on the ticket itself)."""
    return (
        SearchShape(r"WG[0-9A-Z]*", (f"{prefix}number__startswith",)),
        SearchShape(r"\d{1,20}", (f"{prefix}shop__shop_no__startswith",)),
        SearchShape(r".+", (shops_named(f"{prefix}shop"),), normalise=False),
    )


def shop_shapes(shop: str = "shop__") -> tuple[SearchShape, ...]:
    return (
        SearchShape(r"WG[0-9A-Z]*", ("ticket__number__startswith",)),
        SearchShape(r"\d{1,20}", (f"{shop}shop_no__startswith",)),
        SearchShape(r".+", (shops_named(shop.rstrip("_")),), normalise=False),
    )


class _ValidChoicesOnly:
    """Django's autocomplete widget queries the submitted value as it is, so a
    re-displayed form with ``shop=abc`` crashes while rendering. Values that
    are not ids of the related model are dropped before that query."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        value = [v for v in value if v in ("", None) or valid_value(target, v)]
        return super().optgroups(name, value, attr)


class SafeAutocompleteSelect(_ValidChoicesOnly, widgets.AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidChoicesOnly, widgets.AutocompleteSelectMultiple):
    pass


class SafeChangeList(ChangeList):
    """Django's changelist, ordered only by the columns ``sortable_by`` names:
    ``sortable_by`` hides the other headers, but ``?o=<n>`` would still sort a
    million rows by an unindexed column. Indexes outside it are dropped from
    the ordering parameter (the default order stays); the page is the same."""

    def get_ordering(self, request, queryset):
        raw = self.params.get(ORDER_VAR)
        if not raw:
            return super().get_ordering(request, queryset)
        names = [entry if isinstance(entry, str) else getattr(entry, "__name__", None) for entry in self.list_display]
        allowed = {str(i) for i, name in enumerate(names) if self.sortable_by is None or name in self.sortable_by}
        kept = [part for part in str(raw).split(".") if part.rpartition("-")[2] in allowed]
        params = self.params
        self.params = {**params, ORDER_VAR: ".".join(kept)} if kept else {
            key: value for key, value in params.items() if key != ORDER_VAR}
        try:
            return super().get_ordering(request, queryset)
        finally:
            self.params = params


def per_request(column):
    """A list column that needs the request — the user's permissions, the
    time — as ``column(self, obj, request)``. One ModelAdmin instance serves
    every request, so nothing of a request may be kept on it; instead
    ``BaseModelAdmin.get_list_display`` binds each request's own column."""
    column.per_request = True
    return column


DISPLAY_ATTRIBUTES = ("short_description", "admin_order_field", "boolean", "empty_value_display")


class BaseModelAdmin(admin.ModelAdmin):
    """Every ModelAdmin of the project derives from this.

    - no second COUNT for "N total" and no facet counts;
    - an estimated count on large unfiltered PostgreSQL tables;
    - foreign keys must use autocomplete or raw-id widgets (system check
      shops.E001), never a <select> that loads a whole table;
    - ``list_select_related`` must be set explicitly (shops.E002);
    - a filtered list counts up to a cap ("1,000+");
    - ``search_shapes``: the search is shaped by what was typed (a ticket
      number, a shop ID, words of a name), one index-backed branch each, never
      one OR across joined tables. Identifiers are normalised (NFKC, spaces
      out, upper case) and matched case-sensitively so PostgreSQL can use its
      ``LIKE 'x%'`` index; personal numbers match only exactly, so that nobody
      can discover a resident ID digit by digit through the search box;
    - ``sortable_by`` lists only columns with an index;
    - bad filters, selections and widget values are messages, not 500s.
    """

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    list_per_page = 50
    search_shapes: tuple[SearchShape, ...] = ()
    # No column sorts unless the admin names it (with an index behind it).
    sortable_by: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def get_list_display(self, request):
        return tuple(self._bound(entry, request) for entry in super().get_list_display(request))

    def _bound(self, entry, request):
        method = getattr(self, entry, None) if isinstance(entry, str) else None
        if not getattr(method, "per_request", False):
            return entry

        def column(obj):
            return method(obj, request)

        column.__name__ = entry
        for name in DISPLAY_ATTRIBUTES:
            if hasattr(method, name):
                setattr(column, name, getattr(method, name))
        return column

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changelist_instance(self, request):
        """A filter the database cannot evaluate (a year out of range, a
        malformed value) sends the reviewer back to the whole list with a
        message, as Django does for an unknown filter — never a 500."""
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError, ValidationError, DatabaseError) as exc:
            self.message_user(request, _("The filter in the address was not understood; showing the whole list."),
                              messages.WARNING)
            raise IncorrectLookupParameters(exc) from exc

    def response_action(self, request, queryset):
        """Refuse a selection that is not made of ids before any query runs."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(valid_pk(self.model, value) for value in selected):
            self.message_user(request, _("The selected rows are not valid; choose them again."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def get_search_fields(self, request):
        # Django shows the search box when there are search fields.
        if self.search_shapes:
            return tuple(getattr(lookup, "lookup_path", lookup) for shape in self.search_shapes
                         for lookup in shape.lookups)
        return super().get_search_fields(request)

    def get_search_results(self, request, queryset, search_term):
        if not self.search_shapes or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        for shape in self.search_shapes:
            value = shape.matches(search_term)
            if value is not None:
                return queryset.filter(shape.q(value)), False
        return queryset.none(), False


def badge(value: str, label) -> str:
    """A status as a coloured badge (admin-extra.css: .badge.st-<value>)."""
    return format_html('<span class="badge st-{}">{}</span>', value, label)


def truncated(text, width: str = "14em") -> str:
    """Long text on one line, cut with an ellipsis; the whole text on hover."""
    return format_html('<span class="truncate" style="max-width: {}" title="{}">{}</span>', width, text, text)


def short_time(moment, *, date_only: bool = False) -> str:
    """Times in lists: 2026-11-22 20:17 (Shanghai), one format in both languages."""
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")


def time_left(due, *, pending: bool = True, now=None) -> str:
    """A queue item's service target (SPEC §14) as the time left — "2 d
    left", "5 h left", "3 h overdue" — with its date on hover; a decided
    item's target is only its date."""
    if due is None:
        return "—"
    label = short_time(due)
    if not pending:
        return label
    seconds = (due - (now or timezone.now())).total_seconds()
    hours = int(abs(seconds) // 3600)
    if seconds < 0:
        left = (_("%(h)d h overdue") % {"h": hours} if hours < 48
                else _("%(d)d d overdue") % {"d": hours // 24})
        return format_html('<strong class="overdue" title="{}">{}</strong>', label, left)
    if hours < 24:
        return format_html('<strong class="due-today" title="{}">{}</strong>', label,
                           _("%(h)d h left") % {"h": hours})
    return format_html('<span title="{}">{}</span>', label, _("%(d)d d left") % {"d": hours // 24})


def shop_label(shop, width: str = "10em") -> str:
    """A shop in a list: name and ID on one line within ``width``; a long
    name is cut, never the ID (reviewers search by it; defect #3)."""
    return format_html('<span class="shop-label" title="{} · {}"><span class="truncate" style="max-width: calc({} - '
                       '5.6em)">{}</span> · {}</span>', shop.name, shop.shop_no, width, shop.name, shop.shop_no)


# List columns (one line a row at 1280 px): each factory makes an admin
# display method for one model field.

def money_column(field: str, description, *, empty=None):
    """An amount as ¥10,000.00; ``empty`` (if given) where the field is None."""

    @admin.display(description=description)
    def column(self, obj):
        value = getattr(obj, field)
        return empty if value is None and empty is not None else money(value)

    return column


def time_column(field: str, description, *, ordering: str | None = None, empty: str = "—"):
    """A time as 2026-11-22 20:17 (Shanghai); ``empty`` where there is none."""

    @admin.display(description=description, ordering=ordering)
    def column(self, obj):
        value = getattr(obj, field)
        return short_time(value) if value else empty

    return column


def status_column(description, *, prefix: str = ""):
    """The ``status`` field as a coloured badge; ``prefix`` gives a model's
    statuses colours of their own (a revoked certificate is bad news, a
    revoked ticket good news)."""

    @admin.display(description=description)
    def column(self, obj):
        return badge(f"{prefix}{obj.status}", obj.get_status_display())

    return column


def valid_pk(model, value) -> bool:
    """Whether ``value`` is a primary key the database can be asked about."""
    return valid_value(model._meta.pk, value)


def valid_value(field, value) -> bool:
    """Whether the database can be asked about ``value`` in ``field``: an
    integer column takes a whole number within its range (``whole_number``)."""
    low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
    if field.get_internal_type().endswith(("IntegerField", "AutoField")):
        return whole_number_or_none(value, low=low if low is not None else -BIGINT_MAX,
                                    high=high if high is not None else BIGINT_MAX) is not None
    try:
        return field.to_python(value) is not None
    except ValidationError:
        return False
