"""What the pages call the values EnOS gives jobs and tasks (docs/enos-api.md 6.3, 6.5), in the
users' words; a value EnOS adds later is shown as sent."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

JOB_TYPE_LABELS = {"verify": _("Verification"), "upgrade": _("Upgrade")}
JOB_STATUS_LABELS = {"started": _("Started"), "stopped": _("Stopped")}
UPGRADE_POLICY_LABELS = {
    "snapshot": _("Snapshot: the devices in scope when the job was created"),
    "incremental": _("Incremental: also devices that come into scope later"),
}
TASK_STATUS_LABELS = {
    "init": _("Not started"),
    "published": _("Published"),
    "upgrading": _("Upgrading"),
    "succeeded": _("Succeeded"),
    "failed": _("Failed"),
}


def label(labels: dict[str, Promise], value: str | None) -> str:
    """The value in words when it is one the pages know, else as EnOS sent it ("" for None)."""
    if value is None:
        return ""
    return str(labels.get(value, value))
