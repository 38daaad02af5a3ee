"""System checks that keep every ModelAdmin on the project's base (STYLE §10)."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core import checks
from django.db import models

from .admin_base import BaseModelAdmin


@checks.register(checks.Tags.admin)
def check_model_admins(app_configs=None, **kwargs):
    errors = []
    for model, model_admin in admin.site._registry.items():
        label = f"{type(model_admin).__module__}.{type(model_admin).__name__}"
        if not isinstance(model_admin, BaseModelAdmin):
            errors.append(
                checks.Error(f"{label} does not derive from BaseModelAdmin.", obj=model_admin, id="shops.E003")
            )
            continue
        widgets = (
            set(model_admin.autocomplete_fields)
            | set(model_admin.raw_id_fields)
            | set(model_admin.readonly_fields)
            | set(model_admin.filter_horizontal)
            | set(model_admin.filter_vertical)
            | set(model_admin.exclude or ())
        )
        if model_admin.fieldsets:
            listed = set(flatten_fieldsets(model_admin.fieldsets))
        else:
            listed = set(model_admin.fields) if model_admin.fields else None
        for field in model._meta.get_fields():
            if not (isinstance(field, (models.ForeignKey, models.ManyToManyField)) and field.editable):
                continue
            if isinstance(field, models.ManyToManyField) and not field.remote_field.through._meta.auto_created:
                continue  # a through model is never edited in the parent's form
            if field.name in widgets or (listed is not None and field.name not in listed):
                continue
            errors.append(
                checks.Error(
                    f"{label}: foreign key '{field.name}' needs autocomplete_fields or raw_id_fields.",
                    obj=model_admin,
                    id="shops.E001",
                )
            )
        has_fk = any(isinstance(f, models.ForeignKey) for f in model._meta.concrete_fields)
        if has_fk and model_admin.list_select_related is False:
            errors.append(
                checks.Error(f"{label}: set list_select_related explicitly.", obj=model_admin, id="shops.E002")
            )
    return errors
