"""OTA tasks and device versions generated from the fixtures' compact description.

A fleet is a product's devices: ``{"orgId", "productKey", "deviceKeyPrefix", "versions":
{"2.3.3": 3300, "1.0.4": 100}}`` (devices numbered from 0, in blocks by version). A task plan
says which devices a job reached and how their tasks stand: ``{"jobId", "productKey",
"firstDevice", "statuses": {"succeeded": 2712, "failed": 41, ...}, "reasons": {"failed":
[...]}, "spreadSeconds"}``; the job (same org and jobId, in ``jobs``) gives the target version
and the start time. Plans are applied in the order their jobs were created, so a task's
fromVersion is what its device ran then, and each device ends on the version its last
succeeded task brought (upgrading while its last task is published or upgrading).

Everything is derived from the ids with hashes and seeded generators: the same fixtures give
the same tasks, byte for byte, in every run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from typing import Any

UNDER_WAY = frozenset({"published", "upgrading"})
_PROGRESS = {"init": 0, "published": 0, "succeeded": 100, "failed": -1}


def _hex_id(*parts: object, length: int = 24) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def fleet_devices(fleet: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A fleet's DeviceFirmware records, numbered from 0 in its version blocks."""
    org_id, product_key = fleet["orgId"], fleet["productKey"]
    devices: list[dict[str, Any]] = []
    for version, count in fleet["versions"].items():
        for _ in range(count):
            number = len(devices)
            devices.append(
                {
                    "orgId": org_id,
                    "assetId": _hex_id(org_id, product_key, number, length=8),
                    "productKey": product_key,
                    "deviceKey": f"{fleet['deviceKeyPrefix']}{number:05d}",
                    "firmwareVersion": version,
                    "isUpgrading": False,
                }
            )
    return devices


def plan_tasks(
    plan: Mapping[str, Any], job: Mapping[str, Any], devices: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The TaskInfo records of one plan; ``devices`` (the fleet) is updated to match."""
    rng = random.Random(plan["jobId"])  # noqa: S311 - reproducible demo data, not crypto
    statuses = [status for status, count in plan["statuses"].items() for _ in range(count)]
    rng.shuffle(statuses)
    reasons: Mapping[str, list[str]] = plan.get("reasons", {})
    start, spread = job.get("createTime", 0), int(plan.get("spreadSeconds", 86400)) * 1000
    first = plan.get("firstDevice", 0)
    tasks = []
    for number, status in enumerate(statuses):
        device = devices[first + number]
        choices = reasons.get(status) or [""]
        tasks.append(
            {
                "taskId": _hex_id(plan["jobId"], number),
                "orgId": job["orgId"],
                "assetId": device["assetId"],
                "productKey": device["productKey"],
                "deviceKey": device["deviceKey"],
                "jobId": plan["jobId"],
                "fromVersion": device["firmwareVersion"],
                "toVersion": job.get("firmwareVersion"),
                "status": status,
                "progress": _PROGRESS.get(status, rng.randint(5, 95)),
                "desc": rng.choice(choices),
                "updateTime": start + rng.randint(60_000, max(spread, 60_000)),
            }
        )
        if status == "succeeded":
            device["firmwareVersion"] = job.get("firmwareVersion")
        device["isUpgrading"] = status in UNDER_WAY
    return tasks


def newest_first(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks in the order a search returns them: latest updateTime first, then taskId."""
    return sorted(
        tasks, key=lambda t: (_millis(t.get("updateTime")), str(t.get("taskId"))), reverse=True
    )


def _millis(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def generate(
    data: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tasks and device records the fixtures describe (``fleets``, ``jobs``, ``taskPlans``)."""
    fleets = {
        (fleet["orgId"], fleet["productKey"]): fleet_devices(fleet)
        for fleet in data.get("fleets", [])
    }
    jobs = {(job["orgId"], job["jobId"]): job for job in data.get("jobs", [])}
    tasks: list[dict[str, Any]] = []
    plans = sorted(
        data.get("taskPlans", []),
        key=lambda plan: _millis(jobs[(plan["orgId"], plan["jobId"])].get("createTime")),
    )
    for plan in plans:
        job = jobs[(plan["orgId"], plan["jobId"])]
        tasks += plan_tasks(plan, job, fleets[(plan["orgId"], plan["productKey"])])
    devices = [device for fleet in fleets.values() for device in fleet]
    return tasks, devices
