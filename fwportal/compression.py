"""Text responses gzip-compressed for clients that accept it; files and secrets sent as they are.

Compressed: the pages (error pages too), the API's JSON and problem details, the CSV exports (the
API's, streamed, and the audit log's), /metrics and the admin's script catalogue: every
non-file response whose type is in TEXT_TYPES. Django's GZipMiddleware does the work: it skips
bodies under 200 bytes and any response that already has a Content-Encoding, sets
`Vary: Accept-Encoding`, weakens a strong ETag of what it compressed (RFC 9110 8.8.1) and drops
the Content-Length of a streamed one. Each response is compressed on its own way out, after the
page cache (firmware/page_cache.py) gave its HTML: the cache keeps pages uncompressed, and no two
responses share their padding.

Never compressed: files (`FileResponse`: a firmware's file keeps its Content-Length, its byte
ranges and the digest headers of its bytes; whitenoise's static files come precompressed with
their own Content-Encoding), a range of bytes (Content-Range), and a response marked by
`shows_secret`.

BREACH: an eavesdropper who can make the victim's browser ask for a page many times, with input
of the attacker's reflected in it (every page reflects its query string, in the language form's
`next`), can read a secret that the page repeats from the compressed lengths. Here:
- Every compressed body carries Django's "Heal the BREACH" padding: 0 to 99 random bytes in the
  gzip header, new for each response, so each guess needs many more requests to average out.
- The CSRF token is the only credential in a page, and Django masks it anew in every response:
  there is no stable value to guess byte by byte. Session and CSRF cookies are HttpOnly and never
  in a body; an org's EnOS secret key is write-only in the admin; API tokens are sent in a header
  (a listed token's hint, `fwp_` and 6 characters, leaves 220 random bits unknown).
- /metrics is compressed too (Prometheus asks for gzip): a scraper's bearer token is a header, and
  the counts reflect nothing a request sent.
- Cookies are SameSite=Lax: the requests an attacker's site can make in numbers (images, scripts,
  fetch, frames) carry no session, so each signed-in probe is a visible top-level navigation.
- The one page that shows a credential in its body, a new API token on /tokens/, is never
  compressed (`shows_secret`). The first page after the token is made takes it out of the session,
  so no second response holds it to compare lengths with; but a later change could show it again,
  and the page is seldom opened and small: compressing it is not worth that risk.
What compression could still expose, slowly, is what a page shows its signed-in reader (firmware
names, signs, file URLs); the padding and the SameSite cookies make that many thousands of
visible navigations.
"""

import functools
from collections.abc import Callable

from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

# The text fwportal writes: pages, JSON and problem details, CSV, /metrics (Prometheus text) and
# the admin's JavaScript catalogue.
TEXT_TYPES = frozenset(
    {
        "text/html",
        "text/plain",
        "text/csv",
        "text/javascript",
        "application/json",
        "application/problem+json",
    }
)

View = Callable[..., HttpResponseBase]


def shows_secret(view: View) -> View:
    """Marks the view's responses as showing a secret: they are never compressed (BREACH)."""

    @functools.wraps(view)
    def marked(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response.shows_secret = True
        return response

    return marked


def compressible(response: HttpResponseBase) -> bool:
    media_type = response.get("Content-Type", "").partition(";")[0].strip().lower()
    return (
        media_type in TEXT_TYPES
        and not isinstance(response, FileResponse)
        and not response.has_header("Content-Range")
        and not getattr(response, "shows_secret", False)
    )


class CompressionMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (random padding against BREACH included) for text responses only."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not compressible(response):
            return response
        return super().process_response(request, response)
