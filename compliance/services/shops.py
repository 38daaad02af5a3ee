"""Opening shops under the platform's re-entry rule (SPEC §3).

Re-entry is a compliance rule about a shop's controller, so it lives in
compliance (selectors.shops reads it) and not in ``shops``: the ``shops``
app only knows who the parties are."""

from django.db import transaction
from django.utils import timezone

from compliance.models import Event
from compliance.selectors.shops import add_months, check_reentry, reentry_allowed_from  # noqa: F401 (re-exported)
from shops.models import Controller, Shop

from .events import record_event


def shop_create(*, controller: Controller, actor, **fields) -> Shop:
    """Open a shop for a controller, enforcing re-entry (SPEC §3)."""
    with transaction.atomic():
        # Lock the controller so that a bar or an exit recorded concurrently is
        # seen before the new shop is written (check-then-act under one lock).
        controller = Controller.objects.select_for_update(no_key=True).get(pk=controller.pk)
        check_reentry(controller)
        shop = Shop(controller=controller, **fields)
        shop.full_clean()
        shop.save()
        record_event(shop=shop, actor=actor, action=Event.Action.SHOP_CREATED, subject=Event.Subject.SHOP,
                     subject_id=shop.pk, to_status=shop.status, at=timezone.now())
    return shop
