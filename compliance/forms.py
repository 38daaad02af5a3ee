"""Form pieces shared by the admin and the merchant portal."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shops.uploads import check_document
from compliance.wording import labelled


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several PDF/JPEG/PNG files in one input, each checked by content and
    against the policy's size cap; every bad file is named in the error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        kwargs.setdefault("help_text", _("PDF, JPEG or PNG; several files may be chosen."))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else [data] if data else []
        files = [super(DocumentsField, self).clean(item, initial) for item in items]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        errors = []
        for upload in files:
            try:
                # Kept on the upload: the model's validator and save reuse it.
                upload._checked_document = check_document(upload)
            except ValidationError as exc:
                errors.extend(labelled(upload.name, message) for message in exc.messages)
        if errors:
            raise ValidationError(errors)
        return files
