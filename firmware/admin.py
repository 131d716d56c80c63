from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from firmware import services
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.forms import OrgAdminForm
from firmware.models import Org


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    form = OrgAdminForm
    list_display = ["name", "slug", "org_id", "gateway_url", "access_key", "enabled", "updated_at"]
    list_filter = ["enabled", "gateway_url"]
    search_fields = ["name", "slug", "org_id", "access_key", "gateway_url"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["granted_users", "granted_groups"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "enabled"]}),
        (_("EnOS"), {"fields": ["org_id", "gateway_url", "access_key", "secret_key"]}),
        (_("Who may see it"), {"fields": ["granted_users", "granted_groups"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.action(description=_("Test connection (fetch an EnOS access token)"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Org]) -> None:
        for org in queryset:
            try:
                services.check_connection(org)
            except EnosError as exc:
                self.message_user(
                    request,
                    _("%(org)s: connection failed: %(reason)s")
                    % {"org": org.name, "reason": describe(exc).reason},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, _("%(org)s: connection OK") % {"org": org.name}, messages.SUCCESS
                )
