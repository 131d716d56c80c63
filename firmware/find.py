"""Find a firmware id in every org a user may see, asking them concurrently."""

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from firmware import history, services
from firmware.enos.deadline import budget
from firmware.enos.errors import EnosError, NotFound
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


def _ask(org: Org, firmware_id: str) -> services.Fetched[FirmwareInfo]:
    # Every call and wait of this org's answer ends within FIND_ORG_TIMEOUT, so no thread or
    # socket outlives the page.
    with budget(settings.FIND_ORG_TIMEOUT):
        # No database work in these threads: it would open a connection per thread.
        return services.get_firmware(org, firmware_id, use_database=False)


def find_in_orgs(orgs: list[Org], firmware_id: str) -> FindOutcome:
    outcome = FindOutcome(asked=len(orgs))
    if not orgs:
        return outcome
    workers = min(settings.FIND_MAX_WORKERS, len(orgs))
    # Each org gets FIND_ORG_TIMEOUT from when its turn comes (more orgs than workers queue), and
    # the page answers once every thread has ended.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="find-firmware") as executor:
        # Each thread runs in a copy of the request's context: its log lines carry the request id.
        futures = {
            executor.submit(contextvars.copy_context().run, _ask, org, firmware_id): org
            for org in orgs
        }
    for future in futures:
        org = futures[future]
        try:
            fetched = future.result()
        except NotFound:
            continue
        except EnosError as exc:
            outcome.unasked.append(Unasked(org, describe(exc)))
            continue
        outcome.matches.append(Match(org, fetched))
        if not fetched.stale:  # recorded here, in the request's thread (see _ask)
            history.record(org, [fetched.value], fetched.fetched_at)
    outcome.matches.sort(key=lambda match: match.org.name)
    outcome.unasked.sort(key=lambda unasked: unasked.org.name)
    return outcome
