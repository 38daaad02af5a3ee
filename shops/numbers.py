"""Whole numbers and dates from outside — a query string, a form, an API body,
a CSV file — read one way everywhere.

``str.isdigit()`` accepts "²" and Arabic-Indic digits that ``int()`` refuses
or reads differently, and ``int()`` turns "99999999999999999999999" into a
number no column holds. So every caller goes through ``whole_number``: NFKC
first (full-width ０ and superscript ² become 0 and 2, as identifiers do),
then ASCII digits only (a leading minus where negative numbers are allowed),
then the caller's bounds — checked on the length of the digits before any
conversion, so a ten-thousand-digit string costs nothing.

Dates: ``date_in_bounds`` keeps a date from outside between the first day
this platform records anything and a caller's latest day (today for a
certificate's issue date): 9999-12-31 is a typo, not a date.
"""

import datetime
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .identifiers import is_digits

# Nothing this platform records — a certificate's issue, a violation, a daily
# figure — happened before this day, and no certificate runs past the last:
# 9999-12-31 is a typo (a certificate without an end is "permanent").
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)
# A bound for row ids and counts that no column exceeds: PostgreSQL's bigint.
BIGINT_MAX = 9_223_372_036_854_775_807


class NumberRefused(ValueError):
    """The text is not a whole number within the bounds; the message says why,
    in the active language."""


def whole_number(value, *, low: int = 0, high: int = BIGINT_MAX) -> int:
    """``value`` (text or an int) as an int between ``low`` and ``high``."""
    if isinstance(value, bool):
        raise NumberRefused(_("“%(value)s” is not a whole number.") % {"value": value})
    if isinstance(value, int):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
        negative = text.startswith("-") and low < 0
        digits = text[1:] if negative else text
        if not is_digits(digits):
            raise NumberRefused(_("“%(value)s” is not a whole number.") % {"value": str(value)[:40]})
        widest = len(str(max(abs(low), abs(high))))
        if len(digits.lstrip("0")) > widest:
            raise _out_of_bounds(value, low, high)
        number = -int(digits) if negative else int(digits)
    if not low <= number <= high:
        raise _out_of_bounds(value, low, high)
    return number


def _out_of_bounds(value, low: int, high: int) -> NumberRefused:
    return NumberRefused(_("“%(value)s” is not between %(low)s and %(high)s.")
                         % {"value": str(value)[:40], "low": f"{low:,}", "high": f"{high:,}"})


def whole_number_or_none(value, *, low: int = 0, high: int = BIGINT_MAX) -> int | None:
    """For query strings: the number, or None when there is none or it is refused."""
    if value in (None, ""):
        return None
    try:
        return whole_number(value, low=low, high=high)
    except NumberRefused:
        return None


def date_in_bounds(day: datetime.date, *, latest: datetime.date | None = None,
                   earliest: datetime.date = EARLIEST_DAY) -> datetime.date:
    """``day`` when it lies between ``earliest`` and ``latest`` (both included)."""
    if day < earliest:
        raise ValidationError(_("%(day)s is too early: no date before %(earliest)s is accepted.")
                              % {"day": day.isoformat(), "earliest": earliest.isoformat()}, code="too_early")
    if latest is not None and day > latest:
        raise ValidationError(_("%(day)s is too late: the latest date accepted is %(latest)s.")
                              % {"day": day.isoformat(), "latest": latest.isoformat()}, code="too_late")
    return day


class WholeNumberField(forms.IntegerField):
    """A form's whole number, read by ``whole_number`` (Django's IntegerField
    takes Arabic-Indic digits and any size)."""

    default_error_messages = {"invalid": gettext_lazy("Enter a whole number.")}

    def __init__(self, *, min_value: int = 0, max_value: int = BIGINT_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return whole_number(value, low=self.min_value, high=self.max_value)
        except NumberRefused as exc:
            raise ValidationError(str(exc), code="invalid") from None
