"""Find a firmware id in every org a user may see, asking them concurrently."""

import math
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings

from firmware import services
from firmware.credentials import UndecryptableSecret
from firmware.enos.errors import EnosError, NotFound
from firmware.enos.types import FirmwareInfo
from firmware.errors import failure_of
from firmware.models import Org


@dataclass(frozen=True)
class Match:
    org: Org
    fetched: services.Fetched[FirmwareInfo]


@dataclass(frozen=True)
class Unasked:
    """An org that could not answer, and why (a kind of firmware.errors.FAILURES, or "timeout")."""

    org: Org
    kind: str
    code: int | None = None


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
        except (EnosError, UndecryptableSecret) as exc:
            outcome.unasked.append(Unasked(org, failure_of(exc)[0], getattr(exc, "code", None)))
    outcome.unasked += [Unasked(futures[future], "timeout") for future in not_done]
    outcome.matches.sort(key=lambda match: match.org.name)
    outcome.unasked.sort(key=lambda unasked: unasked.org.name)
    return outcome
