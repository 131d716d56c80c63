"""Every failure a service can raise, described once for every surface (pages, find, admin, CLI,
the API): its kind, HTTP status, wording, and what EnOS support asks for. No HTML here."""

import math
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from firmware.enos.errors import (
    BadResponse,
    Busy,
    CredentialsRejected,
    CredentialsUnreadable,
    EnosError,
    NotFound,
    RateLimited,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)


@dataclass(frozen=True)
class Kind:
    """What one kind of failure is called and how it is worded. `advice` may name the org as
    %(org)s; `summary` is the short form for a list of orgs."""

    name: str
    status: int
    title: Promise
    advice: Promise
    summary: Promise


NOT_FOUND = Kind("not_found", 404, _("Not found"), _("Not found"), _("Not found"))
UPSTREAM = Kind(
    "upstream",
    502,
    _("EnOS answered with an error"),
    _(
        "The EnOS API could not answer this request. Try again; if it persists, contact EnOS "
        "support with the request ID below."
    ),
    _("EnOS answered with an error"),
)
# Looked up by class, most specific first, so subclasses are covered too; EnosError is last.
KINDS: dict[type[EnosError], Kind] = {
    NotFound: NOT_FOUND,
    CredentialsRejected: Kind(
        "credentials",
        502,
        _("EnOS rejected this organization's credentials"),
        _(
            "EnOS refused the access key or secret key stored for %(org)s. An administrator "
            "must fix the organization's credentials."
        ),
        _("EnOS rejected its credentials"),
    ),
    CredentialsUnreadable: Kind(
        "undecryptable",
        502,
        _("This organization's credentials cannot be read"),
        _(
            "The stored secret key cannot be decrypted with the configured keys. An "
            "administrator must fix the organization's credentials."
        ),
        _("its stored credentials cannot be read"),
    ),
    UpstreamTimeout: Kind(
        "timeout",
        504,
        _("EnOS did not answer in time"),
        _("The EnOS API gateway took too long to answer. Try again in a moment."),
        _("EnOS did not answer in time"),
    ),
    Unreachable: Kind(
        "unreachable",
        503,
        _("EnOS is unreachable"),
        _("The EnOS API gateway could not be reached. Try again in a moment."),
        _("EnOS is unreachable"),
    ),
    BadResponse: Kind(
        "bad_response",
        502,
        _("EnOS sent an answer fwportal cannot read"),
        _(
            "The EnOS API answered with something other than the documented format. Try again; "
            "if it persists, contact EnOS support with the request ID below."
        ),
        _("EnOS sent an unreadable answer"),
    ),
    RateLimited: Kind(
        "rate_limited",
        503,
        _("EnOS is rate-limiting this organization"),
        _(
            "EnOS asked fwportal to slow down its calls for %(org)s. Try again in %(seconds)s "
            "seconds."
        ),
        _("EnOS is rate-limiting it"),
    ),
    Busy: Kind(
        "busy",
        503,
        _("EnOS is busy for this organization"),
        _(
            "fwportal is already waiting for several answers from the EnOS gateway of %(org)s. "
            "Try again in a moment."
        ),
        _("EnOS is busy"),
    ),
    UpstreamError: UPSTREAM,
    EnosError: UPSTREAM,
}


@dataclass(frozen=True)
class Failure:
    """One failure as every surface shows it."""

    kind: Kind
    message: str  # the client's own words, in English, never holding a secret
    code: int | None = None
    request_id: str | None = None
    retry_after: int | None = None  # seconds, when EnOS asked fwportal to wait

    @property
    def status(self) -> int:
        return self.kind.status

    def advice_for(self, org_name: str) -> str:
        return str(self.kind.advice) % {"org": org_name, "seconds": self.retry_after}

    @property
    def reason(self) -> str:
        """One line an admin can act on (admin messages, the CLI), with the EnOS code."""
        if self.kind is KINDS[CredentialsUnreadable]:
            return str(_("the stored secret key cannot be decrypted with CREDENTIALS_KEYS"))
        if self.code is not None:
            return f"EnOS {self.code}: {self.message}"
        return self.message


def describe(exc: EnosError) -> Failure:
    kind = next(kind for cls, kind in KINDS.items() if isinstance(exc, cls))
    retry_after = math.ceil(exc.retry_after) if isinstance(exc, RateLimited) else None
    return Failure(kind, exc.message, exc.code, exc.request_id, retry_after)
