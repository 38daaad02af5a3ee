"""Violation warnings (SPEC §11) as reviewers read them: a shop's
warnings, their deadlines in words, and what dismissing many would do."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import ViolationWarning
from compliance.models.warnings import QUEUE_ORDER
from shops.models import Shop


@dataclass
class ShopEffect:
    """What confirming the chosen warnings would do to one shop."""

    shop: Shop
    warnings: list = field(default_factory=list)
    points: dict = field(default_factory=lambda: {"A": 0, "B": 0})
    deposit: Decimal = Decimal("0")
    measures: list = field(default_factory=list)  # labels, in order
    nodes: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (warning, message)
    clears: bool = False

    @property
    def measures_text(self) -> str:
        return _(", ").join(self.measures)


def deadline_text(warning: ViolationWarning) -> str:
    """The time to answer ends, as every message writes it (Shanghai)."""
    return timezone.localtime(warning.deadline).strftime("%Y-%m-%d %H:%M")


def warnings_to_decide(ids) -> list:
    """The warnings of a bulk decision, in the order the preview and the
    decision take them (shop by shop, oldest first)."""
    return list(ViolationWarning.objects.filter(pk__in=list(ids)).select_related("shop", "rule", "tier")
                .order_by("shop_id", "detected_at", "id"))


def warnings_dismiss_preview(*, warnings, now: datetime.datetime | None = None) -> list[ShopEffect]:
    """Dismissing changes no standing: the preview lists, per shop, what can
    be dismissed and what cannot yet, and why."""
    now = now or timezone.now()
    effects: dict[int, ShopEffect] = {}
    for warning in warnings:
        effect = effects.setdefault(warning.shop_id, ShopEffect(shop=warning.shop))
        if warning.is_decided:
            effect.refused.append((warning, _("Already decided: %(status)s.")
                                   % {"status": warning.get_status_display()}))
        elif not warning.decidable(now):
            effect.refused.append((warning, _("The merchant can still answer until %(deadline)s.")
                                   % {"deadline": deadline_text(warning)}))
        else:
            effect.warnings.append(warning)
    return list(effects.values())


def shop_warnings(shop, *, limit: int = 10) -> list:
    """The shop page's warnings: those still to be decided first."""
    return list(ViolationWarning.objects.filter(shop=shop).select_related("rule").annotate(queue=QUEUE_ORDER)
                .order_by("queue", "-received_at")[:limit])
