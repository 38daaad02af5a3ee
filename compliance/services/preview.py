"""The one way to preview a decision: do it for real, in a transaction that
is rolled back.

A preview computed a second way drifts from what issuing does — the bulk
warning preview once counted a point node's deduction twice, and the
missing-certificate preview missed what one ticket of a shop does to the
next. So every preview — a ticket, a batch of warnings, the tickets of the
missing-certificate queue — runs the real services, in order, inside
``dry_run``: a second ticket of a shop sees the first one's points, nodes and
daily cap; then everything is rolled back. Messages and e-mails wait for a
commit that never comes; nothing is written.

Chosen over a pure replay (services.insight replays a year of tickets for a
policy change, where issuing thousands for real would be too slow) because
it is exact by construction: the preview *is* the issue."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.db.models import Sum

from compliance.models import DepositEntry, Measure, NodeApplication, Ticket

T = TypeVar("T")


class _Rollback(Exception):
    pass


def dry_run(work: Callable[[], T]) -> T:
    """``work()``'s result, with everything it wrote rolled back. ``work``
    must read what the preview shows before it returns: after the rollback
    its rows are gone (``effect_of`` does that for a ticket)."""
    outcome = []
    try:
        with transaction.atomic():
            outcome.append(work())
            raise _Rollback
    except _Rollback:
        pass
    return outcome[0]


@dataclass
class TicketEffect:
    """What one ticket does, as issuing it did (read inside the dry run)."""

    ticket: Ticket
    consequences: object  # services.assessment.Consequences, or None for a ticket issued before
    deposit: Decimal = Decimal("0")  # taken from the deposit, a point node's deduction included
    measures: list = field(default_factory=list)  # their labels, in the order taken
    nodes: list = field(default_factory=list)  # labels of the point nodes it reached

    @property
    def clears(self) -> bool:
        return bool(self.consequences and self.consequences.shop_cleared)


def effect_of(ticket: Ticket) -> TicketEffect:
    """Read inside ``dry_run``: what issuing ``ticket`` took and did."""
    # The ticket's deductions, its point node's included (they name the ticket too).
    taken = DepositEntry.objects.filter(ticket=ticket).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    measures = [m.get_kind_display() for m in Measure.objects.filter(ticket=ticket, status=Measure.Status.ACTIVE)
                .exclude(kind=Measure.Kind.DEPOSIT).order_by("id")]
    nodes = [a.label for a in NodeApplication.objects.filter(ticket=ticket).select_related("node").order_by("id")]
    return TicketEffect(ticket=ticket, consequences=getattr(ticket, "consequences", None), deposit=-taken,
                        measures=measures, nodes=nodes)
