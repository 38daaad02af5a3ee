"""Private document uploads: checked by content, stored outside public paths.

SPEC §4/§7: PDF, JPEG and PNG only, recognised by their bytes (a renamed
executable is refused), images fully decoded (a corrupt image is refused),
size-capped by the policy setting, and served only through permission-checked
views with ``Content-Disposition: attachment``.
"""

import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

# Magic bytes → (canonical extension, content type).
SIGNATURES = (
    (b"%PDF-", ("pdf", "application/pdf")),
    (b"\xff\xd8\xff", ("jpg", "image/jpeg")),
    (b"\x89PNG\r\n\x1a\n", ("png", "image/png")),
)


@deconstructible(path="shops.uploads.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT, with no URL at all: the only way
    out is a view that checks permissions. The root is read on every use, so
    tests can point it at a temporary folder."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a permission-checked view.")


private_storage = PrivateStorage()


def sniff(upload) -> tuple[str, str] | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def validate_document(upload, *, max_bytes: int) -> tuple[str, str]:
    """Return (extension, content type) of an acceptable upload, else raise."""
    if upload.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s MB; files may be at most %(max)s MB."),
            code="file_too_large",
            params={"size": f"{upload.size / 1_048_576:.1f}", "max": f"{max_bytes / 1_048_576:g}"},
        )
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(
            _("Only PDF, JPEG and PNG files are accepted; this file is none of them, whatever its name says."),
            code="file_type",
        )
    ext, content_type = kind
    if ext in ("jpg", "png"):
        try:
            with Image.open(upload) as image:
                image.load()  # decodes every pixel: truncated or corrupt data fails here
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(
                _("The image could not be read: it is damaged or incomplete."), code="file_corrupt"
            ) from None
        finally:
            upload.seek(0)
    elif b"%%EOF" not in _tail(upload):
        raise ValidationError(
            _("The PDF is incomplete (it has no end-of-file marker)."), code="file_corrupt"
        )
    return ext, content_type


def _tail(upload, n=2048) -> bytes:
    upload.seek(max(upload.size - n, 0))
    data = upload.read()
    upload.seek(0)
    return data


@deconstructible(path="shops.uploads.PrivateUploadTo")
class PrivateUploadTo:
    """An ``upload_to`` that never keeps the user's file name (it may carry
    personal data or path tricks): a random name under ``folder/YYYY/MM``."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename):
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
        ext = ext if ext in {"pdf", "jpg", "jpeg", "png"} else "bin"
        return f"{self.folder}/{uuid.uuid4().hex}.{ext}"

    def __eq__(self, other):
        return isinstance(other, PrivateUploadTo) and other.folder == self.folder


def attachment_response(field_file, *, download_stem: str) -> FileResponse:
    """Serve a private file as an attachment named ``<download_stem>.<ext>``,
    with the extension it was stored under."""
    download_name = f"{download_stem}.{field_file.name.rsplit('.', 1)[-1]}"
    kind = sniff(field_file.open("rb"))
    content_type = kind[1] if kind else "application/octet-stream"
    response = FileResponse(
        field_file.open("rb"), as_attachment=True, filename=download_name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def validate_private_document(value) -> None:
    """Model-field validator for new uploads; the size cap is policy data."""
    if getattr(value, "_committed", True):
        return  # already stored: it was checked when it came in
    from compliance.models import PolicySettings

    validate_document(value.file, max_bytes=PolicySettings.load().upload_max_bytes)
