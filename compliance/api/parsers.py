"""The API's one body parser: JSON within the size and nesting limits
(compliance.api.limits), refused with a clear message in the request's
language before anything is parsed in full.

Python's JSON decoder recurses once per level: ``[`` a thousand times (2 KB)
exhausts the stack. So the nesting is measured first, at C speed: strings are
cut out, everything but brackets is dropped, and the innermost pairs are
removed once per allowed level — brackets left after that are nested too
deep (or do not match)."""

import json
import re

from django.utils.translation import gettext as _
from rest_framework import exceptions, renderers
from rest_framework.parsers import BaseParser

from . import limits

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"

    def __init__(self):
        super().__init__(too_large_message())


def too_large_message() -> str:
    return _("The request body is too large: at most %(mb)d MB (%(bytes)s bytes). Send fewer warnings in one call.") % {
        "mb": limits.MAX_BODY_MB, "bytes": f"{limits.MAX_BODY_BYTES:,}"}


def nesting_within(raw: bytes, depth: int) -> bool:
    """Whether the JSON text's brackets close within ``depth`` levels."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _level in range(depth):
        if not brackets:
            return True
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


class _Constant(ValueError):
    pass


def _no_constants(name):
    raise _Constant(name)


class JSONBodyParser(BaseParser):
    """Not a subclass of DRF's JSONParser on purpose: DRF reads those through
    ``request.body``, which refuses anything above Django's 2.5 MB upload
    setting with a generic 400; this one reads the stream up to the API's own
    limit."""

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(limits.MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > limits.MAX_BODY_BYTES:
            raise BodyTooLarge()
        if not nesting_within(raw, limits.MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                _("The body is nested more than %(n)d levels deep, or its brackets do not match.")
                % {"n": limits.MAX_JSON_DEPTH})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.ParseError(_("The body is not UTF-8 text.")) from None
        try:
            return json.loads(text, parse_constant=_no_constants)
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid JSON (line %(line)d, column %(column)d).")
                                        % {"line": exc.lineno, "column": exc.colno}) from None
        except _Constant:
            raise exceptions.ParseError(_("The body is not valid JSON: NaN and Infinity are not numbers in JSON.")) \
                from None
        except ValueError:  # an integer literal of thousands of digits
            raise exceptions.ParseError(_("The body is not valid JSON: a number in it is too long.")) from None
