"""The deposit ledger (SPEC §6.4). Callers hold the shop's row lock: the
balance read and the entry written must not interleave with another write."""

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError
from compliance.models import DepositEntry
from shops.models import Shop

from .locks import lock_shop

# The shop's cached balance, written beside each ledger entry (every ticket
# that takes deposit): written out because the ORM took longer to assemble
# the UPDATE than to run it (bench/RESULTS.md, issuance). Portable SQL.
BALANCE_SQL = f"UPDATE {Shop._meta.db_table} SET deposit_balance = %s, updated_at = %s WHERE id = %s"
_BALANCE, _UPDATED = Shop._meta.get_field("deposit_balance"), Shop._meta.get_field("updated_at")


def _write(shop: Shop, *, kind, amount: Decimal, actor, ticket=None, node_application=None,
           requested=Decimal("0"), shortfall=Decimal("0"), note="") -> DepositEntry:
    shop.deposit_balance = shop.deposit_balance + amount
    entry = DepositEntry.objects.create(
        shop=shop, ticket=ticket, node_application=node_application, kind=kind, amount=amount,
        requested=requested, shortfall=shortfall, balance_after=shop.deposit_balance, actor=actor, note=note,
    )
    shop.updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(BALANCE_SQL, [_BALANCE.get_db_prep_save(shop.deposit_balance, connection),
                                     _UPDATED.get_db_prep_save(shop.updated_at, connection), shop.pk])
    return entry


def deposit_deduct(*, shop: Shop, requested: Decimal, ticket, actor, node_application=None) -> DepositEntry | None:
    """Take ``requested`` or whatever is left; the rest is recorded as shortfall.
    With ``node_application`` the deduction is the point node's, not the ticket's."""
    if requested <= 0:
        return None
    taken = min(requested, shop.deposit_balance)
    return _write(shop, kind=DepositEntry.Kind.DEDUCTION, amount=-taken, actor=actor, ticket=ticket,
                  node_application=node_application, requested=requested, shortfall=requested - taken)


def _taken(entries) -> Decimal:
    return -sum((e.amount for e in entries.filter(kind=DepositEntry.Kind.DEDUCTION)), Decimal("0"))


def deposit_refund_ticket(*, shop: Shop, ticket, actor) -> DepositEntry | None:
    """Give back what the ticket itself took (SPEC §6.4: only on revocation);
    a point node's deduction comes back only when the node is lifted."""
    taken = _taken(ticket.deposit_entries.filter(node_application__isnull=True))
    if taken <= 0:
        return None
    return _write(shop, kind=DepositEntry.Kind.REFUND, amount=taken, actor=actor, ticket=ticket,
                  note=_("refund of ticket %(number)s") % {"number": ticket.number})


def deposit_refund_node(*, shop: Shop, application, actor) -> DepositEntry | None:
    """Give back what a lifted point node took (SPEC §6.2, §6.4)."""
    taken = _taken(application.deposit_entries.all())
    if taken <= 0:
        return None
    return _write(shop, kind=DepositEntry.Kind.REFUND, amount=taken, actor=actor, ticket=application.ticket,
                  node_application=application,
                  note=_("refund of %(node)s") % {"node": application.label})


def deposit_top_up(*, shop: Shop, amount: Decimal, actor, note="") -> DepositEntry:
    """Record a merchant's payment into the deposit."""
    if amount <= 0:
        raise DomainError(_("A top-up must be a positive amount."))
    with transaction.atomic():
        shop = lock_shop(shop.pk)
        return _write(shop, kind=DepositEntry.Kind.TOP_UP, amount=amount, actor=actor, note=note)
