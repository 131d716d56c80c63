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


def _page(request: HttpRequest, form: ApiTokenForm, **context) -> HttpResponse:
    status = context.pop("status", 200)
    listed = [(token, tokens.is_live(token)) for token in tokens.of(request.user)]
    context.update(form=form, tokens=listed)
    return render(request, "firmware/api_tokens.html", context, status=status)


@never_cache  # the page that shows a new token must never be kept anywhere
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    new = tokens.create(request.user, form.cleaned_data["name"], form.expires_at(timezone.now()))
    # Rendered, not redirected: the token is shown this once and is in no URL or session.
    return _page(request, ApiTokenForm(), new=new)


@require_POST
def revoke_api_token(request: HttpRequest, token_id: int) -> HttpResponse:
    mine = tokens.of(request.user).filter(pk=token_id)
    if not mine.exists():
        raise Http404("no such token of this user")
    if tokens.revoke(mine):
        messages.success(request, _("Token “%(name)s” is revoked.") % {"name": mine.get().name})
    return redirect("firmware:api_tokens")
