from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from firmware import services
from firmware.credentials import UndecryptableSecret
from firmware.enos.errors import EnosError
from firmware.forms import OrgAdminForm
from firmware.models import Org


def describe_failure(exc: EnosError | UndecryptableSecret) -> str:
    """A one-line reason an admin can act on, with the EnOS code when there is one."""
    if isinstance(exc, UndecryptableSecret):
        return str(_("the stored secret key cannot be decrypted with CREDENTIALS_KEYS"))
    if exc.code is not None:
        return f"EnOS {exc.code}: {exc.message}"
    return exc.message


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
            except (EnosError, UndecryptableSecret) as exc:
                self.message_user(
                    request,
                    _("%(org)s: connection failed: %(reason)s")
                    % {"org": org.name, "reason": describe_failure(exc)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, _("%(org)s: connection OK") % {"org": org.name}, messages.SUCCESS
                )
