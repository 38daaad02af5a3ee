"""Fields that take exactly what the published schema says (SPEC §12).

DRF is lenient by default: a CharField takes 12 for "12", an IntegerField
takes "12" and 12.0, a BooleanField takes "yes", a DateTimeField takes a
time without an offset. A client generated from the schema never sends
those, and a fuzzer that sends them expects a refusal; so every input field
here takes only its own JSON type and format. Numbers go through the one
whole-number parser (shops.numbers)."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shops.numbers import EARLIEST_DAY, NumberRefused, date_in_bounds, whole_number

# RFC 3339 date-time; its note allows a space for the "T". The offset is required.
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,12})?([Zz]|[+-]\d{2}:\d{2})$"


class StrictRegexField(serializers.RegexField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        try:
            return whole_number(data, low=self.min_value if self.min_value is not None else -(2 ** 63),
                                high=self.max_value if self.max_value is not None else 2 ** 63 - 1)
        except NumberRefused as exc:
            raise serializers.ValidationError(str(exc)) from None


class StrictNumberField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDateField(serializers.DateField):
    """YYYY-MM-DD exactly, from 2000 on."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        try:
            return date_in_bounds(day)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDateTimeField(serializers.DateTimeField):
    """RFC 3339 with its offset (``2026-11-28T20:46:39+08:00``), from 2000 on."""

    default_error_messages = {
        "invalid": _("Give a time as RFC 3339 with its offset, e.g. 2026-11-28T20:46:39+08:00."),
        "too_early": _("A time before %(earliest)s is not accepted."),
    }

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(RFC3339, value, re.ASCII):
            self.fail("invalid")
        moment = super().to_internal_value(value)
        if moment.date() < EARLIEST_DAY:
            raise serializers.ValidationError(self.error_messages["too_early"] % {"earliest": EARLIEST_DAY})
        return moment


def flat_errors(detail) -> dict[str, list[str]]:
    """A serializer's errors as ``{field: [messages]}`` — a list field's item
    errors under ``field.index`` — whatever their nesting."""
    out: dict[str, list[str]] = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            for index, inner in enumerate(value):
                if inner:
                    walk(inner, f"{path}.{index}")
        else:
            out.setdefault(path or "non_field_errors", []).extend(
                str(v) for v in (value if isinstance(value, list) else [value]))

    walk(detail, "")
    return out
