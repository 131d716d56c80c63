"""The simulator's demo fixtures, read by tests to know what the simulated EnOS answers."""

import json
from pathlib import Path

from enos_simulator import DEFAULT_FIXTURES, DEMO_ORG_ID

FIXTURES = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
DEMO_FIRMWARE = [fw for fw in FIXTURES["firmware"] if fw["orgId"] == DEMO_ORG_ID]


def newest_first(fixtures: list[dict]) -> list[dict]:
    """The simulator's search order: createTime descending, then firmwareId descending."""

    def create_time(fw: dict) -> int:
        value = fw.get("createTime")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return sorted(fixtures, key=lambda fw: (create_time(fw), fw["firmwareId"]), reverse=True)


def names_of(fixture: dict, default_only: bool = False) -> list[str]:
    """The name values the simulator's `name like` looks at: default, zh_CN and en_US (or only
    the default, for `name.default like`)."""
    name = fixture.get("name")
    if not isinstance(name, dict):
        return []
    i18n = name.get("i18nValue") if isinstance(name.get("i18nValue"), dict) else {}
    if default_only:
        i18n = {}
    values = [name.get("defaultValue"), i18n.get("zh_CN"), i18n.get("en_US")]
    return [v for v in values if isinstance(v, str)]
