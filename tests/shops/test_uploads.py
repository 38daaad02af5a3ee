import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shops.uploads import validate_document
from tests.factories import pdf_upload, png_upload

MB = 1_048_576


def jpeg_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue())


@pytest.mark.parametrize("make, kind", [(png_upload, "png"), (jpeg_upload, "jpg"), (pdf_upload, "pdf")])
def test_accepted_by_content(make, kind):
    assert validate_document(make(), max_bytes=MB)[0] == kind


def code_of(upload, max_bytes=MB):
    with pytest.raises(ValidationError) as info:
        validate_document(upload, max_bytes=max_bytes)
    return info.value.code


def test_renamed_executable_is_refused():
    assert code_of(SimpleUploadedFile("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 100)) == "file_type"


def test_corrupt_image_is_refused():
    data = png_upload().read()
    assert code_of(SimpleUploadedFile("broken.png", data[: len(data) // 2])) == "file_corrupt"


def test_truncated_pdf_is_refused():
    assert code_of(SimpleUploadedFile("cut.pdf", b"%PDF-1.4\n1 0 obj<<>>")) == "file_corrupt"


def test_oversized_is_refused_before_reading():
    assert code_of(png_upload(size=(400, 400)), max_bytes=100) == "file_too_large"
