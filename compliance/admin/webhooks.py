"""Webhook subscriptions in the admin (SPEC §13): compliance admins make one
for an integration with the scope ``webhooks`` (the secret shown once),
change its URL and event types, pause, resume, replace the secret and
delete it — each through services.webhooks, each journalled."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.exceptions import DomainError
from compliance.services.deliveries import resend_dead_since
from compliance.services.outbound import publish_test
from compliance.services.webhooks import webhook_change, webhook_delete, webhook_rotate_secret, webhook_subscribe
from compliance.webhooks import check_url
from compliance.wording import labelled
from shops.admin_base import BaseModelAdmin, status_column, time_column, truncated

from ..models import Integration, Scope, WebhookSubscription
from ..models.webhooks import EVENT_TYPE_LABELS

Status = WebhookSubscription.Status


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https",
                         widget=forms.URLInput(attrs={"class": "vURLField"}))
    events = forms.MultipleChoiceField(
        label=capfirst(gettext_lazy("event types")), widget=forms.CheckboxSelectMultiple,
        choices=[(code, format_lazy("{} · {}", label, code)) for code, label in EVENT_TYPE_LABELS.items()])

    class Meta:
        model = WebhookSubscription
        fields = ("integration", "url", "events")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "integration" in self.fields:
            # Integrations are few; their scopes are a JSON list (no portable "contains").
            allowed = [i.pk for i in Integration.objects.filter(is_active=True) if i.allows(Scope.WEBHOOKS)]
            self.fields["integration"].queryset = Integration.objects.filter(pk__in=allowed)
            self.fields["integration"].help_text = _("Integrations with the scope “%(scope)s”.") % {
                "scope": Scope.WEBHOOKS.label}

    def clean_url(self):
        url = self.cleaned_data["url"]
        check_url(url)
        return url


class SinceForm(forms.Form):
    since = forms.DateTimeField(label=gettext_lazy("Queued since"),
                                help_text=gettext_lazy("Given-up deliveries queued at or after this time (Shanghai)."),
                                # Written as every time in the product is (2026-11-29 06:10); a browser's own
                                # datetime picker would show its locale's form (2026/11/29) instead.
                                widget=forms.DateTimeInput(format="%Y-%m-%d %H:%M",
                                                           attrs={"placeholder": "2026-11-29 06:10", "size": 18}),
                                input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"])


# The buttons of a subscription's page: URL part → (label, service, the status
# it leads to — where it applies follows from the model's declared
# transitions — or None: any subscription not deleted, or ACTIVE: only an
# active one). A service gets the subscription, the user and the page's form
# (SinceForm for "resend-dead", else None).
SENDS = "sends"  # applies to an active subscription: its deliveries go out now
ACTIONS = {
    "pause": (gettext_lazy("Pause"), lambda s, user, form: webhook_change(s, active=False, actor=user),
              Status.PAUSED),
    "resume": (gettext_lazy("Resume"), lambda s, user, form: webhook_change(s, active=True, actor=user),
               Status.ACTIVE),
    "send-test": (gettext_lazy("Send a test event"), lambda s, user, form: publish_test(s, actor=user), SENDS),
    "resend-dead": (gettext_lazy("Send given-up deliveries again"),
                    lambda s, user, form: resend_dead_since(s, form.cleaned_data["since"], actor=user), None),
    "rotate-secret": (gettext_lazy("Replace the secret"),
                      lambda s, user, form: webhook_rotate_secret(s, actor=user), None),
    "remove": (gettext_lazy("Delete"), lambda s, user, form: webhook_delete(s, actor=user), Status.DELETED),
}
FORMS = {"resend-dead": SinceForm}


def _applies(subscription: WebhookSubscription, target) -> bool:
    if target is None:
        return subscription.status != Status.DELETED
    if target == SENDS:
        return subscription.status == Status.ACTIVE
    return WebhookSubscription.allows(subscription.status, target)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(BaseModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url_display", "integration", "events_display", "status_display", "created_display")
    list_filter = ("status",)
    list_select_related = ("integration",)
    raw_id_fields = ("integration", "created_by")
    sortable_by = ()
    status_display = status_column(gettext_lazy("status"), prefix="webhook-")
    created_display = time_column("created_at", gettext_lazy("created at"))

    @admin.display(description=gettext_lazy("URL"))
    def url_display(self, obj):
        return truncated(obj.url, "22em")

    @admin.display(description=gettext_lazy("event types"))
    def events_display(self, obj):
        return truncated(", ".join(obj.events or []) or "—", "18em")

    def get_fields(self, request, obj=None):
        return ("integration", "url", "events") if obj is None else (
            "integration", "url", "events", "status", "failing_since", "created_at", "created_by",
            "previous_secret_until")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status == Status.DELETED:
            return self.get_fields(request, obj)
        return ("integration", "status", "failing_since", "created_at", "created_by", "previous_secret_until")

    def has_delete_permission(self, request, obj=None):
        return False  # deleted through the service: the row and its journal stay

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_change(obj, url=data["url"], events=data["events"], actor=request.user)
            return
        subscription, secret = webhook_subscribe(integration=data["integration"], url=data["url"],
                                                 events=data["events"], actor=request.user)
        obj.pk, obj.status, obj.created_at = subscription.pk, subscription.status, subscription.created_at
        obj._state.adding = False
        request.webhook_secret = secret  # this request only: the admin instance serves every request

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj, request.webhook_secret, _("Webhook subscription created"))

    def _secret_page(self, request, subscription, secret, title):
        """The secret once, on this page; it is not shown again."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title,
                   "subscription": subscription, "secret": secret}
        return TemplateResponse(request, "admin/compliance/webhooksubscription/secret.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        subscription = self.get_object(request, object_id)
        buttons = []
        if subscription is not None and request.user.has_perm("compliance.view_webhookdelivery"):
            buttons.append((reverse("admin:compliance_webhookdelivery_changelist") + f"?subscription={subscription.pk}",
                            _("Delivery log")))
        if subscription is not None and self.has_change_permission(request, subscription):
            buttons += [(reverse(f"admin:compliance_webhooksubscription_{name.replace('-', '_')}",
                                 args=[subscription.pk]), label)
                        for name, (label, _run, target) in ACTIONS.items() if _applies(subscription, target)]
        return super().change_view(request, object_id, form_url, {"webhook_buttons": buttons, **(extra_context or {})})

    def get_urls(self):
        return [*(path(f"<int:pk>/{action}/", self.admin_site.admin_view(self.act_view), {"action": action},
                       name=f"compliance_webhooksubscription_{action.replace('-', '_')}") for action in ACTIONS),
                *super().get_urls()]

    def act_view(self, request, pk, action):
        """Pause, resume, replace the secret or delete: asked, then done on POST."""
        subscription = WebhookSubscription.objects.filter(pk=pk).select_related("integration").first()
        if subscription is None:
            raise Http404
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        label, run, target = ACTIONS[action]
        change_url = reverse("admin:compliance_webhooksubscription_change", args=[pk])
        form = None
        if action in FORMS:  # a day back from now, as a start
            since = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).replace(second=0, microsecond=0)
            form = FORMS[action](request.POST if request.method == "POST" else None, initial={"since": since})
        if request.method == "POST" and (form is None or form.is_valid()):
            if not _applies(subscription, target):
                self.message_user(request, _("This cannot be done to a subscription that is %(status)s.")
                                  % {"status": subscription.get_status_display()}, messages.ERROR)
                return HttpResponseRedirect(change_url)
            try:
                result = run(subscription, request.user, form)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(change_url)
            if action == "rotate-secret":
                subscription, secret = result
                return self._secret_page(request, subscription, secret, _("Signing secret replaced"))
            log_url = reverse("admin:compliance_webhookdelivery_changelist") + f"?subscription={subscription.pk}"
            if action == "send-test":
                self.message_user(request, _("A test event is on its way; its delivery is at the top of the log."),
                                  messages.SUCCESS)
                return HttpResponseRedirect(log_url)
            if action == "resend-dead":
                self.message_user(request, _("%(n)d given-up deliveries queued to be sent again.") % {"n": result},
                                  messages.SUCCESS if result else messages.WARNING)
                return HttpResponseRedirect(log_url)
            self.message_user(request, _("%(action)s: done.") % {"action": label}, messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "subscription": subscription,
                   "title": labelled(label, subscription.url), "label": label, "action": action, "form": form,
                   "possible": _applies(subscription, target), "change_url": change_url}
        return TemplateResponse(request, "admin/compliance/webhooksubscription/act.html", context)
