"""Point nodes follow the year's total, not the ticket that crossed them
(SPEC §6.2).

A node is in force for a shop, class and year while that year's total
reaches it. Issuing a ticket that reaches new nodes applies the strictest of
them; every revocation re-evaluates the nodes against the remaining total and
lifts those no longer reached. What a node does is ``rules.node_effect``,
the same function the preview and the policy replay use. Callers hold the
shop's row lock."""

import datetime

from compliance import rules
from compliance.models import Event, Measure, NodeApplication, Ticket
from compliance.models.base import insert_rows
from compliance.selectors.assessment import Consequences
from compliance.selectors.standing import point_totals
from compliance.wording import node_lifted_text
from shops.models import Shop

from . import measures as m
from .deposits import deposit_deduct, deposit_refund_node
from .events import record_event, transition


def nodes_apply(c: Consequences, *, ticket: Ticket, actor) -> list[NodeApplication]:
    """Record every node the ticket reached and take the strictest one's
    measures; the others are in force under it (``subsumed_by``)."""
    if not c.node:
        return []
    fields = dict(shop=c.shop, violation_class=c.violation_class, year=c.year, ticket=ticket,
                  total_reached=c.total_after, applied_at=c.issued_at)
    first = NodeApplication.objects.create(node=c.node, **fields)
    applications = [first] + [NodeApplication.objects.create(node=node, subsumed_by=first, **fields)
                              for node in c.subsumed]
    _take_measures(first, c.node_effect, shop=c.shop, at=c.issued_at, actor=actor)
    record_event(shop=c.shop, ticket=ticket, actor=actor, action=Event.Action.NODE_APPLIED, at=c.issued_at,
                 subject=Event.Subject.NODE, subject_id=first.pk, to_status=first.status,
                 data={"nodes": [a.node.threshold for a in applications], "class": c.violation_class,
                       "year": c.year, "total": c.total_after, "applied": c.node.threshold,
                       "covered": c.node_effect.covered})
    return applications


def _take_measures(application: NodeApplication, effect: rules.NodeEffect, *, shop: Shop,
                   at: datetime.datetime, actor) -> None:
    """The node's own measures, linked to its application so that they are
    reversed with the node and never with the ticket that crossed it."""
    ticket = application.ticket
    if effect.covered:
        # SPEC §6.2, §6.5: one clearance. The ticket clears the shop itself — all its products, all
        # remaining deposit, the alliance for good — so the node's measures are recorded as covered by
        # it. The ticket cannot be revoked without taking the total below the node (a cleared shop gets
        # no later ticket), so they never stand on their own.
        own = Measure.objects.filter(ticket=ticket, node_application=None, kind=Measure.Kind.CLEAR).first()
        Measure.objects.bulk_create([
            m.new_measure(ticket=ticket, kind=kind, at=at, node_application=application,
                          details={"covered_by": own.pk if own else None, **extra}, status=Measure.Status.COVERED)
            for kind, extra in ((Measure.Kind.ALLIANCE_CLOSE, {"permanent": True}), (Measure.Kind.CLEAR, {}))])
        return
    requested = effect.charged(shop.deposit_balance)
    entry = deposit_deduct(shop=shop, requested=requested, ticket=ticket, actor=actor,
                           node_application=application)
    taken = []  # in one INSERT (fewer statements a ticket: bench/RESULTS.md)
    if entry:
        taken.append(m.new_measure(ticket=ticket, kind=Measure.Kind.DEPOSIT, at=at, node_application=application,
                                   amount=requested,
                                   details={"taken": str(-entry.amount), "shortfall": str(entry.shortfall)}))
    if effect.clear:
        taken.append(m.new_measure(ticket=ticket, kind=Measure.Kind.ALLIANCE_CLOSE, at=at,
                                   node_application=application, details={"permanent": True}))
    elif effect.suspend_ends_at and effect.suspend_ends_at > at:
        taken.append(m.new_measure(ticket=ticket, kind=Measure.Kind.SUSPEND, at=at, node_application=application,
                                   ends_at=effect.suspend_ends_at))
    insert_rows(taken)
    if effect.clear:
        m.clear_shop(ticket=ticket, shop=shop, at=at, actor=actor, node_application=application)


def nodes_reevaluate(*, shop: Shop, violation_class: str, year: int, revoked: Ticket, actor,
                     now: datetime.datetime) -> list[NodeApplication]:
    """After ``revoked`` is revoked: lift the nodes of its class and year that
    the remaining total no longer reaches (measures reversed, deduction
    refunded); nodes still reached keep their measures. Returns the lifted."""
    total = point_totals(shop, year)[violation_class]
    in_force = list(
        NodeApplication.objects.in_force()
        .filter(shop=shop, violation_class=violation_class, year=year)
        .select_related("node", "ticket")
    )
    lifted = [a for a in in_force if a.node.threshold > total]
    for application in lifted:
        application.lifted_at, application.lifted_by, application.total_after_lift = now, revoked, total
        reason = node_lifted_text(number=revoked.number, violation_class=violation_class, year=year, total=total,
                                  threshold=application.node.threshold)
        transition(application, NodeApplication.Status.LIFTED, action=Event.Action.NODE_LIFTED, at=now, actor=actor,
                   shop=shop, ticket=application.ticket, reason=str(reason),
                   fields=["lifted_at", "lifted_by", "total_after_lift"],
                   data={"node": application.node.threshold, "class": violation_class, "year": year,
                         "total": total, "revoked": revoked.number})
        m.reverse_measures(list(application.measures.all()), at=now)
        deposit_refund_node(shop=shop, application=application, actor=actor)
    # Nodes reached together with a stricter one that is now lifted: the
    # strictest of them takes its own measures, as if it had been the
    # strictest all along, and the others stay in force under it.
    lifted_ids = {a.pk for a in lifted}
    orphans = [a for a in in_force if a.pk not in lifted_ids and a.subsumed_by_id in lifted_ids]
    heir = rules.strictest([a.node for a in orphans])
    for application in orphans:
        promoted = application.node == heir
        application.subsumed_by = None if promoted else next(a for a in orphans if a.node == heir)
        application.save(update_fields=["subsumed_by"])
        if promoted:
            _take_measures(application, rules.node_effect(application.node, reached_at=application.applied_at),
                           shop=shop, at=now, actor=actor)
    return lifted
