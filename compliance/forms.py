"""Form pieces shared by the admin and the merchant portal."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from compliance.models import PolicySettings
from shops.uploads import validate_document


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
        max_bytes = PolicySettings.load().upload_max_bytes
        errors = []
        for upload in files:
            try:
                validate_document(upload, max_bytes=max_bytes)
            except ValidationError as exc:
                errors.extend(f"{upload.name}: {message}" for message in exc.messages)
        if errors:
            raise ValidationError(errors)
        return files
