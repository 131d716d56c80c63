import pytest

from firmware.enos.errors import BadResponse
from firmware.enos.types import (
    DESCRIPTION_CAP,
    MAX_TAGS,
    MAX_TRANSLATIONS,
    TEXT_CAP,
    FirmwareInfo,
    I18nString,
)
from firmware.languages import enos_locale, locale_name, name_in

NAME = I18nString.from_api(
    {
        "defaultValue": "Turbine",
        "i18nValue": {"zh_CN": "风机", "en_US": "Turbine EN", "ja_JP": "風車", "es_MX": "Turbina"},
    }
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "风机"),
        ("en", "Turbine EN"),
        ("ja", "風車"),
        ("es", "Turbina"),  # no es_ES: another region of the same language
        ("fr", "Turbine"),  # no French at all: the default value
    ],
)
def test_name_for_each_django_language(language, expected):
    assert name_in(NAME, language) == expected


def test_every_ui_language_has_an_enos_locale_and_a_name(settings):
    assert [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans", "ja", "es"]
    assert {enos_locale(code) for code, _name in settings.LANGUAGES} == {
        "en_US",
        "zh_CN",
        "ja_JP",
        "es_ES",
    }
    assert locale_name("ja_JP") == "Japanese"
    assert enos_locale("pt-br") == "pt_BR"


def test_a_language_added_in_settings_is_known_everywhere(settings):
    settings.UI_LANGUAGES = [*settings.UI_LANGUAGES, ("fr", "French", "fr_FR")]
    named = I18nString.from_api({"i18nValue": {"fr_CA": "Québec", "fr_FR": "France"}})
    assert name_in(named, "fr") == "France"
    assert locale_name("fr_FR") == "French"


def test_missing_or_plain_names_are_tolerated():
    assert I18nString.from_api(None).for_locale("en_US") is None
    assert I18nString.from_api("plain").for_locale("ja_JP") == "plain"
    assert I18nString.from_api({"defaultValue": None}).for_locale("en_US") is None


BASE = {"firmwareId": "f"}


def test_file_size_as_number_or_string():
    assert FirmwareInfo.from_api({**BASE, "fileSize": 52428800}).file_size == 52428800
    assert FirmwareInfo.from_api({**BASE, "fileSize": "1048576"}).file_size == 1048576
    assert FirmwareInfo.from_api({**BASE, "fileSize": 1048576.0}).file_size == 1048576
    assert FirmwareInfo.from_api({**BASE, "fileSize": None}).file_size is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fileSize", "lots"),
        ("fileSize", -5),
        ("fileSize", float("inf")),
        ("fileSize", 2**80),
        ("fileSize", 1.5),
        ("fileSize", True),
        ("createTime", "x"),
        ("createTime", 10**30),
        ("maxAllowedForVerification", -1),
        ("minSuccessForVerified", "²"),
        ("isVerified", "yes"),
        ("version", {"major": 3}),
        ("name", ["Turbine"]),
        ("firmwareTags", ["a", "b"]),
        ("firmwareTags", {"k": {"nested": 1}}),
        ("firmwareId", "x" * 257),
    ],
)
def test_a_value_that_makes_no_sense_is_a_bad_response_naming_the_field(field, value):
    with pytest.raises(BadResponse, match=field):
        FirmwareInfo.from_api({**BASE, field: value})


def test_unknown_fields_are_ignored_and_tags_kept_as_text():
    firmware = FirmwareInfo.from_api(
        {**BASE, "futureField": {"x": 1}, "firmwareTags": {"n": 1, "empty": None}}
    )
    assert firmware.tags == {"n": "1", "empty": ""}


def test_text_is_cleaned_of_what_pages_and_databases_cannot_hold():
    firmware = FirmwareInfo.from_api(
        {
            **BASE,
            "version": "3.2\x00.1",
            "name": {"defaultValue": "Tur\x00bine\x07", "i18nValue": {"zh_CN": "风机\ud800"}},
            "firmwareTags": {"k\x00": "v\x1b"},
        }
    )
    assert firmware.version == "3.2.1"
    assert firmware.name.default == "Turbine"
    assert firmware.name.translations == {"zh_CN": "风机\ufffd"}
    assert firmware.tags == {"k": "v"}
    "".join([firmware.version, firmware.name.default, *firmware.tags]).encode("utf-8")


def test_sizes_are_capped_and_a_long_description_says_it_was_cut():
    firmware = FirmwareInfo.from_api(
        {
            **BASE,
            "desc": "d" * (5 * 1024 * 1024),
            "version": "v" * 5000,
            "firmwareTags": {f"t{i}": "x" * 5000 for i in range(1000)},
            "name": {"i18nValue": {f"l{i}": "n" for i in range(1000)}},
        }
    )
    assert len(firmware.description) == DESCRIPTION_CAP and firmware.description_truncated
    assert len(firmware.version) == TEXT_CAP
    assert len(firmware.tags) == MAX_TAGS
    assert {len(value) for value in firmware.tags.values()} == {TEXT_CAP}
    assert len(firmware.name.translations) == MAX_TRANSLATIONS
    assert not FirmwareInfo.from_api({**BASE, "desc": "short"}).description_truncated


@pytest.mark.parametrize("data", [None, [], "text", {"version": "1"}, {"firmwareId": ""}])
def test_a_record_without_an_id_is_a_bad_response(data):
    with pytest.raises(BadResponse):
        FirmwareInfo.from_api(data)
