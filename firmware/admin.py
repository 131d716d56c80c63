from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse, reverse_lazy
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from firmware import (
    audit,
    audit_admin,  # noqa: F401  (the audit trail's admin)
    services,
    tokens,
)
from firmware.access import visible_orgs
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.forms import OrgAdminForm
from firmware.models import ApiToken, FirmwareDownload, Org

admin.site.site_header = _("fwportal administration")
admin.site.site_title = _("fwportal admin")
admin.site.index_title = _("Organizations, users and logins")
admin.site.site_url = reverse_lazy("firmware:home")  # "View site": back to the dashboard


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    form = OrgAdminForm
    change_form_template = "admin/firmware/org/change_form.html"
    # Fits a 1366 px screen beside the admin's menu and filters, in every language: the gateway's
    # host, not its whole URL, no access key (both are on each org's page; the search still finds
    # them) and the short form of the update time.
    list_display = ["name", "slug", "org_id", "gateway_host", "enabled", "updated"]
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

    @admin.display(description=_("gateway"), ordering="gateway_url")
    def gateway_host(self, org: Org) -> str:
        return urlsplit(org.gateway_url).netloc

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated(self, org: Org) -> str:
        return date_format(localtime(org.updated_at), "SHORT_DATETIME_FORMAT")

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
            reason = describe(exc).reason
            audit.record(
                "connection_test", org, {"result": f"failed: {reason!s}"}, actor=request.user
            )
            self.message_user(
                request,
                _("%(org)s: connection failed: %(reason)s") % {"org": org.name, "reason": reason},
                messages.ERROR,
            )
        else:
            audit.record("connection_test", org, {"result": "OK"}, actor=request.user)
            self.message_user(
                request, _("%(org)s: connection OK") % {"org": org.name}, messages.SUCCESS
            )


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class FwportalUserAdmin(UserAdmin):
    """Django's user admin, and on each user's page which orgs they can see and why."""

    readonly_fields = [*UserAdmin.readonly_fields, "orgs_they_can_see"]

    def get_fieldsets(self, request: HttpRequest, obj: AbstractBaseUser | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Organizations"), {"fields": ["orgs_they_can_see"]})]

    @admin.display(description=_("Organizations they can see"))
    def orgs_they_can_see(self, user: AbstractBaseUser) -> SafeString:
        orgs = list(visible_orgs(user).order_by("name"))  # access.py decides; this only explains
        if not user.is_active:
            return format_html("{}", gettext("None: the account is inactive."))
        if not orgs:
            return format_html("{}", gettext("None: no organization is granted to them."))
        if user.is_superuser:
            reasons = dict.fromkeys(
                (org.pk for org in orgs), gettext("superuser: every enabled organization")
            )
        else:
            reasons = _grant_reasons(user)
        return format_html(
            '<ul class="orgs-they-can-see">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({}) — {}</li>',
                (
                    (
                        reverse("admin:firmware_org_change", args=[org.pk]),
                        org.name,
                        org.slug,
                        reasons[org.pk],
                    )
                    for org in orgs
                ),
            ),
        )


def _grant_reasons(user: AbstractBaseUser) -> dict[int, str]:
    """Org pk -> how it is granted to the user: to them, through which groups, or both."""
    direct = set(user.granted_orgs.values_list("pk", flat=True))
    through: dict[int, list[str]] = {}
    grants = Org.granted_groups.through.objects.filter(group__in=user.groups.all())
    for org_pk, group in grants.order_by("group__name").values_list("org_id", "group__name"):
        through.setdefault(org_pk, []).append(group)
    reasons = {}
    for org_pk in direct | through.keys():
        parts = [gettext("granted to them")] if org_pk in direct else []
        if org_pk in through:
            groups = ", ".join(through[org_pk])
            parts.append(
                ngettext(
                    "through group %(groups)s", "through groups %(groups)s", len(through[org_pk])
                )
                % {"groups": groups}
            )
        reasons[org_pk] = "; ".join(parts)
    return reasons


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's API tokens, to see and revoke; nothing else can change (a token is made by
    its owner only, and its secret is not here to see)."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "expires_at", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "hint"]
    list_select_related = ["user"]
    actions = ["revoke"]
    fields = ["name", "user", "hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoked, not deleted: when and by whom it was used stays visible

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("state"))
    def state(self, token: ApiToken) -> str:
        if token.revoked_at:
            return gettext("Revoked")
        return gettext("Active") if tokens.is_live(token) else gettext("Expired")

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens.revoke(queryset)
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(FirmwareDownload)
class FirmwareDownloadAdmin(admin.ModelAdmin):
    """Who downloaded which firmware file and when, and what came of it: a record to read, never
    to edit."""

    list_display = ["at", "username", "org_slug", "firmware_id", "version", "outcome", "from_store"]
    list_filter = ["outcome", "from_store", "org_slug"]
    search_fields = ["username", "firmware_id", "digest"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: FirmwareDownload | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: FirmwareDownload | None = None
    ) -> bool:
        return False
