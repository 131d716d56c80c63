from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from firmware import services
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.forms import OrgAdminForm
from firmware.models import Org


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    form = OrgAdminForm
    change_form_template = "admin/firmware/org/change_form.html"
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

    def get_urls(self) -> list:
        test_one = self.admin_site.admin_view(require_POST(self.test_connection_view))
        return [
            path("<int:pk>/test-connection/", test_one, name="firmware_org_test_connection"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Test connection (an access token and a firmware search)"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Org]) -> None:
        for org in queryset:
            self._report_connection(request, org)

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        """The change page's "Test connection" button: the same test, for this org."""
        org = get_object_or_404(Org, pk=pk)
        if not self.has_view_or_change_permission(request, org):
            raise PermissionDenied
        self._report_connection(request, org)
        return HttpResponseRedirect(reverse("admin:firmware_org_change", args=[org.pk]))

    def _report_connection(self, request: HttpRequest, org: Org) -> None:
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
