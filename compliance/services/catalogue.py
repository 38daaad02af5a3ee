"""Changing the rule catalogue (SPEC §5, issue #14): a saved change to a rule
or its tiers is a new version of the rule, effective from a day on; tickets
keep the version they were issued under. Every change names who and why."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.exceptions import DomainError
from compliance.models import PointNode, PolicyChange, PolicySettings, Rule, RuleTier
from compliance.selectors.standing import forget_point_nodes

RULE_FIELDS = ("code", "name_zh", "name_en", "alliance_serious", "is_qualification_rule", "evidence_hint_zh",
               "evidence_hint_en", "appeal_window_days", "appeal_chances", "warning_hours")
TIER_FIELDS = ("code", "position", "name_zh", "name_en", "violation_class", "points_default", "points_min",
               "points_max", "deposit_amount", "deposit_all", "deposit_per_order", "deposit_daily_cap", "warning",
               "delist_products", "ban_products", "suspend_days", "clear_shop", "freeze_proceeds")


def asfigures(value):
    """A figure as the change log keeps it: money always with two decimals."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value if isinstance(value, (int, bool, str, type(None))) else str(value)


def figures(obj, fields) -> dict:
    """The object's figures as the change log keeps them."""
    return {f: asfigures(getattr(obj, f)) for f in fields}


def record_change(*, kind, obj, before: dict, after: dict, reason: str, actor) -> PolicyChange:
    """The change log's one entry point: who changed what (before, after) and why."""
    return PolicyChange.objects.create(kind=kind, object_id=obj.pk, object_repr=str(obj)[:200], before=before,
                                       after=after, reason=reason.strip(), changed_by=actor)


def rule_figures(rule: Rule, tiers) -> dict:
    out = {f"rule.{k}": v for k, v in figures(rule, RULE_FIELDS).items()}
    for tier in tiers:
        out |= {f"{tier.code}.{k}": v for k, v in figures(tier, TIER_FIELDS).items() if k != "code"}
    return out


def rule_revise(*, saved: Rule, changed: Rule, tiers: list[RuleTier], actor, reason: str,
                effective_from: datetime.date | None = None) -> Rule:
    """Save ``changed`` (the edited copy of ``saved``, with ``tiers`` edited
    or added) as version n+1 effective from ``effective_from`` (today, or the
    day after the saved version took effect if that is today), and end the
    saved version the day before. Returns the new version."""
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change: it is recorded with the change."))
    today = timezone.localdate()
    starts = max(effective_from or today, today, saved.effective_from + datetime.timedelta(days=1))
    with transaction.atomic():
        saved = Rule.objects.select_for_update().get(pk=saved.pk)
        if saved.effective_to is not None and saved.effective_to < starts - datetime.timedelta(days=1):
            raise DomainError(_("This version is no longer in effect: revise the current one."))
        before = rule_figures(saved, saved.tiers.order_by("position", "id"))
        latest = Rule.objects.filter(code=saved.code).order_by("-version").values_list("version", flat=True)[0]
        new = Rule(**{f: getattr(changed, f) for f in RULE_FIELDS}, version=latest + 1, effective_from=starts,
                   effective_to=saved.effective_to)
        Rule.objects.filter(pk=saved.pk).update(effective_to=starts - datetime.timedelta(days=1))
        new.save()
        copies = []
        for tier in tiers:
            copy = RuleTier(rule=new, **{f: getattr(tier, f) for f in TIER_FIELDS})
            copy.full_clean(exclude=["rule"])
            copies.append(copy)
        RuleTier.objects.bulk_create(copies)
        record_change(kind=PolicyChange.Kind.RULE, obj=new, before=before, after=rule_figures(new, copies),
                      reason=reason, actor=actor)
    return new


NODE_FIELDS = ("violation_class", "threshold", "suspend_days", "deposit_amount", "clear_shop", "is_active")


def _nodes_changed() -> None:
    """The standing pages read the active nodes from a cache: drop it once
    the change commits (a reader in between would cache the old nodes)."""
    transaction.on_commit(forget_point_nodes)


def node_create(*, node: PointNode, actor, reason: str) -> PointNode:
    """A new point node, with its change-log entry."""
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change: it is recorded with the change."))
    with transaction.atomic():
        node.save()
        record_change(kind=PolicyChange.Kind.NODE, obj=node, before={}, after=figures(node, NODE_FIELDS),
                      reason=reason, actor=actor)
        _nodes_changed()
    return node


def node_revise(*, saved: PointNode, changed: PointNode, actor, reason: str) -> PointNode:
    """Save a change to a point node. A change of its figures is a new node
    (the old one, inactive, points to it): the applications of the old one —
    the shops that reached it, its lifts — keep the figures they were made
    under. Switching a node off or on alone changes it in place. Returns the
    node as saved."""
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change: it is recorded with the change."))
    if saved.replaced_by_id:
        raise DomainError(_("This node was replaced by a newer version: change that one."))
    before, after = figures(saved, NODE_FIELDS), figures(changed, NODE_FIELDS)
    figures_changed = [f for f in NODE_FIELDS if f != "is_active" and before[f] != after[f]]
    with transaction.atomic():
        if figures_changed:
            PointNode.objects.filter(pk=saved.pk).update(is_active=False)
            node = PointNode.objects.create(**{f: getattr(changed, f) for f in NODE_FIELDS})
            PointNode.objects.filter(pk=saved.pk).update(replaced_by=node)
        else:
            node = changed
            node.save(update_fields=["is_active"])
        record_change(kind=PolicyChange.Kind.NODE, obj=node, before=before, after=after, reason=reason, actor=actor)
        _nodes_changed()
    return node


def policy_change(*, changed, actor, reason: str):
    """Save the edited policy settings and log each figure before and after."""
    fields = [f.name for f in PolicySettings._meta.concrete_fields if f.name not in ("id", "updated_at")]
    with transaction.atomic():
        before = figures(PolicySettings.objects.select_for_update().get(pk=changed.pk), fields)
        changed.save()
        record_change(kind=PolicyChange.Kind.POLICY, obj=changed, before=before, after=figures(changed, fields),
                      reason=reason, actor=actor)
    return changed
