"""The page where a user makes, lists and revokes their own API tokens."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from firmware import tokens
from firmware.forms import ApiTokenForm
from fwportal.compression import shows_secret

NEW_TOKEN_KEY = "new-api-token"  # noqa: S105 - a session key, not a secret


def _page(request: HttpRequest, form: ApiTokenForm, **context) -> HttpResponse:
    status = context.pop("status", 200)
    listed = [(token, tokens.is_live(token)) for token in tokens.of(request.user)]
    context.update(form=form, tokens=listed)
    return render(request, "firmware/api_tokens.html", context, status=status)


@never_cache  # the page that shows a new token must never be kept anywhere
@shows_secret  # nor compressed (BREACH: fwportal/compression.py)
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # Shown once: taken out of the session by the first page that shows it.
        new = request.session.pop(NEW_TOKEN_KEY, None)
        return _page(request, ApiTokenForm(), new=new)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    made = tokens.create(request.user, form.cleaned_data["name"], form.expires_at(timezone.now()))
    # Post/redirect/get, so reloading the page cannot make a second token; the token waits in
    # the session (server-side) for that one GET, never in a URL or a cookie.
    request.session[NEW_TOKEN_KEY] = {"name": made.token.name, "raw": made.raw}
    return redirect("firmware:api_tokens")


@require_POST
def revoke_api_token(request: HttpRequest, token_id: int) -> HttpResponse:
    mine = tokens.of(request.user).filter(pk=token_id)
    if not mine.exists():
        raise Http404("no such token of this user")
    if tokens.revoke(mine):
        messages.success(request, _("Token “%(name)s” is revoked.") % {"name": mine.get().name})
    return redirect("firmware:api_tokens")
