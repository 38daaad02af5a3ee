"""What every ModelAdmin of the project inherits (STYLE §10): big tables stay
fast by construction."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connections
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from .identifiers import normalize_identifier


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except for an unfiltered changelist of a large table on
    PostgreSQL, where ``COUNT(*)`` is a full scan: there the planner's estimate
    (``pg_class.reltuples``) is shown instead. A never-analysed table reports
    -1 (PostgreSQL 14+) and a small one is cheap to count, so both are counted."""

    @cached_property
    def count(self):
        estimate = self._estimate()
        if estimate is not None and estimate >= settings.ADMIN_ESTIMATED_COUNT_THRESHOLD:
            return estimate
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


class BaseModelAdmin(admin.ModelAdmin):
    """Every ModelAdmin of the project derives from this.

    - no second COUNT for "N total" and no facet counts;
    - an estimated count on large unfiltered PostgreSQL tables;
    - foreign keys must use autocomplete or raw-id widgets (system check
      shops.E001), never a <select> that loads a whole table;
    - ``list_select_related`` must be set explicitly (shops.E002);
    - ``identifier_search_fields``: identifiers searched after normalisation
      (spaces out, upper case), case-sensitively so that PostgreSQL can use its
      ``LIKE 'x%'`` index: ``"prefix"`` for public numbers (shop ID, USCC),
      ``"exact"`` for personal ones, so that nobody can discover a resident ID
      digit by digit through the search box.
    """

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    list_per_page = 50
    identifier_search_fields: dict[str, str] = {}

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

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not self.identifier_search_fields or not term:
            return super().get_search_results(request, queryset, search_term)
        normalized = normalize_identifier(term)
        matches = Q()
        for field, how in self.identifier_search_fields.items():
            lookup = "startswith" if how == "prefix" else "exact"
            matches |= Q(**{f"{field}__{lookup}": normalized})
        if not self.search_fields:
            return queryset.filter(matches), False
        text_qs, may_have_duplicates = super().get_search_results(request, queryset, term)
        return queryset.filter(matches) | text_qs, may_have_duplicates


def valid_pk(model, value) -> bool:
    """Whether ``value`` is a primary key the database can be asked about."""
    return valid_value(model._meta.pk, value)


def valid_value(field, value) -> bool:
    """Whether the database can be asked about ``value`` in ``field``."""
    try:
        pk = field.to_python(value)
    except ValidationError:
        return False
    if isinstance(pk, int):
        low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
        return (low is None or pk >= low) and (high is None or pk <= high)
    return pk is not None
