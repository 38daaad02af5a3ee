"""Private document uploads: checked by structure, cleaned, stored outside
public paths.

SPEC §4/§7: PDF, JPEG and PNG only. A file is recognised by its bytes (a
renamed executable is refused) and then by its structure:

- images are decoded under a pixel cap read from their header (a
  decompression bomb is refused before a pixel is decoded), then re-encoded,
  so trailing data, EXIF and other metadata never reach the store;
- PDFs are parsed with pypdf and refused when they do not parse, have no page,
  are encrypted or carry JavaScript or launch actions; anything after the
  last end-of-file marker is cut off.

Files are stored under random names (the original name is kept by the models
for display only) and served only through permission-checked views.
"""

import io
import os
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.http import FileResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# Magic bytes → (canonical extension, content type).
SIGNATURES = (
    (b"%PDF-", ("pdf", "application/pdf")),
    (b"\xff\xd8\xff", ("jpg", "image/jpeg")),
    (b"\x89PNG\r\n\x1a\n", ("png", "image/png")),
)
CONTENT_TYPES = {ext: content_type for _magic, (ext, content_type) in SIGNATURES}
MB = 1_000_000  # "10 MB" in a message means 10,000,000 bytes

# PDF names that run code or open other programs.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/Launch"}
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}
PDF_MAX_OBJECTS = 200_000


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


def _default_limits() -> UploadLimits:
    return UploadLimits(max_bytes=10 * MB, max_pixels=40_000_000)


# The figures are policy data that the compliance app owns; it installs a
# provider at start-up (compliance.apps), so that shops never imports it.
_limits_provider: Callable[[], UploadLimits] = _default_limits


def set_limits_provider(provider: Callable[[], UploadLimits]) -> None:
    global _limits_provider
    _limits_provider = provider


def upload_limits() -> UploadLimits:
    return _limits_provider()


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


@dataclass(frozen=True)
class CheckedDocument:
    ext: str
    content_type: str
    content: bytes  # what is stored: the cleaned file


def _refuse(message, code, **params):
    raise ValidationError(message, code=code, params=params or None)


def check_document(upload, *, limits: UploadLimits | None = None) -> CheckedDocument:
    """The cleaned content of an acceptable upload, else ValidationError with
    a message for the person who uploaded it."""
    limits = limits or upload_limits()
    if upload.size > limits.max_bytes:
        _refuse(_("The file is %(size)s MB; files may be at most %(max)s MB."), "file_too_large",
                size=f"{upload.size / MB:.1f}", max=f"{limits.max_bytes / MB:g}")
    kind = sniff(upload)
    if kind is None:
        _refuse(_("Only PDF, JPEG and PNG files are accepted; this file is none of them, whatever its name says."),
                "file_type")
    ext, content_type = kind
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    content = _clean_pdf(data) if ext == "pdf" else _clean_image(data, ext, limits)
    return CheckedDocument(ext, content_type, content)


def _clean_image(data: bytes, ext: str, limits: UploadLimits) -> bytes:
    unreadable = _("The image could not be read: it is damaged or incomplete.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > limits.max_pixels:
                _refuse(_("The image is %(w)d × %(h)d pixels; images may have at most %(max)s million pixels."),
                        "image_too_large", w=width, h=height, max=f"{limits.max_pixels / 1e6:g}")
            image.load()  # decodes every pixel: truncated or corrupt data fails here
            image = ImageOps.exif_transpose(image)  # keep a phone photo upright once EXIF is gone
            out = io.BytesIO()
            if ext == "png":
                image.save(out, format="PNG")
            else:
                if image.mode not in ("RGB", "L", "CMYK"):
                    image = image.convert("RGB")
                image.save(out, format="JPEG", quality=92)
            return out.getvalue()
    except Image.DecompressionBombError:  # Pillow's own, lower ceiling was hit first
        _refuse(_("The image has too many pixels; images may have at most %(max)s million pixels."),
                "image_too_large", max=f"{limits.max_pixels / 1e6:g}")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        _refuse(unreadable, "file_corrupt")


def _clean_pdf(data: bytes) -> bytes:
    unreadable = _("The PDF could not be read: it is damaged, incomplete or not really a PDF.")
    end = data.rfind(b"%%EOF")
    if end < 0:
        _refuse(_("The PDF is incomplete (it has no end-of-file marker)."), "file_corrupt")
    data = data[: end + 5] + b"\n"  # what follows the last marker is not part of the document
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _refuse(_("The PDF is encrypted or password-protected; upload a copy without a password."),
                    "pdf_encrypted")
        if len(reader.pages) < 1:
            _refuse(unreadable, "file_corrupt")
        # Walk every object reachable from the trailer, looking for code.
        seen: set[tuple[int, int]] = set()
        stack = [reader.trailer]
        visited = 0
        while stack:
            node = stack.pop()
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in seen:
                    continue
                seen.add(key)
                node = node.get_object()
            visited += 1
            if visited > PDF_MAX_OBJECTS:
                _refuse(unreadable, "file_corrupt")
            if isinstance(node, DictionaryObject):
                if PDF_ACTIVE_KEYS & set(node.keys()) or node.get("/S") in PDF_ACTIVE_ACTIONS:
                    _refuse(_("The PDF contains scripts or actions that open other programs; "
                              "print it to a new PDF and upload that."), "pdf_active")
                stack.extend(node.values())
            elif isinstance(node, ArrayObject):
                stack.extend(node)
    except ValidationError:
        raise
    except Exception:  # pypdf raises many kinds of error on hostile input
        _refuse(unreadable, "file_corrupt")
    return data


def original_name(upload) -> str:
    """The uploader's file name, fit for display only (never for storage)."""
    name = os.path.basename(str(getattr(upload, "name", "") or "").replace("\\", "/"))
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    return name.strip()[:200]


@deconstructible(path="shops.uploads.PrivateUploadTo")
class PrivateUploadTo:
    """An ``upload_to`` that never keeps the user's file name (it may carry
    personal data or path tricks): a random name under ``folder/``."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename):
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
        ext = ext if ext in {"pdf", "jpg", "jpeg", "png"} else "bin"
        return f"{self.folder}/{uuid.uuid4().hex}.{ext}"

    def __eq__(self, other):
        return isinstance(other, PrivateUploadTo) and other.folder == self.folder


def validate_private_document(value) -> None:
    """Model-field validator for new uploads. The checked, cleaned content is
    kept on the file so that saving stores exactly what was checked."""
    if getattr(value, "_committed", True):
        return  # already stored: it was checked when it came in
    value.file._checked_document = getattr(value.file, "_checked_document", None) or check_document(value.file)


class DocumentField(models.FileField):
    """A private document: checked on validation, stored cleaned (re-encoded
    image, trimmed PDF) under a random name with the right extension."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("storage", private_storage)
        kwargs.setdefault("validators", [validate_private_document])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("storage", None)
        kwargs.pop("validators", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            checked = getattr(file.file, "_checked_document", None) or check_document(file.file)
            stem = os.path.splitext(os.path.basename(file.name))[0] or "document"
            file.save(f"{stem}.{checked.ext}", ContentFile(checked.content), save=False)
        return file


class DocumentInfoMixin:
    """What a person needs to recognise a stored document: its original name,
    its type and its size (the stored name is random). Models with a ``file``
    field and an ``original_name`` use it."""

    @property
    def display_name(self) -> str:
        return self.original_name or self.file.name.rsplit("/", 1)[-1]

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1].lower() if self.file else ""

    @property
    def kind_label(self) -> str:
        return {"pdf": "PDF", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}.get(self.extension, self.extension.upper())

    @property
    def is_image(self) -> bool:
        return self.extension in ("jpg", "jpeg", "png")

    @property
    def is_pdf(self) -> bool:
        return self.extension == "pdf"

    @property
    def size_label(self) -> str:
        try:
            size = self.file.size
        except (OSError, ValueError):
            return "—"
        return f"{size / MB:.1f} MB" if size >= 100_000 else f"{max(size / 1000, 0.1):.1f} KB"


def preview_response(field_file, *, download_stem: str) -> FileResponse:
    """The same file shown in the page (staff previews in the admin): inline,
    framable only by our own pages, and allowed nothing else."""
    response = attachment_response(field_file, download_stem=download_stem, inline=True)
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
    return response


def attachment_response(field_file, *, download_stem: str, inline: bool = False) -> FileResponse:
    """Serve a private file named ``<download_stem>.<ext>``, as an attachment
    unless ``inline`` (staff previews), with the extension it was stored under."""
    ext = field_file.name.rsplit(".", 1)[-1].lower()
    download_name = f"{download_stem}.{ext}"
    kind = sniff(field_file.open("rb"))
    content_type = kind[1] if kind else "application/octet-stream"
    response = FileResponse(
        field_file.open("rb"), as_attachment=not inline, filename=download_name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
