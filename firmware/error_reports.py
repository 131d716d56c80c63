"""What error reports (Django's DEBUG page, the emails to ADMINS) may show of a failure: never an
EnOS access token, a request signature, a token-service answer or an org's secret key."""

import re
from collections.abc import Iterable
from types import FrameType
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.debug import SafeExceptionReporterFilter

# Frames of these modules keep tokens, signatures, secret keys, the raw requests and answers
# that carry them and the cached tokens in their locals, under all kinds of names: every local
# of theirs is hidden.
SECRET_HOLDING_MODULES = (
    "firmware.enos",
    "firmware.services",
    "firmware.credentials",
    "requests",
    "urllib3",
    "http.client",
    "ssl",
    "socket",
    "json",
    "django.core.cache",
    "redis",
)
SECRET_NAMES = re.compile("token|secret|signature|encryption|password|credential|key", re.I)


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter, always on, plus: every local of the frames in SECRET_HOLDING_MODULES,
    and every local and POST parameter whose name looks secret, is shown as stars."""

    # Django's pattern already hides CREDENTIALS_KEYS (it matches KEY); any CREDENTIALS_* too.
    hidden_settings = re.compile(
        f"{SafeExceptionReporterFilter.hidden_settings.pattern}|CREDENTIAL", flags=re.I
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        # With DEBUG on too: a debug page seen by the wrong person must not give EnOS away.
        return True

    def get_cleansed_multivaluedict(
        self, request: HttpRequest | None, multivaluedict: MultiValueDict | dict[str, Any]
    ) -> MultiValueDict | dict[str, Any]:
        cleansed = super().get_cleansed_multivaluedict(request, multivaluedict)
        secret = [name for name in cleansed if SECRET_NAMES.search(name)]
        if secret:
            cleansed = cleansed.copy()
            for name in secret:
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_post_parameters(self, request: HttpRequest | None) -> QueryDict | dict[str, Any]:
        return self.get_cleansed_multivaluedict(request, super().get_post_parameters(request))

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> Iterable[tuple[str, Any]]:
        if _holds_secrets(tb_frame):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return [
            (name, self.cleansed_substitute if SECRET_NAMES.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


def _holds_secrets(frame: FrameType) -> bool:
    module = frame.f_globals.get("__name__", "")
    return any(module == name or module.startswith(f"{name}.") for name in SECRET_HOLDING_MODULES)
