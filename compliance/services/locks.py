"""Row locks in one fixed order — controller, then shop, then ticket — so that
concurrent workflows on shops of the same controller queue up instead of
deadlocking (a clearance touches the controller and all its shops)."""

from compliance.models import Ticket
from shops.models import Controller, Shop


def lock_shop(shop_id: int) -> Shop:
    # The controller's row first (found through the shop, locked alone), then
    # the shop's: two statements (bench/RESULTS.md, issuance).
    Controller.objects.select_for_update(of=("self",)).filter(shops__id=shop_id).only("pk").get()
    return Shop.objects.select_for_update(of=("self",)).select_related("controller").get(pk=shop_id)


def lock_ticket(ticket_id: int) -> tuple[Ticket, Shop]:
    shop_id = Ticket.objects.values_list("shop_id", flat=True).get(pk=ticket_id)
    shop = lock_shop(shop_id)
    return Ticket.objects.select_for_update().get(pk=ticket_id), shop
