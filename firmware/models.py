from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from firmware import credentials

org_id_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,64}$", _("An EnOS orgId holds letters, digits, '-' and '_' only.")
)


class GatewayURLField(models.URLField):
    """An EnOS gateway base URL: http or https, stored without a trailing slash."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().rstrip("/") if value else value


class Org(models.Model):
    """One EnOS organization (OU) and the API credentials the dashboard uses for it."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True, help_text=_("Used in URLs."))
    org_id = models.CharField(_("EnOS orgId"), max_length=64, validators=[org_id_validator])
    gateway_url = GatewayURLField(
        _("gateway URL"), help_text=_("EnOS API gateway, e.g. https://apim-gateway.example.com")
    )
    access_key = models.CharField(_("access key"), max_length=200)
    secret_key_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    granted_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="granted_orgs",
        verbose_name=_("users who may see it"),
    )
    granted_groups = models.ManyToManyField(
        Group, blank=True, related_name="granted_orgs", verbose_name=_("groups that may see it")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            # Two orgs of one name look the same on every page and list: names are unique,
            # compared as the database lowercases them.
            models.UniqueConstraint(
                Lower("name"),
                name="org_name_unique_ignoring_case",
                violation_error_message=_("An organization with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("firmware:firmware_list", kwargs={"slug": self.slug})

    def clean(self) -> None:
        namesake = self.namesake()
        if namesake is not None:
            raise ValidationError(
                {
                    "name": _("An organization named “%(name)s” already exists.")
                    % {"name": namesake.name}
                }
            )

    def namesake(self) -> "Org | None":
        """Another org of this name, ignoring case as the unique constraint does."""
        if not self.name:
            return None
        others = Org.objects.exclude(pk=self.pk) if self.pk else Org.objects.all()
        return (
            others.annotate(lower_name=Lower("name"))
            .filter(lower_name=Lower(models.Value(self.name)))
            .first()
        )

    def set_secret_key(self, secret_key: str) -> None:
        self.secret_key_encrypted = credentials.encrypt(secret_key)

    @property
    def secret_key(self) -> str:
        return credentials.decrypt(self.secret_key_encrypted)


class RecentlyViewed(models.Model):
    """A firmware page a user opened: their own short history, shown on the home page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recently_viewed"
    )
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    firmware_id = models.CharField(_("firmware ID"), max_length=128)
    name = models.CharField(_("name"), max_length=300, blank=True)
    version = models.CharField(_("version"), max_length=100, blank=True)
    viewed_at = models.DateTimeField(_("viewed"))

    class Meta:
        ordering = ["-viewed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org", "firmware_id"], name="one_recent_view_per_firmware"
            )
        ]
        indexes = [models.Index(fields=["user", "-viewed_at"])]

    def __str__(self) -> str:
        return f"{self.org.slug}/{self.firmware_id}"

    def get_absolute_url(self) -> str:
        return reverse(
            "firmware:firmware_detail",
            kwargs={"slug": self.org.slug, "firmware_id": self.firmware_id},
        )


class FirmwareSnapshot(models.Model):
    """The last good EnOS answer about one firmware of an org (firmware/history.py): kept in the
    database so that every host, after any restart, can serve it during an outage."""

    # The unique constraint's index serves lookups by org: no index of its own.
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The EnOS orgId it was fetched from: an org pointed at another orgId starts afresh.
    enos_org_id = models.CharField(max_length=64)
    firmware_id = models.CharField(max_length=256)
    digest = models.CharField(max_length=64)  # sha256 of the content, to see a change cheaply
    # JSON text (firmware/history.py): a JSONField's check would open the database before
    # fwportal's checks could refuse to start, and nothing queries inside it.
    content = models.TextField()
    first_seen_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True)  # when the content last changed, if ever seen
    last_confirmed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "enos_org_id", "firmware_id"], name="one_snapshot_per_firmware"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org_id}/{self.enos_org_id}/{self.firmware_id}"


class FirmwareChange(models.Model):
    """One field of a firmware that changed between two EnOS answers: old -> new, as text."""

    # The (snapshot, -changed_at) index serves lookups by snapshot: no index of its own.
    snapshot = models.ForeignKey(
        FirmwareSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    changed_at = models.DateTimeField()
    field = models.CharField(max_length=40)
    key = models.TextField(blank=True)  # the tag key or the name's EnOS locale
    # None: the field (a tag, a translation, a value) was not there; "" is an empty text.
    old = models.TextField(null=True)  # noqa: DJ001
    new = models.TextField(null=True)  # noqa: DJ001
    affects_file = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["snapshot", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.field} {self.key}".strip()


class ApiToken(models.Model):
    """A user's personal API token (firmware/tokens.py): only its SHA-256 is kept, so a leaked
    database grants nothing; it reads exactly what its user may see in the browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("starts with"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"


class FirmwareDownload(models.Model):
    """Who downloaded a firmware's file and when, and what came of it (firmware/downloads.py)."""

    class Outcome(models.TextChoices):
        SERVED = "served", _("Served")
        MISMATCH = "mismatch", _("Did not match its checksum")
        FAILED = "failed", _("EnOS failed")

    # The record outlives the org and the user: both are kept by name too.
    org = models.ForeignKey(Org, on_delete=models.SET_NULL, null=True, related_name="+")
    org_slug = models.CharField(max_length=50)
    firmware_id = models.CharField(max_length=256)
    version = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    sign_method = models.CharField(max_length=16, blank=True)
    digest = models.CharField(max_length=128, blank=True)  # the verified one, when served
    byte_range = models.CharField(max_length=100, blank=True)  # the Range asked for, if any
    from_store = models.BooleanField(default=False)  # served without asking EnOS

    class Meta:
        indexes = [models.Index(fields=["org_slug", "firmware_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.username} {self.org_slug}/{self.firmware_id} {self.outcome}"
