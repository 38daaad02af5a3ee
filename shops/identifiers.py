"""Chinese identifiers with their real checksums, and how they are shown.

SPEC §3: USCC per GB 32100-2015, resident ID per GB 11643, bank card by Luhn.
Each validator normalises nothing itself; ``normalize_identifier`` does that
(NFKC, so full-width ０ and superscript ² become 0 and 2; spaces and dashes
out; upper case) before validation, in the model fields below. After that
only ASCII digits and letters pass: ``str.isdigit()`` also accepts Arabic-Indic
and other digits that ``int()`` or a checksum cannot use.
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the 31 characters allowed (no I, O, Z, S, V) and the weights of
# the 17 leading positions; the 18th is the check character.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11643-1999: weights of the 17 leading digits, check characters by remainder.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"


ASCII_DIGITS = frozenset("0123456789")


def normalize_identifier(value: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or "")).upper()


def is_digits(value: str) -> bool:
    """ASCII digits only (unlike ``str.isdigit``), and at least one."""
    return bool(value) and set(value) <= ASCII_DIGITS


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def resident_id_check_char(first17: str) -> str:
    return RESIDENT_ID_CHECK[sum(int(c) * w for c, w in zip(first17, RESIDENT_ID_WEIGHTS)) % 11]


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn test."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:  # doubled positions, counted from the (future) check digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def validate_uscc(value: str) -> None:
    if len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="uscc_length",
            params={"n": len(value)},
        )
    bad = sorted({c for c in value if c not in USCC_CHARSET})
    if bad:
        raise ValidationError(
            _("A unified social credit code cannot contain %(chars)s (I, O, Z, S and V are never used)."),
            code="uscc_charset",
            params={"chars": ", ".join(bad)},
        )
    if not is_digits(value[2:8]):
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the region code and must be digits."),
            code="uscc_region",
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("This unified social credit code fails its check character: please re-check every character."),
            code="uscc_checksum",
        )


def validate_resident_id(value: str) -> None:
    if len(value) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(n)d."),
            code="id_length",
            params={"n": len(value)},
        )
    if not is_digits(value[:17]) or not (is_digits(value[17]) or value[17] == "X"):
        raise ValidationError(
            _("A resident ID number is 17 digits followed by a digit or X."),
            code="id_charset",
        )
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth > datetime.date.today():
        raise ValidationError(
            _("Digits 7 to 14 of a resident ID number must be a real date of birth (YYYYMMDD)."),
            code="id_birth_date",
        )
    if resident_id_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("This resident ID number fails its check character: please re-check every digit."),
            code="id_checksum",
        )


def validate_bank_card(value: str) -> None:
    if not is_digits(value):
        raise ValidationError(_("A bank card number contains digits only."), code="card_charset")
    if not 16 <= len(value) <= 19:
        raise ValidationError(
            _("A bank card number has 16 to 19 digits; this one has %(n)d."),
            code="card_length",
            params={"n": len(value)},
        )
    if luhn_check_digit(value[:-1]) != value[-1]:
        raise ValidationError(
            _("This bank card number fails its check digit: please re-check every digit."),
            code="card_checksum",
        )


def mask_identifier(value: str) -> str:
    """``110105194912310021`` → ``1101**********0021`` (SPEC §3)."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


class IdentifierField(models.CharField):
    """A CharField that normalises what is typed (spaces, dashes, case) before
    its validators run, so ``9144 0300 7152 6726 xg`` is accepted as written."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_identifier(value) if value else value
