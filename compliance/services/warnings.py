"""Detectors' violation warnings (SPEC §11): received through the API, answered
by the merchant, confirmed into a ticket or dismissed by a reviewer."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance.calendar import shanghai
from compliance.exceptions import DomainError, InvalidTransition, NotPermitted
from compliance.models import Event, Integration, Rule, ViolationWarning, WarningAnswerFile
from compliance.notifications import (
    notify_warning_dismissed, notify_warnings_closing, notify_warnings_opened, to_tell,
)
from compliance.selectors.shops import within
from compliance.selectors.warnings import ShopEffect, deadline_text, warnings_dismiss_preview  # noqa: F401
from compliance.wording import person
from shops.models import Product, Shop, ShopMember
from shops.uploads import original_name

from .claims import claims_settle
from .events import journal, new_event, new_numbers, transition, transition_many
from .locks import lock_shop
from .preview import dry_run, effect_of
from .tickets import ticket_issue



# Receiving ---------------------------------------------------------------------------------------

@dataclass
class RowResult:
    index: int
    outcome: str  # "created", "duplicate" or "rejected"
    warning: ViolationWarning | None = None
    errors: dict = field(default_factory=dict)  # field -> [messages]


def _rules_by_code(codes: set[str], today: datetime.date) -> dict[str, Rule]:
    rules = Rule.objects.effective_on(today).filter(code__in=codes).prefetch_related("tiers")
    return {rule.code: rule for rule in rules}


def warnings_receive(*, integration: Integration, rows: list[dict], indexes: list[int] | None = None,
                     now: datetime.datetime | None = None) -> list[RowResult]:
    """A detector's batch, already checked for shape (the API's serializer):
    each row is validated against the data — shop, rule, tier, products,
    orders — and valid rows are written together; a row whose report ID was
    received before comes back as that warning, unchanged (SPEC §11). Rows
    are dicts with shop, rule, tier (optional), report_id, summary,
    detected_at, order_nos, product_nos, evidence. ``indexes`` are the rows'
    positions in the batch as sent (the API leaves out rows it refused for
    their shape)."""
    now = now or timezone.now()
    today = shanghai(now).date()
    indexes = list(range(len(rows))) if indexes is None else list(indexes)
    results = [RowResult(index=index, outcome="rejected") for index in indexes]
    shops = {s.shop_no: s for s in Shop.objects.filter(shop_no__in={r["shop"] for r in rows})}
    rules = _rules_by_code({r["rule"] for r in rows}, today)
    product_nos = {n for r in rows for n in r.get("product_nos") or ()}
    products = {p.product_no: p for p in Product.objects.filter(product_no__in=product_nos)} if product_nos else {}
    # A report received before comes back as it is, whatever this copy says.
    received = {w.report_id: w for w in ViolationWarning.objects.filter(
        integration=integration, report_id__in={r["report_id"] for r in rows}).select_related(
        "shop", "rule", "tier", "ticket")}
    first_row: dict[str, int] = {}
    candidates = []
    for i, row in enumerate(rows):
        # A report ID repeated in the batch is refused on every row after its
        # first, whether or not the first is new: a resubmission of the batch
        # gives each row the outcome it had the first time.
        if row["report_id"] in first_row:
            results[i].errors = {"report_id": [_("The same report ID is on row %(row)d of this batch.")
                                               % {"row": indexes[first_row[row["report_id"]]]}]}
            continue
        first_row[row["report_id"]] = i
        if row["report_id"] in received:
            results[i].outcome, results[i].warning = "duplicate", received[row["report_id"]]
            continue
        errors: dict[str, list] = defaultdict(list)
        shop, rule = shops.get(row["shop"]), rules.get(row["rule"])
        if shop is None:
            errors["shop"].append(_("No shop with ID %(shop)s.") % {"shop": row["shop"]})
        elif not shop.is_trading:  # a shop that can no longer be penalised gets no warning
            errors["shop"].append(_("Shop %(shop)s is %(status)s: it gets no warnings.")
                                  % {"shop": shop.shop_no, "status": shop.get_status_display()})
        tier = None
        if rule is None:
            errors["rule"].append(_("No rule with code %(code)s is in effect.") % {"code": row["rule"]})
        else:
            tiers = sorted(rule.tiers.all(), key=lambda t: (t.position, t.pk))
            tier = next((t for t in tiers if t.code == row.get("tier")), None) if row.get("tier") else (tiers[0] if tiers else None)
            if tier is None:
                errors["tier"].append(_("Rule %(rule)s has no tier %(tier)s.") % {"rule": rule.code,
                                                                                  "tier": row["tier"]})
            elif tier.per_order and not row.get("order_nos"):
                errors["order_nos"].append(_("This tier counts confirmed orders: list the orders concerned."))
        found = []
        for product_no in row.get("product_nos") or ():
            product = products.get(product_no)
            if product is None or (shop is not None and product.shop_id != shop.pk):
                errors["product_nos"].append(_("Product %(product)s is not a product of this shop.")
                                             % {"product": product_no})
            else:
                found.append(product)
        if row["detected_at"] > now:
            errors["detected_at"].append(_("A violation cannot be detected in the future."))
        if errors:
            results[i].errors = dict(errors)
            continue
        candidates.append((i, row, shop, rule, tier, list(dict.fromkeys(found))))
    if not candidates:
        return results
    with transaction.atomic():
        # One batch of an integration at a time: report IDs are unique per
        # integration, so this lock makes a resubmission racing its original
        # find it instead of failing on the constraint.
        Integration.objects.select_for_update().filter(pk=integration.pk).get()
        existing = {w.report_id: w for w in ViolationWarning.objects.filter(
            integration=integration, report_id__in=[row["report_id"] for _i, row, *_rest in candidates])
            .select_related("shop", "rule", "tier")}
        new, links = [], []
        # Six random bytes: a busy detector sends far more warnings a day than reviewers issue tickets.
        numbers = iter(new_numbers(ViolationWarning, "YJ", shanghai(now), len(candidates), random_bytes=6))
        for i, row, shop, rule, tier, found in candidates:
            if row["report_id"] in existing:
                results[i].outcome, results[i].warning = "duplicate", existing[row["report_id"]]
                continue
            warning = ViolationWarning(
                number=next(numbers), shop=shop, rule=rule, tier=tier, integration=integration,
                report_id=row["report_id"], order_nos=list(dict.fromkeys(row.get("order_nos") or [])),
                evidence=row.get("evidence") or {}, summary=row["summary"].strip(),
                detected_at=row["detected_at"], received_at=now,
                deadline=now + datetime.timedelta(hours=rule.warning_hours))
            new.append(warning)
            results[i].outcome, results[i].warning = "created", warning
            links.append((warning, found))
        ViolationWarning.objects.bulk_create(new, batch_size=500)
        through = ViolationWarning.products.through
        through.objects.bulk_create([through(violationwarning_id=w.pk, product_id=p.pk)
                                     for w, found in links for p in found], batch_size=1000)
        journal([
            new_event(shop_id=w.shop_id, integration=integration, action=Event.Action.WARNING_RECEIVED,
                      subject=Event.Subject.WARNING, subject_id=w.pk, to_status=w.status, reason=w.summary[:300],
                      data={"warning": w.number, "report_id": w.report_id}, at=now) for w in new])
        notify_warnings_opened(new)
    return results


# The merchant's answer ---------------------------------------------------------------------------

def _lock(warning: ViolationWarning) -> ViolationWarning:
    """Lock order: controller, shop (services.locks), then the warning."""
    lock_shop(warning.shop_id)
    return ViolationWarning.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "shop", "rule", "tier", "decided_by").get(pk=warning.pk)


def warning_answer(*, warning: ViolationWarning, actor, text: str, put_right: bool = False, files=(),
                   now: datetime.datetime | None = None) -> ViolationWarning:
    """The merchant explains, or says it is put right, before the deadline."""
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Say what you checked or what you put right: the reviewer reads it."))
    limit = 2000
    if len(text) > limit:
        raise DomainError(_("The answer may be at most %(n)d characters.") % {"n": limit})
    with transaction.atomic():
        warning = _lock(warning)
        if not ShopMember.objects.filter(shop_id=warning.shop_id, user=actor).exists():
            raise NotPermitted(_("Only a member of the shop can answer its warnings."))
        now = now or timezone.now()
        if warning.status != ViolationWarning.Status.OPEN:
            raise InvalidTransition(_("This warning is %(status)s: it can no longer be answered.")
                                    % {"status": warning.get_status_display()})
        if now > warning.deadline:
            raise InvalidTransition(_("The time to answer ended at %(deadline)s.")
                                    % {"deadline": deadline_text(warning)})
        warning.answer, warning.answered_by, warning.answered_at = text, actor, now
        transition(warning, ViolationWarning.Status.PUT_RIGHT if put_right else ViolationWarning.Status.ANSWERED,
                   action=Event.Action.WARNING_ANSWERED, at=now, actor=actor, reason=text[:300],
                   data={"warning": warning.number}, fields=["answer", "answered_by", "answered_at"])
        for upload in files:
            item = WarningAnswerFile(warning=warning, file=upload, original_name=original_name(upload))
            item.full_clean(exclude=["warning"])
            item.save()
    return warning


# The reviewer's decision -------------------------------------------------------------------------

def _tier_today(warning: ViolationWarning, today: datetime.date):
    """The tier as the rule stands today: a rule revised since the warning
    came is confirmed under its current version (SPEC §5: tickets snapshot
    the version they are issued under)."""
    rule = Rule.objects.effective_on(today).filter(code=warning.rule.code).first()
    if rule is None:
        raise DomainError(_("Rule %(code)s is no longer in effect: dismiss the warning instead.")
                          % {"code": warning.rule.code})
    if rule.pk == warning.rule_id:
        return warning.tier
    tier = rule.tiers.filter(code=warning.tier.code).first()
    if tier is None:
        raise DomainError(_("The current version of the rule has no tier %(tier)s.") % {"tier": warning.tier.code})
    return tier


def _ticket_description(warning: ViolationWarning, orders: list[str]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Violation warning %(number)s, confirmed on review: %(summary)s") % {
            "number": warning.number, "summary": warning.summary}
        if orders:
            text += "\n" + _("Confirmed orders: %(orders)s") % {"orders": ", ".join(orders)}
    return text


def warning_decide(*, warning: ViolationWarning, actor, confirm: bool, reason: str = "",
                   order_nos: list[str] | None = None, now: datetime.datetime | None = None) -> ViolationWarning:
    """Confirm — the ticket is issued through ``ticket_issue`` with the warning
    as its origin — or dismiss with a reason the merchant reads. Of two
    reviewers deciding at once, the second is told the first one's decision."""
    reason = (reason or "").strip()
    if not actor.has_perm("compliance.decide_warning"):
        raise NotPermitted(_("Only reviewers who decide warnings can confirm or dismiss them."))
    if not confirm and not reason:
        raise DomainError(_("Give a reason for dismissing the warning: the merchant reads it."))
    with transaction.atomic():
        warning = _lock(warning)
        now = now or timezone.now()
        if warning.is_decided:
            raise InvalidTransition(_("%(who)s has already decided this warning: %(status)s.")
                                    % {"who": person(warning.decided_by), "status": warning.get_status_display()})
        if not warning.decidable(now):
            raise InvalidTransition(
                _("The merchant has until %(deadline)s to answer: decide after that, or once they answer.")
                % {"deadline": deadline_text(warning)})
        claims_settle(Event.Subject.WARNING, [warning.pk], actor=actor, now=now)
        warning.as_of(now)  # past its deadline, not yet marked by the daily job: the deadline decides
        warning.decided_by, warning.decided_at = actor, now
        if confirm:
            orders = warning.order_nos
            if order_nos is not None:
                orders = [n for n in warning.order_nos if n in set(order_nos)]
            tier = _tier_today(warning, shanghai(now).date())
            if tier.per_order and not orders:
                raise DomainError(_("Choose at least one confirmed order, or dismiss the warning."))
            ticket = ticket_issue(
                shop=warning.shop, tier=tier, actor=actor, products=list(warning.products.all()),
                description=_ticket_description(warning, orders), occurred_at=warning.detected_at,
                order_count=len(orders) if tier.per_order else None, require_products=False,
                idempotency_key=f"warning:{warning.pk}", now=now)
            warning.ticket, warning.decision_reason = ticket, reason or _("Confirmed on review.")
        else:
            ticket, warning.decision_reason = None, reason
        transition(warning, ViolationWarning.Status.CONFIRMED if confirm else ViolationWarning.Status.DISMISSED,
                   action=Event.Action.WARNING_CONFIRMED if confirm else Event.Action.WARNING_DISMISSED, at=now,
                   actor=actor, ticket=ticket, reason=warning.decision_reason, data={"warning": warning.number},
                   fields=["decided_by", "decided_at", "decision_reason", "ticket"])
        if not confirm:
            notify_warning_dismissed(warning)
    return warning


def warnings_preview(*, warnings, actor, now: datetime.datetime | None = None, progress=None) -> list[ShopEffect]:
    """Confirm the warnings for real, in order, in a transaction that is then
    rolled back (services.preview): the totals are exactly what confirming
    would do — a second ticket of a shop sees the first one's points, nodes
    and daily cap — and nothing is written. ``progress(done, total)``, if
    given, hears of each warning (a job's progress bar)."""
    now = now or timezone.now()

    def confirm_all():
        effects: dict[int, ShopEffect] = {}
        for index, warning in enumerate(warnings):
            if progress is not None:
                progress(index, len(warnings))
            effect = effects.setdefault(warning.shop_id, ShopEffect(shop=warning.shop))
            try:
                with transaction.atomic():
                    decided = warning_decide(warning=warning, actor=actor, confirm=True, now=now)
            except DomainError as exc:
                effect.refused.append((warning, str(exc.message)))
                continue
            ticket = effect_of(decided.ticket)
            effect.warnings.append(decided)
            effect.points[decided.ticket.violation_class] += decided.ticket.points
            effect.deposit += ticket.deposit
            effect.measures += ticket.measures
            effect.nodes += ticket.nodes
            effect.clears = effect.clears or ticket.clears
        return list(effects.values())

    effects = dry_run(confirm_all)
    for effect in effects:
        effect.measures = list(dict.fromkeys(str(m) for m in effect.measures))
    return effects


def warnings_decision_preview(*, warnings, actor, confirm: bool, now: datetime.datetime | None = None,
                              progress=None) -> dict:
    """What the bulk decision page shows: each shop's effect and the sums."""
    effects = (warnings_preview(warnings=warnings, actor=actor, now=now, progress=progress) if confirm
               else warnings_dismiss_preview(warnings=warnings, now=now))
    return {"effects": effects, "confirm": confirm, "count": sum(len(e.warnings) for e in effects),
            "totals": {cls: sum(e.points[cls] for e in effects) for cls in "AB"},
            "deposit": sum((e.deposit for e in effects), 0)}


def warnings_decide_many(*, warnings, actor, confirm: bool, reason: str = "",
                         now: datetime.datetime | None = None, progress=None) -> tuple[list, list]:
    """Bulk confirm or dismiss: each warning in its own transaction, so one
    that another reviewer decided meanwhile is reported, not fatal. A job
    run twice finds the first run's decisions made and reports them."""
    done, refused = [], []
    for index, warning in enumerate(warnings):
        if progress is not None:
            progress(index, len(warnings))
        try:
            done.append(warning_decide(warning=warning, actor=actor, confirm=confirm, reason=reason, now=now))
        except DomainError as exc:
            refused.append((warning, str(exc.message)))
    return done, refused


# The daily job -----------------------------------------------------------------------------------

EXPIRE_BATCH = 2000


def warnings_overdue(cutoff: datetime.datetime, shops: tuple[int, int] | None = None):
    """Open warnings past their deadline (``warnings_expire``'s selection)."""
    return within(ViolationWarning.objects.filter(status=ViolationWarning.Status.OPEN, deadline__lt=cutoff), shops)


def warnings_expire(cutoff: datetime.datetime, shops: tuple[int, int] | None = None) -> int:
    """Open warnings past their deadline await the reviewer as not answered.
    Batches of rows locked inside their transaction, skipping any a reviewer
    is deciding right now (the decision moves it on; a rolled-back one is
    found by the next run), so an "expired" event is written only for a
    warning this run changed."""
    due = warnings_overdue(cutoff, shops)
    total = 0
    while True:
        with transaction.atomic():
            rows = list(due.select_for_update(skip_locked=True, no_key=True).order_by()
                        .values_list("pk", "shop_id", "number")[:EXPIRE_BATCH])
            if not rows:
                return total
            numbers = {pk: number for pk, _shop, number in rows}
            total += transition_many(ViolationWarning, [(pk, shop_id) for pk, shop_id, _n in rows],
                                     source=ViolationWarning.Status.OPEN, to=ViolationWarning.Status.EXPIRED,
                                     action=Event.Action.WARNING_EXPIRED, at=cutoff,
                                     data=lambda pk: {"warning": numbers[pk]})


def warnings_closing(cutoff: datetime.datetime, shops: tuple[int, int] | None = None):
    """Open warnings not yet reminded of whose time to answer ends within a
    day of the cut-off (``warnings_remind``'s selection)."""
    return within(ViolationWarning.objects.filter(
        status=ViolationWarning.Status.OPEN, reminded_at=None, deadline__gte=cutoff,
        deadline__lt=cutoff + datetime.timedelta(days=1)), shops)


def warnings_remind(cutoff: datetime.datetime, shops: tuple[int, int] | None = None) -> int:
    """Open warnings whose time to answer ends within a day of the cut-off:
    one message per shop, once per warning (the rows are locked and marked
    in the transaction that writes the messages)."""
    due = warnings_closing(cutoff, shops)
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True, no_key=True).values_list("pk", "shop_id"))
        if not rows:
            return 0
        ViolationWarning.objects.filter(pk__in=[pk for pk, _shop in rows]).update(reminded_at=cutoff)
        told, members = to_tell(rows, ViolationWarning.objects.select_related("shop", "rule").order_by("deadline", "id"))
        notify_warnings_closing(told, recipients=members)
    return len(rows)
