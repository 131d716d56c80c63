"""Downloading a firmware's file: verified before served, kept under its digest, served with its
name, digest and byte ranges; all over real HTTP against the simulator."""

import base64
import hashlib
import io
import json
import logging
import os
import threading
import time
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import reverse
from django.utils import translation

from enos_simulator import DEMO_ORG_ID, Fault
from enos_simulator.files import FileSpec, file_chunks
from firmware import downloads, services, tokens
from firmware.file_store import FileStore
from firmware.models import FirmwareDownload, Org
from tests.conftest import text_of

CORRUPTED = "5e5777cf9b12e2a054e0dec7"
CONTENT = bytes(range(256)) * 40  # 10,240 bytes, each offset telling which it is


@pytest.fixture(autouse=True)
def store_dir(settings, tmp_path):
    settings.FIRMWARE_FILES_DIR = tmp_path / "files"
    yield settings.FIRMWARE_FILES_DIR
    translation.deactivate()  # a page asked for in Spanish leaves no Spanish to later tests


def small_firmware(simulator, firmware_id, content=CONTENT, method="sha256", **fields):
    """A firmware of the demo org whose file is `content`, its sign and size to match."""
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": firmware_id,
            "name": {"defaultValue": "Pitch controller", "i18nValue": {}},
            "version": "1.2.3",
            "signMethod": method,
            "sign": hashlib.new(method, content).hexdigest(),
            "fileUrl": "enos-connect://9f8e7d6c5b4a3210.bin",
            "fileSize": len(content),
            **fields,
        }
    )
    simulator.set_file(DEMO_ORG_ID, firmware_id, content=content)


def download_url(org, firmware_id):
    return reverse("firmware:firmware_download", args=[org.slug, firmware_id])


def body_of(response) -> bytes:
    """The streamed body, its file closed. Closing a response also ends its request, and
    Django's close_old_connections would then drop the test's database connection (on
    PostgreSQL, where a test runs inside a transaction): kept out, as the test client does."""
    try:
        return b"".join(response.streaming_content)
    finally:
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)


def stored_files(store_dir):
    return sorted(p.name for p in store_dir.glob("*/*") if p.parent.name not in ("locks",))


@pytest.mark.django_db
def test_operator_gets_the_verified_file_with_its_name_size_and_digest(
    operator_client, org, simulator, granted, store_dir
):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(download_url(org, "fw-small"))
    assert response.status_code == 200
    assert body_of(response) == CONTENT
    digest = hashlib.sha256(CONTENT).digest()
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="Pitch controller 1.2.3.bin"'
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert response["Digest"] == f"SHA-256={base64.b64encode(digest).decode()}"
    assert response["Accept-Ranges"] == "bytes"
    assert stored_files(store_dir) == [digest.hex()]
    assert not list((store_dir / "incoming").iterdir())
    entry = FirmwareDownload.objects.get()
    assert (entry.user, entry.org, entry.firmware_id, entry.outcome) == (
        granted,
        org,
        "fw-small",
        "served",
    )
    assert entry.digest == digest.hex() and entry.version == "1.2.3" and not entry.from_store


@pytest.mark.django_db
def test_a_demo_firmware_downloads_and_matches_its_md5_sign(operator_client, org, simulator):
    response = operator_client.get(download_url(org, "fw-quote-name"))
    served = body_of(response)
    expected = b"".join(file_chunks(DEMO_ORG_ID, "fw-quote-name", 4096, FileSpec()))
    assert response.status_code == 200 and served == expected
    md5 = hashlib.md5(expected, usedforsecurity=False).digest()
    assert response["Digest"] == f"MD5={base64.b64encode(md5).decode()}"
    assert "Repr-Digest" not in response  # RFC 9530 registers no md5


@pytest.mark.django_db
def test_the_second_download_does_not_touch_enos(operator_client, org, simulator):
    small_firmware(simulator, "fw-small")
    assert body_of(operator_client.get(download_url(org, "fw-small"))) == CONTENT
    assert simulator.counters["download"] == 1
    simulator.reset_counters()
    assert body_of(operator_client.get(download_url(org, "fw-small"))) == CONTENT
    assert simulator.counters["download"] == 0
    assert simulator.counters["business"] == 0  # the firmware's sign came from the cache too
    assert [e.from_store for e in FirmwareDownload.objects.order_by("at", "pk")] == [False, True]


@pytest.mark.django_db
def test_a_file_that_does_not_match_its_sign_is_not_served(
    operator_client, org, simulator, store_dir, caplog
):
    sign = services.get_firmware(org, CORRUPTED).value.sign
    with caplog.at_level(logging.WARNING, logger="firmware.downloads"):
        response = operator_client.get(download_url(org, CORRUPTED))
    assert response.status_code == 502
    assert response["Content-Type"].startswith("text/html")
    page = text_of(response)
    assert "The file EnOS sent does not match the checksum of this firmware" in page
    sent = file_chunks(DEMO_ORG_ID, CORRUPTED, 7747088, FileSpec(corrupt=True))
    received = hashlib.sha256(b"".join(sent)).hexdigest()
    assert received != sign
    assert f'<dd class="mono" id="expected-digest">{sign}</dd>' in page
    assert f'<dd class="mono" id="received-digest">{received}</dd>' in page
    warnings = [r for r in caplog.records if r.name == "firmware.downloads"]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert f"firmware={CORRUPTED} does not match its sign" in warnings[0].getMessage()
    assert received in warnings[0].getMessage() and sign in warnings[0].getMessage()
    assert stored_files(store_dir) == []
    assert FirmwareDownload.objects.get().outcome == "mismatch"


@pytest.mark.django_db
def test_a_file_of_another_size_than_its_file_size_is_not_served(
    operator_client, org, simulator, store_dir
):
    small_firmware(simulator, "fw-small", fileSize=len(CONTENT) + 1)
    response = operator_client.get(download_url(org, "fw-small"))
    assert response.status_code == 502
    page = text_of(response)
    assert "10,241 bytes" in page and "10,240 bytes" in page
    assert stored_files(store_dir) == []


@pytest.mark.django_db
def test_a_stalled_download_is_abandoned_by_the_progress_rule(
    operator_client, org, simulator, settings, store_dir
):
    settings.ENOS_DOWNLOAD_PROGRESS_SECONDS = 1.0
    settings.ENOS_DOWNLOAD_PROGRESS_BYTES = 64 * 1024
    small_firmware(simulator, "fw-stalls", content=os.urandom(512 * 1024))
    simulator.set_file(
        DEMO_ORG_ID, "fw-stalls", content=os.urandom(512 * 1024), stall_after_bytes=100_000
    )
    started = time.monotonic()
    response = operator_client.get(download_url(org, "fw-stalls"))
    assert response.status_code == 504
    assert time.monotonic() - started < 5
    assert stored_files(store_dir) == []
    assert not list((store_dir / "incoming").iterdir())
    assert FirmwareDownload.objects.get().outcome == "failed"


@pytest.mark.django_db
def test_a_dripping_download_is_abandoned_though_bytes_keep_coming(
    operator_client, org, simulator, settings
):
    # 16 KiB/s (4 KiB every 0.25 s) never trips the 1 s read timeout, but 64 KiB take 4 s.
    settings.ENOS_DOWNLOAD_PROGRESS_SECONDS = 1.0
    settings.ENOS_DOWNLOAD_PROGRESS_BYTES = 64 * 1024
    content = os.urandom(256 * 1024)
    small_firmware(simulator, "fw-drips", content=content)
    simulator.set_file(DEMO_ORG_ID, "fw-drips", content=content, bytes_per_second=16 * 1024)
    started = time.monotonic()
    response = operator_client.get(download_url(org, "fw-drips"))
    assert response.status_code == 504
    assert "EnOS sent less than 65536 bytes of the file in 1 s" in text_of(response)
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_a_slow_but_moving_download_completes_past_the_total_deadline(
    operator_client, org, simulator, settings
):
    settings.ENOS_DOWNLOAD_PROGRESS_SECONDS = 1.0
    settings.ENOS_DOWNLOAD_PROGRESS_BYTES = 64 * 1024
    settings.ENOS_TOTAL_TIMEOUT = 1.0  # a page's deadline: the file takes about three times it
    content = os.urandom(600 * 1024)
    small_firmware(simulator, "fw-slow", content=content)
    simulator.set_file(DEMO_ORG_ID, "fw-slow", content=content, bytes_per_second=200 * 1024)
    started = time.monotonic()
    response = operator_client.get(download_url(org, "fw-slow"))
    assert response.status_code == 200
    assert body_of(response) == content
    assert time.monotonic() - started > 2.5


@pytest.mark.django_db
def test_concurrent_downloads_of_one_file_fetch_it_once(org, simulator):
    content = os.urandom(300 * 1024)
    small_firmware(simulator, "fw-shared", content=content)
    simulator.set_file(DEMO_ORG_ID, "fw-shared", content=content, bytes_per_second=1024 * 1024)
    firmware = services.get_firmware(org, "fw-shared").value
    results, errors = [], []

    def fetch():
        try:
            verified = downloads.verified_file(org, firmware)
            with verified.kept.file as file:
                results.append((verified.from_store, file.read()))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert simulator.counters["download"] == 1
    assert sorted(from_store for from_store, _ in results) == [False] + [True] * 5
    assert all(data == content for _, data in results)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=100-199", 100, 199), ("bytes=10000-", 10000, 10239), ("bytes=-40", 10200, 10239)],
)
def test_a_range_gets_206_with_exactly_those_bytes(
    operator_client, org, simulator, header, first, last
):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(download_url(org, "fw-small"), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body_of(response) == CONTENT[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert "Repr-Digest" in response  # of the whole file, as RFC 9530 says


@pytest.mark.django_db
def test_a_range_beyond_the_file_gets_416(operator_client, org, simulator):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(download_url(org, "fw-small"), HTTP_RANGE="bytes=10240-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_RANGE": "bytes=0-1,5-9"},  # several ranges: the whole file
        {"HTTP_RANGE": "bytes=9-5"},  # not a valid range: ignored
        {"HTTP_RANGE": "bytes=0-9", "HTTP_IF_RANGE": '"sha256-0000"'},  # another file's tag
    ],
    ids=["several", "invalid", "if-range"],
)
def test_ranges_fwportal_does_not_serve_get_the_whole_file(
    operator_client, org, simulator, headers
):
    small_firmware(simulator, "fw-small")
    response = operator_client.get(download_url(org, "fw-small"), **headers)
    assert response.status_code == 200
    assert body_of(response) == CONTENT


@pytest.mark.django_db
def test_if_range_of_the_same_file_resumes(operator_client, org, simulator):
    small_firmware(simulator, "fw-small")
    whole = operator_client.get(download_url(org, "fw-small"))
    body_of(whole)
    response = operator_client.get(
        download_url(org, "fw-small"), HTTP_RANGE="bytes=5000-", HTTP_IF_RANGE=whole["ETag"]
    )
    assert response.status_code == 206
    assert body_of(response) == CONTENT[5000:]


@pytest.mark.django_db
def test_outsiders_and_strangers_get_404_and_enos_is_not_asked(client, org, simulator, outsider):
    small_firmware(simulator, "fw-small")
    simulator.reset_counters()
    client.force_login(outsider)
    assert client.get(download_url(org, "fw-small")).status_code == 404
    assert client.get("/orgs/no-such-org/firmware/fw-small/file/").status_code == 404
    client.logout()
    anonymous = client.get(download_url(org, "fw-small"))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert simulator.counters["business"] == 0
    assert FirmwareDownload.objects.count() == 0


@pytest.mark.django_db
def test_a_non_ascii_name_survives_in_content_disposition(operator_client, org, simulator):
    name = "边缘网关固件 “ß”"
    small_firmware(
        simulator, "fw-zh", name={"i18nValue": {"zh_CN": name}}, fileUrl="enos-connect://a.zip"
    )
    response = operator_client.get(download_url(org, "fw-zh"))
    body_of(response)
    disposition = response["Content-Disposition"]
    assert disposition == f"attachment; filename*=utf-8''{quote(name + ' 1.2.3.zip')}"


@pytest.mark.django_db
def test_a_firmware_without_a_checkable_sign_is_never_served(
    operator_client, org, simulator, store_dir
):
    response = operator_client.get(download_url(org, "fw-null-fields"))
    assert response.status_code == 409
    assert "This file cannot be verified" in text_of(response)
    assert simulator.counters["download"] == 0
    page = text_of(operator_client.get(f"/orgs/{org.slug}/firmware/fw-null-fields/"))
    assert 'id="download-unavailable"' in page and 'id="download-file"' not in page


@pytest.mark.django_db
def test_the_firmware_page_links_its_download(operator_client, org):
    page = text_of(operator_client.get(f"/orgs/{org.slug}/firmware/fw-turbine-ctrl-3.2.1/"))
    assert f'href="{download_url(org, "fw-turbine-ctrl-3.2.1")}"' in page


@pytest.mark.django_db
def test_an_enos_error_envelope_is_an_error_page_not_a_file(operator_client, org, simulator):
    small_firmware(simulator, "fw-small")
    simulator.fault = Fault("error_code", code=1005, scope="files")
    response = operator_client.get(download_url(org, "fw-small"))
    assert response.status_code == 502
    assert '<dd class="mono" id="enos-code">1005</dd>' in text_of(response)
    assert FirmwareDownload.objects.get().outcome == "failed"


def test_the_store_evicts_the_least_recently_used_beyond_its_cap(tmp_path):
    store = FileStore(tmp_path, max_bytes=2500)
    for number, digest in enumerate(["aa", "bb", "cc"]):
        with store.incoming() as (path, file):
            file.write(b"x" * 1000)
            file.flush()
            store.keep(path, "sha256", digest).file.close()
        os.utime(tmp_path / "sha256" / digest, (1000 + number, 1000 + number))
        if digest == "bb":
            store.open("sha256", "aa").file.close()  # aa used again: bb is now the oldest
    assert sorted(p.name for p in (tmp_path / "sha256").iterdir()) == ["aa", "cc"]


def test_a_file_larger_than_the_whole_cap_is_served_but_not_kept(tmp_path):
    store = FileStore(tmp_path, max_bytes=100)
    with store.incoming() as (path, file):
        file.write(b"y" * 1000)
        file.flush()
        kept = store.keep(path, "sha256", "dd")
    with kept.file:
        assert kept.file.read() == b"y" * 1000
    assert list((tmp_path / "sha256").iterdir()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "button", "heading"),
    [
        ("zh-hans", "下载", "文件与其校验值不符"),
        ("ja", "ダウンロード", "ファイルがチェックサムと一致しません"),
        ("es", "Descargar", "El archivo no coincide con su suma de comprobación"),
    ],
)
def test_the_download_button_and_the_mismatch_page_speak_the_viewers_language(
    operator_client, org, language, button, heading
):
    page = text_of(
        operator_client.get(
            f"/orgs/{org.slug}/firmware/fw-turbine-ctrl-3.2.1/", HTTP_ACCEPT_LANGUAGE=language
        )
    )
    assert f">{button}</a>" in page
    mismatch = operator_client.get(download_url(org, CORRUPTED), HTTP_ACCEPT_LANGUAGE=language)
    assert f'<h1 id="error-heading">{heading}</h1>' in text_of(mismatch)


@pytest.mark.django_db
def test_the_demo_downloads_and_verifies_a_file(simulator, store_dir):
    out = io.StringIO()
    call_command("demo", "--gateway-url", simulator.url, stdout=out)
    turbine = services.get_firmware(Org.objects.get(slug="demo"), "fw-turbine-ctrl-3.2.1").value
    assert (
        "Downloaded and verified Turbine controller 3.2.1.zip: 52,428,800 bytes, "
        f"sha256 {turbine.sign}" in out.getvalue()
    )
    assert stored_files(store_dir) == [turbine.sign]


# ---- the same download through the JSON API -------------------------------------------------


@pytest.mark.django_db
def test_the_api_serves_the_verified_file_to_a_token(client, org, granted, simulator):
    raw = tokens.create(granted, "ci").raw
    response = client.get(
        f"/api/v1/orgs/{org.slug}/firmware/fw-quote-name/file", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    expected = b"".join(file_chunks(DEMO_ORG_ID, "fw-quote-name", 4096, FileSpec()))
    assert response.status_code == 200 and body_of(response) == expected
    assert FirmwareDownload.objects.get().username == granted.username


@pytest.mark.django_db
def test_the_api_answers_a_mismatch_with_both_digests_as_problem_details(
    client, org, granted, simulator
):
    raw = tokens.create(granted, "ci").raw
    response = client.get(
        f"/api/v1/orgs/{org.slug}/firmware/{CORRUPTED}/file", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 502
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["expectedDigest"] == services.get_firmware(org, CORRUPTED).value.sign.lower()
    assert problem["receivedDigest"] != problem["expectedDigest"]


@pytest.mark.django_db
def test_the_api_file_of_an_org_not_granted_is_404(client, org, outsider, simulator):
    raw = tokens.create(outsider, "elsewhere").raw
    response = client.get(
        f"/api/v1/orgs/{org.slug}/firmware/fw-quote-name/file", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 404
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
def test_admins_read_the_downloads_and_cannot_change_them(client, operator_client, org, simulator):
    operator_client.get(download_url(org, "fw-quote-name"))
    admin = User.objects.create_superuser("root", password="x" * 20)
    client.force_login(admin)
    listing = client.get(reverse("admin:firmware_firmwaredownload_changelist"))
    assert listing.status_code == 200
    assert "fw-quote-name" in text_of(listing)
    record = FirmwareDownload.objects.get()
    change = reverse("admin:firmware_firmwaredownload_change", args=[record.pk])
    assert client.post(change, {"outcome": "failed"}).status_code == 403
    assert FirmwareDownload.objects.get().outcome == "served"
