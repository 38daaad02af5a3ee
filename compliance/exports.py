"""Streaming CSV and XLSX: rows go out as they are read, so an export of a
million tickets never holds them in memory.

XLSX is a zip of XML parts. ``zipfile`` can write to a stream it cannot seek
(it then uses data descriptors), so the worksheet is written row by row into
a zip whose bytes are handed to the response as they are produced. Cells are
inline strings and numbers: no shared-strings table to build up.
"""

import csv
import datetime
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse


class _Sink:
    """A write-only file object that collects bytes until they are drained."""

    def __init__(self):
        self.chunks = []
        self.position = 0

    def write(self, data):
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def flush(self):
        pass

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


class _Echo:
    def write(self, value):
        return value


def csv_rows(header, rows):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel then opens UTF-8 (Chinese) correctly
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(["" if v is None else _text(v) for v in row])


def _text(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _column(n: int) -> str:
    name = ""
    while n >= 0:
        n, r = divmod(n, 26)
        name = chr(65 + r) + name
        n -= 1
    return name


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(_text(value))}</t></is></c>'


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet_name)[:31]}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def xlsx_chunks(header, rows, *, sheet_name="Sheet1", rows_per_chunk=500):
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for number, row in enumerate([header], start=1):
                sheet.write(_row(number, row))
            for number, row in enumerate(rows, start=2):
                sheet.write(_row(number, row))
                if number % rows_per_chunk == 0:
                    yield sink.drain()
            sheet.write(b"</sheetData></worksheet>")
        yield sink.drain()
    yield sink.drain()


def _row(number: int, values) -> bytes:
    cells = "".join(_cell(f"{_column(i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'.encode()


def streaming_export(fmt: str, *, header, rows, filename: str) -> StreamingHttpResponse:
    if fmt == "csv":
        response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            xlsx_chunks(header, rows, sheet_name=filename),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def write_export(fmt: str, path, *, header, rows, progress=None) -> int:
    """The same file as ``streaming_export``, written to ``path`` (an export
    job's result); ``progress(rows written)`` as it goes. Returns the rows."""
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
            yield row

    chunks = csv_rows(header, counted()) if fmt == "csv" else xlsx_chunks(header, counted(), sheet_name=path.stem)
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk.encode() if isinstance(chunk, str) else chunk)
    if progress is not None:
        progress(count)
    return count
