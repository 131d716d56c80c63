"""What a job page shows: the job, how many of its tasks are in each status, and one page of
its tasks (all of them, or those in one status).

Everything is fetched in ONE round of calls made at once (firmware/fan_out.py), so a job page
costs at most 1 + 5 + 1 = 7 upstream calls however many tasks the job has: the job, one count
per task status (the `totalSize` of a search with page size 1) and the shown page of tasks.
Only the job's own failure fails the page; a count or the task list failing is shown in its
place.
"""

from dataclasses import dataclass

from firmware import services
from firmware.enos.types import JobInfo, Page, TaskInfo
from firmware.fan_out import Together
from firmware.models import Org
from firmware.search import TASK_STATUSES
from firmware.standing import Part, TaskCounts, counts_of, part_of

UPSTREAM_CALLS = 1 + len(TASK_STATUSES) + 1  # the job, its counts, the shown page of tasks


@dataclass(frozen=True)
class JobTasks:
    job: services.Fetched[JobInfo]
    counts: Part[TaskCounts]
    tasks: Part[Page[TaskInfo]]


def fetch_job_page(
    org: Org,
    job_id: str,
    *,
    status: str = "",
    page: int = 1,
    page_size: int = services.DEFAULT_PAGE_SIZE,
) -> JobTasks:
    """The job (its failure raised, for the page to fail with), its task counts and the page of
    tasks asked for: UPSTREAM_CALLS calls at most, all at once."""
    with Together() as together:
        counts = {
            task_status: together.submit(services.count_tasks, org, job_id, task_status)
            for task_status in TASK_STATUSES
        }
        tasks = together.submit(
            services.search_tasks, org, job_id, status=status, page=page, page_size=page_size
        )
        job = services.get_job(org, job_id)
        return JobTasks(
            job,
            counts_of({task_status: part_of(pending) for task_status, pending in counts.items()}),
            part_of(tasks),
        )
