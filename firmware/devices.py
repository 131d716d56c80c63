"""What the devices-on-a-version page shows: the firmware, the product it is for, and one page of
that product's devices running the firmware's version.

The firmware and its jobs are fetched at once (the same calls, and cache entries, as the
firmware page's first round), then the devices: two rounds at most. EnOS names the product on
an old firmware file only; a new file's product comes from its jobs (standing.product_of).
"""

from dataclasses import dataclass

from firmware import services
from firmware.enos.errors import EnosError
from firmware.enos.types import DeviceFirmware, FirmwareInfo, Page
from firmware.failures import Failure, describe
from firmware.fan_out import Together
from firmware.models import Org
from firmware.search import JobFilters
from firmware.standing import JOBS_SHOWN, Part, part_of, product_of


@dataclass(frozen=True)
class DevicesOnVersion:
    firmware: services.Fetched[FirmwareInfo]
    product_key: str | None  # None: neither the firmware nor its jobs say
    from_jobs: bool
    jobs_failure: Failure | None  # the jobs could not be asked, and the firmware names no product
    devices: Part[Page[DeviceFirmware]] | None  # None when there is no product or no version


def fetch_devices_page(
    org: Org,
    firmware_id: str,
    *,
    upgrading_only: bool = False,
    page: int = 1,
    page_size: int = services.DEFAULT_PAGE_SIZE,
) -> DevicesOnVersion:
    """The firmware (its failure raised, for the page to fail with) and the page of its devices."""
    with Together() as together:
        jobs_pending = together.submit(
            services.search_jobs, org, JobFilters(firmware_id=firmware_id), page_size=JOBS_SHOWN
        )
        # In this thread: the firmware's answer is recorded in its history (the database).
        fetched = services.get_firmware(org, firmware_id)
        jobs = part_of(jobs_pending)
    firmware = fetched.value
    product_key, from_jobs = product_of(firmware, jobs.value.items if jobs.value else [])
    jobs_failure = jobs.failure if product_key is None else None
    if product_key is None or not firmware.version:
        return DevicesOnVersion(fetched, product_key, from_jobs, jobs_failure, None)
    try:
        devices = Part(
            fetched=services.search_devices(
                org,
                product_key,
                firmware.version,
                upgrading=True if upgrading_only else None,
                page=page,
                page_size=page_size,
            )
        )
    except EnosError as exc:
        devices = Part(failure=describe(exc))
    return DevicesOnVersion(fetched, product_key, from_jobs, None, devices)
