from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = _("Shops")

    def ready(self):
        # Imported once the app registry is ready (it registers the admin system check).
        from . import checks  # noqa: F401
