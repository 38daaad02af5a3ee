"""The claims of a reviewers' queue in the admin (SPEC §14): who holds each
item, the one-click views (mine, unclaimed, claimed by others, overdue),
claiming and releasing from the list or the decide page, and a compliance
admin's hand-over (转交). Each queue's ModelAdmin takes ``ClaimQueueMixin``
and names its ``claim_subject``; its decide page includes
``admin/compliance/_claim.html`` with ``claim_box(request, pk)``."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.calendar import shanghai
from compliance.exceptions import DomainError
from compliance.selectors.claims import QUEUES, claimed_filter, eligible_holders, held
from compliance.services.claims import claim_reassign, claim_release, claim_renew, claim_take
from compliance.wording import person
from shops.admin_base import per_request, truncated

from .reasons import reasons_context

REASSIGN = "compliance.reassign_claim"
MAX_AT_ONCE = 100  # items claimed, released or handed over by one action


class ClaimFilter(admin.SimpleListFilter):
    """Mine / unclaimed / claimed by others / overdue: one click each."""

    title = gettext_lazy("claim")
    parameter_name = "claim"

    def lookups(self, request, model_admin):
        views = [("mine", gettext_lazy("Claimed by me")), ("unclaimed", gettext_lazy("Unclaimed")),
                 ("others", gettext_lazy("Claimed by others"))]
        if QUEUES[model_admin.claim_subject].due_field:
            views.append(("overdue", gettext_lazy("Overdue")))
        return views

    def queryset(self, request, queryset):
        if self.value() not in {"mine", "unclaimed", "others", "overdue"}:
            return queryset
        return claimed_filter(queryset, self.model_admin_subject, self.value(), request.user, timezone.now())

    def __init__(self, request, params, model, model_admin):
        self.model_admin_subject = model_admin.claim_subject
        super().__init__(request, params, model, model_admin)


class HandOverForm(forms.Form):
    to = forms.ModelChoiceField(label=gettext_lazy("Hand to"), queryset=None,
                                empty_label=gettext_lazy("Choose a reviewer"))

    def __init__(self, *args, subject, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = eligible_holders(subject)
        self.fields["to"].label_from_instance = person


def _held_here(request, subject: str) -> dict:
    """The claims in force in the queue, by item: one query a request (a
    queue has as many as its reviewers hold, not as many as its items),
    kept on the request — never on the shared ModelAdmin."""
    cache = request.__dict__.setdefault("_claims_in_force", {})
    if subject not in cache:
        cache[subject] = {c.subject_id: c for c in held(subject, timezone.now()).select_related("holder")}
    return cache[subject]


class ClaimQueueMixin:
    claim_subject = ""
    decider_field = "decided_by"  # who decided a decided item (None: the queue does not say)

    # One column for who handles an item: who holds it while it waits, who decided it once decided.
    @admin.display(description=gettext_lazy("handled by"))
    @per_request
    def holder_display(self, obj, request):
        decider = getattr(obj, self.decider_field) if self.decider_field else None
        if decider is not None:
            return truncated(person(decider), "7em")
        claim = _held_here(request, self.claim_subject).get(obj.pk)
        if claim is None:
            return "—"
        since = _("claimed at %(time)s") % {"time": shanghai(claim.claimed_at).strftime("%H:%M")}
        if claim.holder_id == request.user.pk:
            return format_html('<strong class="claim-mine" title="{}">{}</strong>', since, _("me"))
        return format_html('<span class="claim-other truncate" style="max-width: 7em" title="{} · {}">{}</span>',
                           person(claim.holder), since, person(claim.holder))

    def may_claim(self, request) -> bool:
        return request.user.has_perm(QUEUES[self.claim_subject].permission)

    def get_actions(self, request):
        actions = super().get_actions(request)
        names = (["claim_selected", "release_selected"] if self.may_claim(request) else [])
        if request.user.has_perm(REASSIGN):
            names += ["release_selected", "hand_over_selected"]
        for name in dict.fromkeys(names):
            actions[name] = self.get_action(name)
        return actions

    def _each(self, request, queryset, do, done_message, **extra):
        ids = list(queryset.values_list("pk", flat=True)[:MAX_AT_ONCE + 1])
        if len(ids) > MAX_AT_ONCE:
            self.message_user(request, _("Choose at most %(n)d items at a time.") % {"n": MAX_AT_ONCE},
                              messages.ERROR)
            return
        done, refused = 0, []
        for pk in ids:
            try:
                do(pk)
            except DomainError as exc:
                refused.append(str(exc.message))
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done, **extra}, messages.SUCCESS)
        for message in dict.fromkeys(refused):
            self.message_user(request, message, messages.WARNING)

    @admin.action(description=gettext_lazy("Claim the selected items"))
    def claim_selected(self, request, queryset):
        self._each(request, queryset, lambda pk: claim_take(subject=self.claim_subject, subject_id=pk,
                                                            actor=request.user),
                   _("%(n)d item(s) claimed: they are yours until you release or decide them."))

    @admin.action(description=gettext_lazy("Release the selected items"))
    def release_selected(self, request, queryset):
        self._each(request, queryset, lambda pk: claim_release(subject=self.claim_subject, subject_id=pk,
                                                               actor=request.user),
                   _("%(n)d item(s) released."))

    @admin.action(description=gettext_lazy("Hand the selected items to another reviewer"))
    def hand_over_selected(self, request, queryset):
        if not request.user.has_perm(REASSIGN):
            raise PermissionDenied
        ids = list(queryset.values_list("pk", flat=True)[:MAX_AT_ONCE + 1])
        if len(ids) > MAX_AT_ONCE:
            self.message_user(request, _("Choose at most %(n)d items at a time.") % {"n": MAX_AT_ONCE},
                              messages.ERROR)
            return None
        form = HandOverForm(request.POST if "hand_over" in request.POST else None, subject=self.claim_subject)
        if form.is_bound and form.is_valid():
            to = form.cleaned_data["to"]
            self._each(request, queryset.filter(pk__in=ids),
                       lambda pk: claim_reassign(subject=self.claim_subject, subject_id=pk, to=to,
                                                 actor=request.user),
                       _("%(n)d item(s) handed to %(who)s."), who=person(to))
            return None
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, "ids": ids,
                   "title": _("Hand items to another reviewer"), "count": len(ids),
                   "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/compliance/claim_hand_over.html", context)

    # The decide page's box ------------------------------------------------------------------------

    def claim_box(self, request, pk: int) -> dict:
        """Who holds the item, for its decide page; opening it renews the
        holder's lease (the page's heartbeat renews it while it stays open)."""
        claim = claim_renew(subject=self.claim_subject, subject_id=pk, actor=request.user)
        return {"claim": claim, "claim_mine": bool(claim and claim.holder_id == request.user.pk),
                "claim_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_claim", args=[pk]),
                "claim_may_release": bool(claim and (claim.holder_id == request.user.pk
                                                     or request.user.has_perm(REASSIGN)))}

    def decide_context(self, request, pk: int, *, waiting: bool, rule_code: str = "") -> dict:
        """What every decide page adds for the workspace: the claim box while
        the item waits, and the queue's reason templates."""
        return {**(self.claim_box(request, pk) if waiting else {}),
                **reasons_context(self.claim_subject, rule_code)}

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_claim"
        return [path("<int:pk>/claim/", self.admin_site.admin_view(self.claim_view), name=name),
                *super().get_urls()]

    def claim_view(self, request, pk):
        """POST only: take, release or renew (the heartbeat: answered with
        204 and no message), then back to the page the reviewer was on."""
        if request.method != "POST":
            raise PermissionDenied
        op = request.POST.get("op")
        subject = self.claim_subject
        if op == "renew":
            claim = claim_renew(subject=subject, subject_id=pk, actor=request.user)
            return HttpResponse(status=204 if claim is not None and claim.holder_id == request.user.pk else 409)
        try:
            if op == "take":
                claim_take(subject=subject, subject_id=pk, actor=request.user)
                self.message_user(request, _("Claimed: nobody else can decide it while you hold it."),
                                  messages.SUCCESS)
            elif op == "release":
                claim_release(subject=subject, subject_id=pk, actor=request.user)
                self.message_user(request, _("Released."), messages.SUCCESS)
            else:
                self.message_user(request, _("Nothing was changed."), messages.WARNING)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return HttpResponseRedirect(back)
