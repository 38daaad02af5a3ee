import re

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import DocumentsField
from compliance.models import PolicySettings, QualificationType, Ticket, ViolationClass
from shops.numbers import LATEST_DAY, date_in_bounds


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses"))] + Ticket.Status.choices)
    violation_class = forms.ChoiceField(label=_("Class"), required=False,
                                        choices=[("", _("All classes"))] + ViolationClass.choices)


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             help_text=_("In one line: why is the ticket wrong?"))
    statement = forms.CharField(label=_("Statement"), widget=forms.Textarea(attrs={"rows": 6}))
    evidence = DocumentsField(label=_("Evidence files"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SPEC §7's limit is policy data, read when the form is made.
        limit = PolicySettings.load().appeal_statement_max_chars
        field = self.fields["statement"]
        field.max_length = limit
        field.validators.append(MaxLengthValidator(limit))
        field.widget.attrs["maxlength"] = limit
        field.help_text = _("At most %(n)d characters.") % {"n": limit}


class WarningAnswerForm(forms.Form):
    """The merchant's answer to a warning (SPEC §11): files get the same
    checks as appeal evidence."""

    answer = forms.CharField(label=_("Your answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
                             help_text=_("What you checked, or what you put right. At most 2000 characters."))
    put_right = forms.BooleanField(label=_("I have put it right"), required=False)
    files = DocumentsField(label=_("Files"), required=False)


class CertificateForm(forms.Form):
    """A certificate or the renewal of one (SPEC §4): the data as printed on
    it, and a scan of every page (same checks as appeal evidence)."""

    MAX_PRODUCTS = 200

    qualification_type = forms.ModelChoiceField(label=_("Certificate type"), queryset=QualificationType.objects.none(),
                                                empty_label=_("Choose…"))
    number = forms.CharField(label=_("Certificate number"), max_length=64)
    holder = forms.CharField(label=_("Holder"), max_length=200, help_text=_("As printed on the certificate."))
    authority = forms.CharField(label=_("Issuing authority"), max_length=200)
    issued_on = forms.DateField(label=_("Issued on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    expires_on = forms.DateField(label=_("Valid until"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    permanent = forms.BooleanField(label=_("Permanent (no expiry date)"), required=False)
    brand = forms.CharField(label=_("Brand"), max_length=100, required=False,
                            help_text=_("Required for brand certificates."))
    product_nos = forms.CharField(
        label=_("Products covered"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Product IDs separated by spaces or commas. Required for product certificates; leave empty "
                    "when the certificate covers the whole shop."))
    documents = DocumentsField(label=_("Certificate files"))

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.shop = shop
        self.fields["qualification_type"].queryset = QualificationType.objects.filter(is_active=True)

    def clean_product_nos(self):
        numbers = [n for n in re.split(r"[\s,，、;；]+", self.cleaned_data["product_nos"]) if n]
        if len(numbers) > self.MAX_PRODUCTS:
            raise forms.ValidationError(_("At most %(n)d products per certificate.") % {"n": self.MAX_PRODUCTS})
        found = {p.product_no: p for p in self.shop.products.filter(product_no__in=numbers)} if numbers else {}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise forms.ValidationError(_("Not products of this shop: %(numbers)s") % {"numbers": ", ".join(unknown[:10])})
        return list(dict.fromkeys(found[n] for n in numbers))

    def clean_issued_on(self):
        return date_in_bounds(self.cleaned_data["issued_on"], latest=timezone.localdate())

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        return day and date_in_bounds(day, latest=LATEST_DAY)

    def clean(self):
        data = super().clean()
        if data.get("permanent") and data.get("expires_on"):
            self.add_error("expires_on", _("A permanent certificate has no expiry date; clear one of the two."))
        elif not data.get("permanent") and not data.get("expires_on") and "expires_on" not in self.errors:
            self.add_error("expires_on", _("Enter the expiry date, or tick “permanent”."))
        return data
