from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from compliance.forms import DocumentsField
from compliance.models import PolicySettings, Ticket, ViolationClass


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
