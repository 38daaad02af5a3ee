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
    A = "A", _("A · General violation")
    B = "B", _("B · Serious violation")


def in_chinese() -> bool:
    """Whether the active language is Chinese (the default when none is)."""
    return (get_language() or "zh-hans").lower().startswith("zh")


def bilingual(zh: str, en: str) -> str:
    return zh if in_chinese() or not en else en


class BilingualNameMixin:
    """``name`` in the active language, from ``name_zh`` / ``name_en``."""

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)
