"""The audit trail in /admin/: read-only, filterable, and exported as CSV."""

import csv
from collections.abc import Iterator
from datetime import UTC

from auditlog.admin import LogEntryAdmin
from auditlog.filters import ResourceTypeFilter
from auditlog.models import LogEntry
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from firmware.audit import actor_label, what_happened

CSV_BATCH = 500
# A cell starting with one of these is a formula to a spreadsheet: it is exported as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

admin.site.unregister(LogEntry)


class _Echo:
    """A file whose write() hands the line back, for csv.writer to stream rows."""

    def write(self, line: str) -> str:
        return line


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@admin.register(LogEntry)
class AuditEntryAdmin(LogEntryAdmin):
    list_display = ["created", "resource_url", "action", "what", "who", "remote_addr"]
    list_filter = ["action", ResourceTypeFilter, "timestamp"]
    search_fields = [*LogEntryAdmin.search_fields, "additional_data"]
    readonly_fields = [*LogEntryAdmin.readonly_fields, "who", "what", "remote_addr"]
    fieldsets = [
        (None, {"fields": ["created", "who", "remote_addr", "resource_url"]}),
        (_("Changes"), {"fields": ["action", "what", "msg"]}),
    ]
    actions = ["export_csv"]

    @admin.display(description=_("who"))
    def who(self, entry: LogEntry) -> str:
        return actor_label(entry)

    @admin.display(description=_("what happened"))
    def what(self, entry: LogEntry) -> str:
        return what_happened(entry)

    @admin.action(description=_("Export the selected entries as CSV"), permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[LogEntry]
    ) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            self._csv_lines(queryset.order_by("-timestamp")), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="fwportal-audit-{stamp}.csv"'
        return response

    def _csv_lines(self, queryset: QuerySet[LogEntry]) -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(
            [
                gettext("time (UTC)"),
                gettext("who"),
                gettext("address"),
                gettext("object type"),
                gettext("object"),
                gettext("action"),
                gettext("what happened"),
            ]
        )
        entries = queryset.select_related("actor", "content_type")
        for entry in entries.iterator(chunk_size=CSV_BATCH):
            yield writer.writerow(
                _cell(value)
                for value in (
                    entry.timestamp.astimezone(UTC).isoformat(),
                    actor_label(entry),
                    entry.remote_addr,
                    entry.content_type.name if entry.content_type_id else "",
                    entry.object_repr,
                    entry.get_action_display(),
                    what_happened(entry),
                )
            )
