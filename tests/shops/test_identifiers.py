import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from shops.identifiers import (
    mask_identifier,
    normalize_identifier,
    validate_bank_card,
    validate_resident_id,
    validate_uscc,
)


def error_code(validator, value):
    with pytest.raises(ValidationError) as info:
        validator(value)
    return info.value.code


# Real, publicly registered companies' codes (national enterprise credit register).
@pytest.mark.parametrize(
    "code",
    [
        "9144030071526726XG",  # Shenzhen Tencent Computer Systems
        "91330100716105852F",  # Alibaba (China)
        "91110000802100433B",  # a Beijing state enterprise
        "91350100M000100Y43",
    ],
)
def test_real_uscc_pass(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("9144030071526726XH", "uscc_checksum"),  # last character altered
        ("9144030071526727XG", "uscc_checksum"),  # one body digit altered
        ("9144030071526726X", "uscc_length"),
        ("9144030071526726XGG", "uscc_length"),
        ("9144030071526I26XG", "uscc_charset"),  # I is never used
        ("914403007152O726XG", "uscc_charset"),  # O neither
        ("91AB030071526726XG", "uscc_region"),
    ],
)
def test_bad_uscc_say_what_is_wrong(code, expected):
    assert error_code(validate_uscc, code) == expected


@pytest.mark.parametrize("number", ["11010519491231002X", "440524198001010013"])
def test_resident_ids_pass(number):
    validate_resident_id(number)


@pytest.mark.parametrize(
    "number, expected",
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_length"),
        ("11010519491231002Y", "id_charset"),
        ("1101051949123A002X", "id_charset"),
        ("110105194902300028", "id_birth_date"),  # 30 February
        ("110105189912310020", "id_birth_date"),  # before 1900
        ("110105299912310020", "id_birth_date"),  # in the future
    ],
)
def test_bad_resident_ids(number, expected):
    assert error_code(validate_resident_id, number) == expected


@pytest.mark.parametrize("number", ["4111111111111111", "6222021234567890128", "6212261202011584340"])
def test_bank_cards_pass(number):
    validate_bank_card(number)


@pytest.mark.parametrize(
    "number, expected",
    [
        ("4111111111111112", "card_checksum"),
        ("411111111111111", "card_length"),  # 15 digits
        ("41111111111111111111", "card_length"),  # 20 digits
        ("4111-1111-1111-1111", "card_charset"),  # un-normalised
    ],
)
def test_bad_bank_cards(number, expected):
    assert error_code(validate_bank_card, number) == expected


def test_normalisation_accepts_spaces_dashes_and_lower_case():
    assert normalize_identifier(" 9144 0300 7152 6726 xg ") == "9144030071526726XG"
    assert normalize_identifier("4111-1111-1111-1111") == "4111111111111111"


def test_normalisation_folds_full_width_and_compatibility_digits():
    # NFKC: full-width ０ and superscript ² are the ASCII digits a person meant.
    assert normalize_identifier("９１４４０３００７１５２６７２６ＸＧ") == "9144030071526726XG"
    assert normalize_identifier("110105194912310²21") == "110105194912310221"
    assert normalize_identifier("1101\u3000051949－12310021") == "110105194912310021"


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize("validator, valid", [
    (validate_resident_id, "11010519491231002X"),
    (validate_bank_card, "4111111111111111"),
    (validate_uscc, "91330100716105852F"),
])
@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI])
def test_non_ascii_digits_are_refused_with_a_message(validator, valid, digits):
    """str.isdigit() accepts these; int() and the checksums cannot use them."""
    typed = normalize_identifier(valid.translate(digits))
    assert typed != valid  # NFKC does not fold them
    with pytest.raises(ValidationError):
        validator(typed)


def test_identifier_field_stores_the_normalised_ascii_value():
    from shops.models import Controller

    field = Controller._meta.get_field("id_number")
    assert field.clean("１１０１０５１９４９１２３１００２Ｘ", None) == "11010519491231002X"
    with pytest.raises(ValidationError):
        field.clean("11010519491231002X".translate(ARABIC_INDIC), None)


def test_masking():
    assert mask_identifier("11010519491231002X") == "1101**********002X"
    assert mask_identifier("4111111111111111") == "4111********1111"
    assert mask_identifier("") == ""
    assert mask_identifier("1234") == "****"


def test_messages_in_both_languages():
    # Messages are lazy: they are rendered in the language active when shown.
    with pytest.raises(ValidationError) as info:
        validate_uscc("9144030071526726XH")
    with translation.override("en"):
        assert "fails its check character" in info.value.messages[0]
    with translation.override("zh-hans"):
        assert "校验位不正确" in info.value.messages[0]
    with translation.override("en"):
        with pytest.raises(ValidationError) as info:
            validate_resident_id("11010519491231002")
        assert "has 18 characters; this one has 17" in info.value.messages[0]
    with translation.override("zh-hans"):
        assert "此号码为 17 位" in info.value.messages[0]
