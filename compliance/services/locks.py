"""Row locks in one fixed order — controller, then shop, then ticket — so that
concurrent workflows on shops of the same controller queue up instead of
deadlocking (a clearance touches the controller and all its shops).

The locks are ``FOR NO KEY UPDATE``: they serialise the workflows as ``FOR
UPDATE`` would, but let other transactions insert rows that reference the
locked row (an event, a ledger entry: their foreign-key check takes a KEY
SHARE lock). With ``FOR UPDATE`` the daily job, holding ticket rows, waited
at commit for a shop an appeal had locked while the appeal waited for one of
those tickets: a deadlock (tests/compliance/services/test_concurrency.py)."""

from compliance.models import Ticket
from shops.models import Controller, Shop


def lock_shop(shop_id: int) -> Shop:
    # The controller's row first (found through the shop, locked alone), then
    # the shop's: two statements (bench/RESULTS.md, issuance).
    Controller.objects.select_for_update(of=("self",), no_key=True).filter(shops__id=shop_id).only("pk").get()
    return Shop.objects.select_for_update(of=("self",), no_key=True).select_related("controller").get(pk=shop_id)


def lock_ticket(ticket_id: int) -> tuple[Ticket, Shop]:
    shop_id = Ticket.objects.values_list("shop_id", flat=True).get(pk=ticket_id)
    shop = lock_shop(shop_id)
    return Ticket.objects.select_for_update(no_key=True).get(pk=ticket_id), shop
