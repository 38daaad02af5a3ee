"""What every ModelAdmin of the project inherits (STYLE §10): big tables stay
fast by construction."""

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils.functional import cached_property

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
