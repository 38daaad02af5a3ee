"""What one API request may carry (SPEC §12), each figure in one place: the
serializers check rows against the per-row caps, and the body limit is
computed from them, so that the largest valid batch always fits.

The body limit assumes compact JSON in UTF-8 (RFC 8259), every character of
free text at its widest (4 bytes). A client that escapes characters as
``\\uXXXX`` or pretty-prints sends more bytes for the same batch: it should
stay under the limit, or send smaller batches."""

# A batch of warnings (SPEC §12: "up to 1,000 warnings in one call").
BATCH_LIMIT = 1000
REPORT_ID_MAX = 64
SUMMARY_MAX = 300
RULE_CODE_MAX = 40
SHOP_NO_MAX = 20
MAX_ORDERS = 500
ORDER_NO_MAX = 40
# An order number: 6 to 40 ASCII letters, digits, "-" or "_", starting with a
# letter or digit (a platform order number is 19 digits; "-1" is not one).
ORDER_NO_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_-]{5,39}$"
MAX_PRODUCTS = 200
PRODUCT_NO_MAX = 20
EVIDENCE_MAX_CHARS = 20_000  # of the evidence as compact JSON

# A batch of daily rows (daily orders, experience scores).
IMPORT_ROWS_MAX = 10_000
IMPORT_ROW_MAX_BYTES = 200  # {"shop": 20 digits, "day": "YYYY-MM-DD", two figures}

# A body nested deeper than this is refused before it is parsed: a batch is
# {"warnings": [{…, "evidence": {"name": [values or {…}]}}]}, six levels at most.
MAX_JSON_DEPTH = 8

_UTF8_WIDEST = 4
_ROW_FRAME = 200  # the field names, quotes, colons, commas and braces of one row
_DATETIME = 40  # "2026-11-28T20:46:39.123456+08:00" in quotes


def warning_row_max_bytes() -> int:
    """The largest valid warning row as compact UTF-8 JSON."""
    return (_ROW_FRAME + (REPORT_ID_MAX + SUMMARY_MAX + EVIDENCE_MAX_CHARS) * _UTF8_WIDEST
            + SHOP_NO_MAX + 2 * RULE_CODE_MAX + _DATETIME
            + MAX_ORDERS * (ORDER_NO_MAX + 3) + MAX_PRODUCTS * (PRODUCT_NO_MAX + 3))


def max_body_bytes() -> int:
    """The largest body any endpoint accepts: a full batch of warnings at
    every cap (the imports' largest batch is far smaller), plus the envelope."""
    return max(BATCH_LIMIT * (warning_row_max_bytes() + 1), IMPORT_ROWS_MAX * IMPORT_ROW_MAX_BYTES) + 1024


MAX_BODY_BYTES = max_body_bytes()
MAX_BODY_MB = -(-MAX_BODY_BYTES // 1_000_000)  # rounded up, as messages say it
