from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import DocumentsField
from compliance.models import Ticket, ViolationClass
from compliance.services.appeals import STATEMENT_MAX


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("all statuses"))] + Ticket.Status.choices)
    violation_class = forms.ChoiceField(label=_("Class"), required=False,
                                        choices=[("", _("all classes"))] + ViolationClass.choices)


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             help_text=_("In one line: why is the ticket wrong?"))
    statement = forms.CharField(
        label=_("Statement"), max_length=STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": STATEMENT_MAX}),
        help_text=_("At most %(n)d characters.") % {"n": STATEMENT_MAX},
    )
    evidence = DocumentsField(label=_("Evidence files"), required=False)
