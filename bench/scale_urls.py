"""The project's URLs plus a second admin site at /stock-admin/ with a stock
``ModelAdmin`` for every model of ours, for side-by-side measurements."""

from django.contrib import admin
from django.db import models
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

stock_site = admin.AdminSite(name="stock")

# The date drill-down a stock admin of these tables would offer.
DATE_HIERARCHY = {"compliance.Ticket": "issued_at", "compliance.Event": "created_at"}


def stock_admin_for(model, ours):
    """A plain ModelAdmin showing the same columns, filters and searches."""
    field_names = {f.name for f in model._meta.get_fields() if not f.auto_created or f.concrete}
    display = []
    for item in ours.list_display:
        if item in field_names:
            display.append(item)
        else:
            order = getattr(getattr(ours, item, None), "admin_order_field", None)
            if isinstance(order, str) and order.split("__")[0] in field_names:
                display.append(order.split("__")[0])
    filters = []
    for item in ours.list_filter:
        name = item[0] if isinstance(item, tuple) else item
        if isinstance(name, str) and name.split("__")[0] in field_names:
            filters.append(name)
    # The landed admin searched every identifier (prefix) and text field with one OR.
    searches = [f"^{path}" for path in getattr(ours, "identifier_search_fields", {})] + list(ours.search_fields)
    for shape in getattr(ours, "search_shapes", ()):
        for lookup in shape.lookups:
            lookup = getattr(lookup, "lookup_path", lookup)
            searches.append(("^" + lookup.rsplit("__", 1)[0]) if lookup.endswith("__startswith")
                            else lookup.removesuffix("__icontains"))
    attrs = {
        "list_display": display or ["__str__"],
        "list_filter": filters,
        "search_fields": searches,
        "ordering": ours.ordering or model._meta.ordering or None,
        "date_hierarchy": DATE_HIERARCHY.get(model._meta.label),
        "raw_id_fields": [f.name for f in model._meta.fields if isinstance(f, models.ForeignKey)],
        # Django's own templates: ours link to views only our site has.
        "change_form_template": "admin/change_form.html",
        "change_list_template": "admin/change_list.html",
    }
    return type(f"Stock{model.__name__}Admin", (admin.ModelAdmin,), attrs)


for _model, _ours in admin.site._registry.items():
    stock_site.register(_model, stock_admin_for(_model, _ours))

urlpatterns = [path("stock-admin/", stock_site.urls), *project_urlpatterns]
