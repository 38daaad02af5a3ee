"""Claims 领取 on queue items (SPEC §14): a reviewer takes an item for a
lease, renewed while they keep it open; nobody else decides it while the
lease runs, unless a compliance admin hands it over. Every change of a
claim is a declared transition with its Event.

Two reviewers claiming one item at once: the first INSERT wins; the second
fails on the ``claim_one_holder`` unique index (PostgreSQL makes it wait
for the first to commit) and is told who holds the item."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import shanghai
from compliance.exceptions import DomainError, NotPermitted
from compliance.models import Claim, Event, PolicySettings
from compliance.selectors.claims import QUEUES, Queue, holder_of
from compliance.wording import person

from .events import record_event, transition

Status = Claim.Status


class ClaimHeld(DomainError):
    """Someone else holds the item (their lease runs)."""

    def __init__(self, claim: Claim):
        super().__init__(_("Held by %(who)s since %(since)s (until %(until)s): ask a compliance admin to hand it "
                           "over, or take it once the claim ends.") % {
            "who": person(claim.holder), "since": shanghai(claim.claimed_at).strftime("%H:%M"),
            "until": shanghai(claim.leased_until).strftime("%H:%M")})
        self.claim = claim


def _lease(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(minutes=PolicySettings.load().claim_lease_minutes)


def _lookup(subject: str) -> Queue:
    queue = QUEUES.get(subject)
    if queue is None:
        raise DomainError(_("This is not an item of a reviewers' queue."))
    return queue


def _queue(subject: str, user) -> Queue:
    queue = _lookup(subject)
    if not user.has_perm(queue.permission):
        raise NotPermitted(_("Only reviewers who decide this queue's items can hold them."))
    return queue


def _open_item(queue: Queue, subject_id: int, now: datetime.datetime) -> dict:
    """The item's shop, if it is still to be decided; else a clear refusal."""
    fields = [queue.shop_field] if queue.shop_field else ["pk"]
    row = queue.model.objects.filter(queue.open(now), pk=subject_id).values(*fields).first()
    if row is None:
        raise DomainError(_("This item is no longer waiting for a decision."))
    return {"shop_id": row[queue.shop_field] if queue.shop_field else None}


def _end(claim: Claim, to: str, *, actor, now: datetime.datetime, reason: str = "") -> None:
    claim.ended_at, claim.ended_by = now, actor
    action = {Status.RELEASED: Event.Action.CLAIM_RELEASED, Status.DONE: Event.Action.CLAIM_DONE,
              Status.REASSIGNED: Event.Action.CLAIM_REASSIGNED, Status.LAPSED: Event.Action.CLAIM_LAPSED}[to]
    transition(claim, to, action=action, at=now, actor=actor, shop=claim.shop, reason=reason,
               data={"item": claim.subject, "id": claim.subject_id, "holder": claim.holder_id},
               fields=["ended_at", "ended_by"])


def _current(subject: str, subject_id: int) -> Claim | None:
    """The held claim (lease running or not), locked."""
    return (Claim.objects.select_for_update(of=("self",)).select_related("holder", "shop")
            .filter(subject=subject, subject_id=subject_id, status=Status.HELD).first())


def _take(queue: Queue, subject_id: int, holder, *, actor, now: datetime.datetime, shop_id) -> Claim:
    claim = Claim(subject=queue.subject, subject_id=subject_id, shop_id=shop_id, holder=holder, claimed_at=now,
                  leased_until=_lease(now))
    try:
        with transaction.atomic():  # a savepoint: the loser of a race is told, its transaction goes on
            claim.save(force_insert=True)
    except IntegrityError:
        winner = holder_of(queue.subject, subject_id)
        if winner is None:  # the winner ended it since: rare; the reviewer tries again
            raise DomainError(_("Someone claimed this item at the same moment: try again.")) from None
        raise ClaimHeld(winner) from None
    record_event(shop=claim.shop, action=Event.Action.CLAIM_TAKEN, at=now, actor=actor, subject=Event.Subject.CLAIM,
                 subject_id=claim.pk, to_status=Status.HELD,
                 data={"item": claim.subject, "id": subject_id, "holder": holder.pk})
    return claim


def claim_take(*, subject: str, subject_id: int, actor, now: datetime.datetime | None = None) -> Claim:
    """``actor`` claims the item: a new claim, or theirs renewed. A claim
    whose lease ran out ends (lapsed) and the item is taken."""
    now = now or timezone.now()
    queue = _queue(subject, actor)
    with transaction.atomic():
        item = _open_item(queue, subject_id, now)
        current = _current(subject, subject_id)
        if current is not None:
            if current.holder_id == actor.pk:
                current.leased_until = _lease(now)
                current.save(update_fields=["leased_until"])
                return current
            if current.leased_until > now:
                raise ClaimHeld(current)
            _end(current, Status.LAPSED, actor=actor, now=now)
        return _take(queue, subject_id, actor, actor=actor, now=now, shop_id=item["shop_id"])


def claim_renew(*, subject: str, subject_id: int, actor, now: datetime.datetime | None = None) -> Claim | None:
    """The claim in force on the item, or None. Its holder keeps the item
    open (its page, or the page's heartbeat): for them the lease starts
    again; nothing changes for anyone else."""
    now = now or timezone.now()
    claim = holder_of(subject, subject_id, now)
    if claim is not None and claim.holder_id == actor.pk:
        Claim.objects.filter(pk=claim.pk, status=Status.HELD).update(leased_until=_lease(now))
    return claim


def claim_release(*, subject: str, subject_id: int, actor, now: datetime.datetime | None = None) -> Claim:
    """The holder lets the item go; a compliance admin may end anyone's claim."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _current(subject, subject_id)
        if current is None or current.leased_until <= now and current.holder_id != actor.pk:
            raise DomainError(_("Nobody holds this item."))
        if current.holder_id != actor.pk and not actor.has_perm("compliance.reassign_claim"):
            raise NotPermitted(_("Only the reviewer who holds an item, or a compliance admin, can release it."))
        _end(current, Status.RELEASED, actor=actor, now=now)
    return current


def claim_reassign(*, subject: str, subject_id: int, to, actor, now: datetime.datetime | None = None) -> Claim:
    """A compliance admin hands the item to ``to`` (转交), whoever held it."""
    now = now or timezone.now()
    if not actor.has_perm("compliance.reassign_claim"):
        raise NotPermitted(_("Only compliance admins hand items to another reviewer."))
    queue = _lookup(subject)
    if not (to.is_active and to.has_perm(queue.permission)):
        raise DomainError(_("%(who)s does not decide this queue's items.") % {"who": person(to)})
    with transaction.atomic():
        item = _open_item(queue, subject_id, now)
        current = _current(subject, subject_id)
        if current is not None:
            if current.holder_id == to.pk and current.leased_until > now:
                return current
            _end(current, Status.REASSIGNED, actor=actor, now=now,
                 reason=_("Handed to %(who)s.") % {"who": person(to)})
        return _take(queue, subject_id, to, actor=actor, now=now, shop_id=item["shop_id"])


def claims_settle(subject: str, subject_ids, *, actor, now: datetime.datetime) -> None:
    """In a decision's transaction, before it is made (one item, or the
    products of one missing-qualification ticket): refused while someone
    else's claim runs; the decider's own claims end as decided, lapsed ones
    as lapsed. Deciding an unclaimed item needs no claim."""
    held = list(Claim.objects.select_for_update(of=("self",)).select_related("holder", "shop")
                .filter(subject=subject, subject_id__in=list(subject_ids), status=Status.HELD).order_by("id"))
    for claim in held:
        if claim.holder_id != actor.pk and claim.leased_until > now:
            raise ClaimHeld(claim)
    for claim in held:
        _end(claim, Status.DONE if claim.holder_id == actor.pk else Status.LAPSED, actor=actor, now=now)
