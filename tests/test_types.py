import pytest

from firmware.enos.errors import BadResponse
from firmware.enos.types import (
    DESCRIPTION_CAP,
    MAX_POLICY_ENTRIES,
    MAX_TAGS,
    MAX_TRANSLATIONS,
    TEXT_CAP,
    DeviceFirmware,
    FirmwareInfo,
    I18nString,
    JobInfo,
    Policy,
    TaskInfo,
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


JOB = {"jobId": "job-1", "orgId": "o1", "type": "VERIFY", "createTime": 1709510400000}
TASK = {"taskId": "t-1", "jobId": "job-1", "status": "failed", "progress": -1, "desc": "offline"}


def test_a_job_reads_its_names_times_and_policies():
    job = JobInfo.from_api(
        {
            **JOB,
            "name": {"defaultValue": "Rollout", "i18nValue": {"zh_CN": "升级"}},
            "upgradeScope": {"type": "device", "obj": ["d1", "d2"]},
            "retryPolicy": None,
            "schedulePolicy": "immediate",
            "upgradeTimeout": "3600",
        }
    )
    assert job.type == "verify" and job.created_at.tzinfo is not None
    assert job.name.for_locale("zh_CN") == "升级"
    assert job.upgrade_scope.entries == (("type", "device"), ("obj[0]", "d1"), ("obj[1]", "d2"))
    assert not job.retry_policy and job.schedule_policy.get("") == "immediate"
    assert job.upgrade_timeout == 3600


def test_a_policy_is_bounded_in_entries_depth_and_text():
    wide = Policy.from_api({f"k{i}": "x" * 5000 for i in range(MAX_POLICY_ENTRIES + 5)})
    assert len(wide.entries) == MAX_POLICY_ENTRIES and wide.truncated
    assert {len(text) for _key, text in wide.entries} == {TEXT_CAP}
    deep: dict = {"leaf": 1}
    for _ in range(20):
        deep = {"k": deep}
    assert Policy.from_api(deep) == Policy((), truncated=True)
    assert Policy.from_api({"a\x00": "b\x07"}).entries == (("a", "b"),)


@pytest.mark.parametrize(
    ("what", "record", "field", "value"),
    [
        (JobInfo, JOB, "jobId", ""),
        (JobInfo, JOB, "upgradeTimeout", "soon"),
        (JobInfo, JOB, "maximumConcurrency", -1),
        (JobInfo, JOB, "enableUpgradeRequest", "perhaps"),
        (JobInfo, JOB, "createTime", 10**30),
        (JobInfo, JOB, "name", ["x"]),
        (TaskInfo, TASK, "taskId", None),
        (TaskInfo, TASK, "progress", 101),
        (TaskInfo, TASK, "progress", "half"),
        (TaskInfo, TASK, "updateTime", -1),
        (TaskInfo, TASK, "status", {"s": 1}),
        (DeviceFirmware, {"deviceKey": "d"}, "deviceKey", ""),
        (DeviceFirmware, {"deviceKey": "d"}, "isUpgrading", "maybe"),
    ],
)
def test_a_job_task_or_device_value_that_makes_no_sense_names_the_field(what, record, field, value):
    with pytest.raises(BadResponse, match=f"{what.__name__} field {field}"):
        what.from_api({**record, field: value})


def test_a_failed_task_keeps_its_negative_progress_and_reason():
    task = TaskInfo.from_api({**TASK, "progress": "-3", "desc": "r" * (DESCRIPTION_CAP + 1)})
    assert task.progress == -3 and task.failed and task.percent_done is None
    assert task.description_truncated and len(task.description) == DESCRIPTION_CAP
    upgrading = TaskInfo.from_api({**TASK, "status": "UPGRADING", "progress": 40})
    assert (upgrading.status, upgrading.failed, upgrading.percent_done) == ("upgrading", False, 40)


def test_a_device_row_tolerates_missing_and_extra_fields():
    device = DeviceFirmware.from_api({"deviceKey": "d", "isUpgrading": "true", "future": [1]})
    assert device.is_upgrading is True and device.firmware_version is None
