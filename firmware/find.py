"""Find a firmware id in every org a user may see, asking them concurrently."""

import math
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings

from firmware import services
from firmware.enos.errors import EnosError, NotFound, UpstreamTimeout
from firmware.enos.types import FirmwareInfo
from firmware.failures import Failure, describe
from firmware.models import Org


@dataclass(frozen=True)
class Match:
    org: Org
    fetched: services.Fetched[FirmwareInfo]


@dataclass(frozen=True)
class Unasked:
    """An org that could not answer, and why."""

    org: Org
    failure: Failure


@dataclass
class FindOutcome:
    asked: int
    matches: list[Match] = field(default_factory=list)
    unasked: list[Unasked] = field(default_factory=list)


def find_in_orgs(orgs: list[Org], firmware_id: str) -> FindOutcome:
    outcome = FindOutcome(asked=len(orgs))
    if not orgs:
        return outcome
    workers = min(settings.FIND_MAX_WORKERS, len(orgs))
    # Each org gets FIND_ORG_TIMEOUT; with more orgs than workers they queue in rounds.
    deadline = settings.FIND_ORG_TIMEOUT * math.ceil(len(orgs) / workers)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="find-firmware")
    try:
        futures = {executor.submit(services.get_firmware, org, firmware_id): org for org in orgs}
        done, not_done = wait(futures, timeout=deadline)
    finally:
        # Calls still running end by their own timeouts; nobody waits for them.
        executor.shutdown(wait=False, cancel_futures=True)
    for future in done:
        org = futures[future]
        try:
            outcome.matches.append(Match(org, future.result()))
        except NotFound:
            continue
        except EnosError as exc:
            outcome.unasked.append(Unasked(org, describe(exc)))
    late = describe(UpstreamTimeout(f"no answer within the {deadline:g} s find allows"))
    outcome.unasked += [Unasked(futures[future], late) for future in not_done]
    outcome.matches.sort(key=lambda match: match.org.name)
    outcome.unasked.sort(key=lambda unasked: unasked.org.name)
    return outcome
