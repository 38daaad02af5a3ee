import re
import uuid

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import DocumentsField
from compliance.models import Option, Rule, RuleTier
from shops.models import Product, Shop
from shops.numbers import WholeNumberField


class LabelledSplitDateTime(admin_widgets.AdminSplitDateTime):
    """The admin's date and time inputs, each with its own name for a screen
    reader (发生时间（日期）, 发生时间（时间）): the stock widget labels only
    the date input, through the field's label, and the time input not at all."""

    def __init__(self, label, attrs=None):
        super().__init__(attrs)
        self.label = label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for subwidget, part in zip(context["widget"]["subwidgets"], (_("date"), _("time"))):
            subwidget["attrs"]["aria-label"] = _("%(field)s (%(part)s)") % {"field": self.label, "part": part}
        return context


class TierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, tier):
        points = (
            f"{tier.points_default}" if tier.points_min == tier.points_max
            else f"{tier.points_default} ({tier.points_min}–{tier.points_max})"
        )
        return _("%(tier)s · class %(cls)s · %(points)s points") % {
            "tier": tier.name, "cls": tier.violation_class, "points": points}


class RulePickForm(forms.Form):
    """Step one of issuing: the rule (step two lists only its tiers)."""

    rule = forms.ChoiceField(label=_("Rule"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = Rule.objects.effective_on(timezone.localdate()).order_by("code")
        self.fields["rule"].choices = [("", "—")] + sorted(((r.code, r.name) for r in rules), key=lambda c: c[1])


class ShopPickForm(forms.Form):
    shop = forms.CharField(label=_("Shop ID"), max_length=20)

    def clean_shop(self):
        number = self.cleaned_data["shop"].strip()
        shop = Shop.objects.filter(shop_no=number).first()
        if shop is None:
            raise ValidationError(_("There is no shop with ID %(number)s."), params={"number": number})
        return shop


class IssueTicketForm(forms.Form):
    """Everything a reviewer decides; the service decides the consequences."""

    tier = TierChoiceField(label=_("Rule and tier"), queryset=RuleTier.objects.none())
    points = WholeNumberField(label=_("Points"), required=False, min_value=0, max_value=1000,
                                help_text=_("Empty takes the tier's default; the tier's range is enforced."))
    products = forms.CharField(
        label=_("Affected products"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Product IDs of this shop, separated by spaces, commas or new lines."),
    )
    order_count = WholeNumberField(label=_("Confirmed orders"), required=False, min_value=1, max_value=1_000_000,
                                     help_text=_("Only for tiers charged per confirmed order (fake shipment)."))
    ban_chosen = forms.BooleanField(label=_("Ban the affected products"), required=False,
                                    help_text=_("Only where the tier lets the reviewer choose."))
    clear_chosen = forms.BooleanField(label=_("Clear the shop"), required=False,
                                      help_text=_("Only where the tier lets the reviewer choose."))
    occurred_at = forms.SplitDateTimeField(label=_("Occurred at"), widget=LabelledSplitDateTime(_("Occurred at")))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000, help_text=_("The merchant reads this."))
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, shop: Shop, rule: Rule | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop, self.rule = shop, rule
        today = timezone.localdate()
        tiers = RuleTier.objects.filter(rule__in=Rule.objects.effective_on(today))
        if rule is not None:
            tiers = tiers.filter(rule=rule)
            # The widget first: a queryset assigned afterwards gives it its choices.
            self.fields["tier"].widget = forms.RadioSelect()
            self.fields["tier"].empty_label = None
            self.fields["tier"].label = _("Tier")
        self.fields["tier"].queryset = tiers.select_related("rule").order_by("rule__code", "position")
        if rule is not None:
            self._drop_fields_that_cannot_apply(list(self.fields["tier"].queryset))
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def _drop_fields_that_cannot_apply(self, tiers) -> None:
        """Only the fields some tier of the rule can use: no order count
        without a per-order tier, no ban or clearance choice the rule never
        offers, no points input when every tier has fixed points."""
        keep = {
            "order_count": any(t.per_order for t in tiers),
            "ban_chosen": any(t.ban_products == Option.OPTIONAL for t in tiers),
            "clear_chosen": any(t.clear_shop == Option.OPTIONAL for t in tiers),
            "products": any(t.delist_products or t.ban_products != Option.NEVER for t in tiers),
            "points": any(t.points_min != t.points_max for t in tiers),
        }
        for name, applies in keep.items():
            if not applies:
                del self.fields[name]

    def clean_products(self):
        numbers = [n for n in re.split(r"[\s,，;；]+", self.cleaned_data["products"] or "") if n]
        found = {p.product_no: p for p in Product.objects.filter(shop=self.shop, product_no__in=numbers)}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise ValidationError(
                _("Not products of this shop: %(numbers)s."), params={"numbers": ", ".join(unknown)}
            )
        return [found[n] for n in dict.fromkeys(numbers)]

    def clean(self):
        data = super().clean()
        tier = data.get("tier")
        if tier:
            if data.get("ban_chosen") and tier.ban_products != Option.OPTIONAL:
                self.add_error("ban_chosen", _("This tier does not let the reviewer choose a ban."))
            if data.get("clear_chosen") and tier.clear_shop != Option.OPTIONAL:
                self.add_error("clear_chosen", _("This tier does not let the reviewer choose a clearance."))
            if data.get("points") is None:
                data["points"] = tier.points_default
            if "order_count" in self.fields and tier.per_order and not data.get("order_count"):
                self.add_error("order_count", _("This tier is charged per confirmed order: enter the number."))
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return dict(tier=d["tier"], points=d.get("points"), products=d.get("products") or [],
                    order_count=d.get("order_count"), occurred_at=d["occurred_at"],
                    ban_chosen=d.get("ban_chosen", False), clear_chosen=d.get("clear_chosen", False))

    def hidden_copy(self) -> list[tuple[str, str]]:
        """The submitted data as (name, value) pairs, carried as hidden inputs
        through the confirmation step."""
        return [(key, value) for key in self.data for value in self.data.getlist(key)
                if key not in ("csrfmiddlewaretoken", "step", "without_evidence")]


class EvidenceForm(forms.Form):
    evidence = DocumentsField(label=_("Evidence files"), required=False)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text=_("The merchant reads this reason."))
