"""Appeals (SPEC §7): a merchant submits, an appeal reviewer decides."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.calendar import add_working_days
from compliance.exceptions import AppealNotAllowed, DomainError, FourEyesViolation, InvalidTransition, NotPermitted
from compliance.models import Appeal, AppealEvidence, Event, PolicySettings, Ticket
from compliance.notifications import notify_appeal_decided
from compliance.selectors.tickets import appeal_block_reason, appeal_days_left, chances  # noqa: F401 (re-exported)
from compliance.wording import person
from shops.models import ShopMember
from shops.uploads import original_name

from .claims import claims_settle
from .events import transition
from .locks import lock_ticket
from .tickets import ticket_revoke


def appeal_submit(*, ticket: Ticket, actor, reason: str, statement: str, files=(),
                  now: datetime.datetime | None = None) -> Appeal:
    reason, statement = (reason or "").strip(), (statement or "").strip()
    if not reason:
        raise DomainError(_("Say in one line why the ticket is wrong."))
    if not statement:
        raise DomainError(_("Explain your appeal in the statement."))
    limit = PolicySettings.load().appeal_statement_max_chars
    if len(statement) > limit:
        raise DomainError(_("The statement may be at most %(n)d characters.") % {"n": limit})
    try:
        with transaction.atomic():
            ticket, shop = lock_ticket(ticket.pk)
            if not ShopMember.objects.filter(shop=shop, user=actor).exists():
                raise NotPermitted(_("Only a member of the shop can appeal its tickets."))
            now = now or timezone.now()
            blocked = appeal_block_reason(ticket, now=now)
            if blocked:
                raise AppealNotAllowed(blocked)
            appeal = Appeal.objects.create(
                ticket=ticket, attempt=ticket.appeals.count() + 1, reason=reason, statement=statement,
                submitted_by=actor, submitted_at=now,
                due_at=add_working_days(now, PolicySettings.load().appeal_decision_working_days),
            )
            for upload in files:
                item = AppealEvidence(appeal=appeal, file=upload, original_name=original_name(upload))
                item.full_clean(exclude=["appeal"])
                item.save()
            transition(ticket, Ticket.Status.APPEALING, action=Event.Action.APPEAL_SUBMITTED, at=now, actor=actor,
                       shop=shop, ticket=ticket, reason=reason, data={"appeal": appeal.pk})
    except IntegrityError:
        # The one-open-appeal constraint caught a second submission that raced
        # past the status check (SPEC §7).
        raise AppealNotAllowed(
            _("An appeal is being decided; you can appeal again only if it is rejected.")) from None
    return appeal


def appeal_decide(*, appeal: Appeal, approve: bool, reason: str, actor,
                  now: datetime.datetime | None = None) -> Appeal:
    """Approve (the ticket is revoked) or reject (the ticket can be appealed
    again while chances and the window remain, else it is final)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the decision: the merchant reads it."))
    if not actor.has_perm("compliance.decide_appeal"):
        raise NotPermitted(_("Only appeal reviewers decide appeals."))
    with transaction.atomic():
        # Lock order: controller, shop, ticket (services.locks), then the appeal.
        ticket, shop = lock_ticket(appeal.ticket_id)
        appeal = Appeal.objects.select_for_update(no_key=True).get(pk=appeal.pk)
        if appeal.status != Appeal.Status.PENDING:
            raise InvalidTransition(
                _("%(who)s has already decided this appeal: %(status)s.")
                % {"status": appeal.get_status_display(), "who": person(appeal.decided_by)}
            )
        if ticket.issued_by_id == actor.pk:
            raise FourEyesViolation()
        now = now or timezone.now()
        claims_settle(Event.Subject.APPEAL, [appeal.pk], actor=actor, now=now)
        appeal.decided_by, appeal.decided_at, appeal.decision_reason = actor, now, reason
        transition(appeal, Appeal.Status.APPROVED if approve else Appeal.Status.REJECTED,
                   action=Event.Action.APPEAL_APPROVED if approve else Event.Action.APPEAL_REJECTED, at=now,
                   actor=actor, shop=shop, ticket=ticket, reason=reason, data={"appeal": appeal.pk},
                   fields=["decided_by", "decided_at", "decision_reason"])
        if approve:
            ticket_revoke(ticket=ticket, actor=actor, reason=reason, now=now)
        else:
            # SPEC §6.1: back to issued while chances and the window remain, else final.
            again = ticket.appeals.count() < chances(ticket) and now <= ticket.appeal_deadline
            transition(ticket, Ticket.Status.ISSUED if again else Ticket.Status.FINAL,
                       action=Event.Action.TICKET_REINSTATED if again else Event.Action.TICKET_FINAL, at=now,
                       actor=actor, shop=shop, ticket=ticket, reason=reason, data={"appeal": appeal.pk})
        notify_appeal_decided(appeal)
    return appeal
