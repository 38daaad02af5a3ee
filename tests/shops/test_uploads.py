"""Uploads are checked by structure, not only by their first bytes."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from shops.uploads import UploadLimits, check_document, original_name
from tests.factories import pdf_bytes, pdf_upload, png_upload

LIMITS = UploadLimits(max_bytes=10_000_000, max_pixels=40_000_000)


def jpeg_upload(**save_kwargs):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="JPEG", **save_kwargs)
    return SimpleUploadedFile("photo.jpg", buffer.getvalue())


@pytest.mark.parametrize("make, kind", [(png_upload, "png"), (jpeg_upload, "jpg"), (pdf_upload, "pdf")])
def test_accepted_by_content(make, kind):
    assert check_document(make(), limits=LIMITS).ext == kind


def code_of(upload, limits=LIMITS):
    with pytest.raises(ValidationError) as info:
        check_document(upload, limits=limits)
    return info.value.code


def test_renamed_executable_is_refused():
    assert code_of(SimpleUploadedFile("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 100)) == "file_type"


def test_corrupt_image_is_refused():
    data = png_upload().read()
    assert code_of(SimpleUploadedFile("broken.png", data[: len(data) // 2])) == "file_corrupt"


def test_truncated_pdf_is_refused():
    assert code_of(SimpleUploadedFile("cut.pdf", b"%PDF-1.4\n1 0 obj<<>>")) == "file_corrupt"


def test_oversized_is_refused_before_reading():
    assert code_of(png_upload(size=(400, 400)), limits=UploadLimits(max_bytes=100, max_pixels=10**9)) == (
        "file_too_large")


def test_size_message_means_decimal_megabytes():
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 1_500_000)
    with pytest.raises(ValidationError) as info:
        check_document(upload, limits=UploadLimits(max_bytes=1_000_000, max_pixels=10**9))
    assert "1.5 MB" in info.value.messages[0] and " 1 MB" in info.value.messages[0]


# PDFs: parsed, not sniffed ---------------------------------------------------------

def test_pdf_header_over_html_is_refused():
    body = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n"
    assert code_of(SimpleUploadedFile("x.pdf", body)) == "file_corrupt"


def test_pdf_header_over_an_executable_is_refused():
    body = b"%PDF-1.4\nMZ\x90\x00\x03" + b"\x00" * 200 + b"This program cannot be run in DOS mode\n%%EOF"
    assert code_of(SimpleUploadedFile("x.pdf", body)) == "file_corrupt"


def test_pdf_with_javascript_is_refused():
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert(1)")})
    assert code_of(SimpleUploadedFile("x.pdf", pdf_bytes(**{"/OpenAction": action}))) == "pdf_active"


def test_pdf_with_a_launch_action_is_refused():
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                               NameObject("/F"): TextStringObject("cmd.exe")})
    assert code_of(SimpleUploadedFile("x.pdf", pdf_bytes(**{"/OpenAction": action}))) == "pdf_active"


def test_encrypted_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert code_of(SimpleUploadedFile("x.pdf", buffer.getvalue())) == "pdf_encrypted"


def test_data_after_the_pdf_end_marker_is_cut_off():
    body = pdf_bytes() + b"<script>alert(1)</script>"
    checked = check_document(SimpleUploadedFile("x.pdf", body), limits=LIMITS)
    assert b"<script>" not in checked.content and checked.content.rstrip().endswith(b"%%EOF")


# Images: decoded under a pixel cap, re-encoded ---------------------------------------

def bomb_png(width, height) -> bytes:
    """A PNG that declares ``width`` × ``height`` pixels: tiny on disk."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 8000)])
def test_decompression_bomb_is_refused_by_its_declared_size(size):
    assert code_of(SimpleUploadedFile("bomb.png", bomb_png(*size))) == "image_too_large"


def test_png_with_html_after_its_end_is_stored_without_it():
    body = png_upload().read() + b"<html><script>alert(1)</script></html>"
    checked = check_document(SimpleUploadedFile("x.png", body), limits=LIMITS)
    assert b"<script>" not in checked.content and checked.content.endswith(b"IEND\xaeB`\x82")
    Image.open(io.BytesIO(checked.content)).verify()


def test_image_metadata_is_dropped():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS
    checked = check_document(jpeg_upload(exif=exif.tobytes()), limits=LIMITS)
    assert b"SecretCam" not in checked.content
    assert not Image.open(io.BytesIO(checked.content)).getexif()


def test_original_name_is_kept_for_display_only():
    assert original_name(SimpleUploadedFile("../../etc/质检报告\x00.pdf", b"")) == "质检报告.pdf"
    assert original_name(SimpleUploadedFile("C:\\Users\\me\\营业执照.png", b"")) == "营业执照.png"
