"""Pages, JSON, CSV and /metrics are gzip-compressed (with Django's random padding against BREACH)
for clients that accept it; firmware files, byte ranges and the page showing a new API token are
sent as they are (fwportal/compression.py)."""

import base64
import gzip
import hashlib
import io
import json
import re

import pytest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse

from firmware import tokens
from fwportal.compression import CompressionMiddleware, shows_secret
from tests.test_downloads import CONTENT, body_of, download_url, small_firmware

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
TURBINE = "fw-turbine-ctrl-3.2.1"
DETAIL = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": TURBINE})
LIST = reverse("firmware:firmware_list", kwargs={"slug": "demo"})
API = "/api/v1/orgs/demo/firmware/"
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def varies_by_encoding(response) -> bool:
    return "accept-encoding" in [v.strip().lower() for v in response.get("Vary", "").split(",")]


def gunzipped(response) -> bytes:
    assert response["Content-Encoding"] == "gzip"
    assert varies_by_encoding(response)
    return gzip.decompress(response.content)


def is_page(html: str) -> bool:
    return html.lstrip().lower().startswith("<!doctype html>")


def without_csrf_tokens(html: str) -> str:
    """A page with its CSRF tokens taken out: Django masks them anew in every response."""
    return CSRF_TOKEN.sub("", html)


def rendered(response) -> set[str]:
    return {template.name for template in response.templates}


@pytest.fixture
def token(granted) -> str:
    return tokens.create(granted, "ci").raw


@pytest.fixture
def files_dir(settings, tmp_path):
    settings.FIRMWARE_FILES_DIR = tmp_path / "files"


# ---- what is compressed ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [DETAIL, LIST])
def test_a_page_is_gzip_and_unpacks_to_the_page_a_plain_client_gets(operator_client, url):
    packed = operator_client.get(url, **GZIP)
    plain = operator_client.get(url)
    assert packed.status_code == plain.status_code == 200
    assert packed["Content-Length"] == str(len(packed.content))
    assert len(packed.content) < len(plain.content) / 3
    html = gunzipped(packed).decode()
    assert is_page(html)
    assert without_csrf_tokens(html) == without_csrf_tokens(plain.content.decode())
    assert "Content-Encoding" not in plain
    assert varies_by_encoding(plain)  # a shared cache must not give either to the other


@pytest.mark.django_db
def test_the_page_cache_keeps_pages_uncompressed(operator_client):
    packed = operator_client.get(DETAIL, **GZIP)
    assert "firmware/firmware_detail.html" in rendered(packed)
    plain = operator_client.get(DETAIL)
    assert rendered(plain) == set()  # served from the page cache, which the gzip request filled
    assert "Content-Encoding" not in plain
    assert is_page(plain.content.decode())
    packed_again = operator_client.get(DETAIL, **GZIP)
    assert rendered(packed_again) == set()
    pages = {
        without_csrf_tokens(page)
        for page in (
            gunzipped(packed).decode(),
            plain.content.decode(),
            gunzipped(packed_again).decode(),
        )
    }
    assert len(pages) == 1


@pytest.mark.django_db
def test_a_head_request_gets_the_headers_of_a_compressed_get(operator_client):
    response = operator_client.head(DETAIL, **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert varies_by_encoding(response)
    assert response.content == b""


@pytest.mark.django_db
def test_an_error_page_is_compressed(operator_client):
    response = operator_client.get("/orgs/no-such-org/firmware/", **GZIP)
    assert response.status_code == 404
    assert b"</html>" in gunzipped(response)


@pytest.mark.django_db
def test_api_json_is_compressed(client, token):
    packed = client.get(API, **bearer(token), **GZIP)
    plain = client.get(API, **bearer(token))
    assert packed["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(gunzipped(packed)) == plain.json()
    assert "Content-Encoding" not in plain


@pytest.mark.django_db
def test_the_csv_export_streams_compressed(client, token):
    packed = client.get(API + "?format=csv", **bearer(token), **GZIP)
    plain = client.get(API + "?format=csv", **bearer(token))
    assert packed.streaming and packed["Content-Encoding"] == "gzip"
    assert varies_by_encoding(packed)
    assert "Content-Length" not in packed
    assert packed["Content-Type"] == "text/csv; charset=utf-8"
    unpacked = gzip.decompress(b"".join(packed.streaming_content))
    assert unpacked.decode("utf-8").startswith("\ufefforgId,firmwareId,")
    assert unpacked == b"".join(plain.streaming_content)


@pytest.mark.django_db
def test_metrics_are_compressed_for_a_scraper_that_accepts_gzip(client, settings):
    settings.METRICS_TOKEN = "scrape-" + "x" * 24
    response = client.get("/metrics", **bearer(settings.METRICS_TOKEN), **GZIP)
    assert response.status_code == 200
    assert b"fwportal_http_requests_total" in gunzipped(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accepts", [{}, {"HTTP_ACCEPT_ENCODING": "identity"}, {"HTTP_ACCEPT_ENCODING": "br"}]
)
def test_a_client_that_does_not_accept_gzip_gets_the_page_as_it_is(operator_client, accepts):
    response = operator_client.get(LIST, **accepts)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert response["Content-Length"] == str(len(response.content))
    assert is_page(response.content.decode())


# ---- BREACH: padding, and the page that shows a secret ----------------------------------------


@pytest.mark.django_db
def test_each_compressed_answer_is_padded_with_random_bytes(client, token):
    answers = [client.get(f"{API}{TURBINE}/", **bearer(token), **GZIP) for _ in range(20)]
    assert len({gzip.decompress(answer.content) for answer in answers}) == 1
    for answer in answers:
        body = answer.content
        assert body[3] & gzip.FNAME  # the padding is a file name in the gzip header
        padding = body[10 : body.index(b"\0", 10)]
        assert padding == b"a" * len(padding) and len(padding) < 100
    # Each length is one of 100, drawn anew: 20 equal lengths would happen once in 10**38 runs.
    assert len({len(answer.content) for answer in answers}) > 1


@pytest.mark.django_db
def test_the_page_showing_a_new_api_token_is_never_compressed(operator_client):
    operator_client.post("/tokens/", {"name": "nightly CI", "expires": "30"})
    shown = operator_client.get("/tokens/", **GZIP)
    assert shown.status_code == 200
    assert "Content-Encoding" not in shown
    assert re.search(rb'id="new-token-value"[^>]* value="fwp_[A-Za-z0-9_-]{43}"', shown.content)
    assert shown["Cache-Control"].startswith("max-age=0")
    listing = operator_client.get("/tokens/", **GZIP)
    assert b"nightly CI" in listing.content and "Content-Encoding" not in listing


# ---- what is never compressed: files -----------------------------------------------------------


@pytest.mark.django_db
def test_a_firmware_file_is_sent_as_its_bytes(operator_client, org, simulator, files_dir):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(download_url(org, "fw-small"), **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert body_of(response) == CONTENT
    assert response["Content-Length"] == str(len(CONTENT))
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
    assert response["Repr-Digest"] == f"sha-256=:{digest}:"
    assert response["ETag"].startswith('"')  # strong: the bytes are the file's


@pytest.mark.django_db
def test_a_byte_range_is_sent_as_its_bytes(operator_client, org, simulator, files_dir):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(
        download_url(org, "fw-small"), HTTP_RANGE="bytes=1000-4999", **GZIP
    )
    assert response.status_code == 206
    assert "Content-Encoding" not in response
    assert body_of(response) == CONTENT[1000:5000]
    assert response["Content-Length"] == "4000"
    assert response["Content-Range"] == f"bytes 1000-4999/{len(CONTENT)}"


@pytest.mark.django_db
def test_the_apis_file_is_sent_as_its_bytes(client, token, org, simulator, files_dir):
    small_firmware(simulator, "fw-small")
    response = client.get(f"{API}fw-small/file", **bearer(token), **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert body_of(response) == CONTENT
    assert response["Content-Length"] == str(len(CONTENT))


# ---- the rule, response by response ------------------------------------------------------------

TEXT = "fwportal " * 100


def compressed_by_middleware(response) -> bool:
    request = RequestFactory().get("/", **GZIP)
    answer = CompressionMiddleware(lambda _request: response)(request)
    return answer.get("Content-Encoding") == "gzip"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "application/json",
        "application/problem+json",
        "text/csv; charset=utf-8",
        "text/plain; version=1.0.0; charset=utf-8",
        'text/javascript; charset="utf-8"',
    ],
)
def test_text_fwportal_writes_is_compressed(content_type):
    assert compressed_by_middleware(HttpResponse(TEXT, content_type=content_type))


@pytest.mark.parametrize(
    "response",
    [
        HttpResponse(TEXT, content_type="application/octet-stream"),
        HttpResponse(TEXT, content_type="image/svg+xml"),
        StreamingHttpResponse([TEXT.encode()], content_type="application/octet-stream"),
        FileResponse(io.BytesIO(TEXT.encode()), content_type="text/plain"),
        HttpResponse(TEXT, status=206, headers={"Content-Range": "bytes 0-899/2000"}),
    ],
    ids=["octet-stream", "svg", "stream-of-bytes", "file", "range"],
)
def test_files_other_types_and_ranges_are_not_compressed(response):
    assert not compressed_by_middleware(response)


def test_a_view_marked_as_showing_a_secret_is_not_compressed():
    view = shows_secret(lambda request: HttpResponse(TEXT))
    assert not compressed_by_middleware(view(RequestFactory().get("/")))


def test_a_strong_etag_of_a_compressed_body_is_weakened():
    response = HttpResponse(TEXT, headers={"ETag": '"v1"'})
    assert compressed_by_middleware(response)
    assert response["ETag"] == 'W/"v1"'
