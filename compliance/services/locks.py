"""Row locks in one fixed order — controller, then shop, then ticket — so that
concurrent workflows on shops of the same controller queue up instead of
deadlocking (a clearance touches the controller and all its shops).

The locks are ``FOR NO KEY UPDATE``: they serialise the workflows as ``FOR
UPDATE`` would, but let other transactions insert rows that reference the
locked row (an event, a ledger entry: their foreign-key check takes a KEY
SHARE lock). With ``FOR UPDATE`` the daily job, holding ticket rows, waited
at commit for a shop an appeal had locked while the appeal waited for one of
those tickets: a deadlock (tests/compliance/services/test_concurrency.py)."""

from django.db import connection

from compliance.models import Ticket
from shops.models import Controller, Shop


# One statement locks both rows: PostgreSQL locks the rows of ``FOR NO KEY
# UPDATE OF a, b`` in the order the clause names them, so the controller's
# row is taken before the shop's (tests/compliance/services/
# test_concurrency.py proves the order). Written out because every ticket
# runs it: the ORM's select_for_update(of=…) with select_related took five
# times longer to assemble than this (bench/RESULTS.md, issuance).
LOCK_SHOP_SQL = (f"SELECT s.* FROM {Shop._meta.db_table} s JOIN {Controller._meta.db_table} c "
                 "ON c.id = s.controller_id WHERE s.id = %s")


def lock_shop(shop_id: int) -> Shop:
    """The shop, read under its controller's lock and its own (SQLite, which
    has no row locks, serialises whole transactions instead)."""
    sql = LOCK_SHOP_SQL + (" FOR NO KEY UPDATE OF c, s" if connection.features.has_select_for_update_of else "")
    shop = next(iter(Shop.objects.raw(sql, [shop_id])), None)
    if shop is None:
        raise Shop.DoesNotExist(f"No shop {shop_id}.")
    return shop


def lock_ticket(ticket_id: int) -> tuple[Ticket, Shop]:
    shop_id = Ticket.objects.values_list("shop_id", flat=True).get(pk=ticket_id)
    shop = lock_shop(shop_id)
    return Ticket.objects.select_for_update(no_key=True).get(pk=ticket_id), shop
