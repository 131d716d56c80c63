import pytest

from firmware.enos.errors import BadResponse
from firmware.enos.types import FirmwareInfo, I18nString
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


def test_missing_or_odd_names_are_tolerated():
    assert I18nString.from_api(None).for_locale("en_US") is None
    assert I18nString.from_api("plain").for_locale("ja_JP") == "plain"
    assert I18nString.from_api({"i18nValue": "not a map"}).for_locale("en_US") is None


def test_file_size_as_number_or_string_and_garbage():
    base = {"firmwareId": "f"}
    assert FirmwareInfo.from_api({**base, "fileSize": 52428800}).file_size == 52428800
    assert FirmwareInfo.from_api({**base, "fileSize": "1048576"}).file_size == 1048576
    assert FirmwareInfo.from_api({**base, "fileSize": "lots"}).file_size is None


def test_unknown_fields_are_ignored_and_tags_kept_as_text():
    firmware = FirmwareInfo.from_api(
        {
            "firmwareId": "f",
            "futureField": {"x": 1},
            "firmwareTags": {"n": 1, "empty": None},
            "createTime": "x",
        }
    )
    assert firmware.tags == {"n": "1", "empty": ""}
    assert firmware.created_at is None


@pytest.mark.parametrize("data", [None, [], "text", {"version": "1"}, {"firmwareId": ""}])
def test_a_record_without_an_id_is_a_bad_response(data):
    with pytest.raises(BadResponse):
        FirmwareInfo.from_api(data)
