from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Ledgers and the audit log: rows are added, never changed or removed.
    Corrections are new rows (a refund, a negative point entry)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only and cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only and cannot be deleted.")


class ViolationClass(models.TextChoices):
    A = "A", _("A · general violation")
    B = "B", _("B · serious violation")


class BilingualNameMixin:
    """``name`` in the active language, from ``name_zh`` / ``name_en``."""

    @property
    def name(self) -> str:
        language = (get_language() or "zh-hans").lower()
        return self.name_zh if language.startswith("zh") or not self.name_en else self.name_en
