"""The Download button in real headless Chromium: the file arrives under its name, verified."""

import hashlib

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_firmware_detail import TURBINE, open_detail


@pytest.mark.browser
def test_the_download_button_saves_the_verified_file_under_its_chinese_name(
    logged_in_page: Page, org, simulator, settings, tmp_path
):
    settings.FIRMWARE_FILES_DIR = tmp_path / "files"
    page = logged_in_page
    open_detail(page, org, TURBINE)
    page.locator("#language-select").select_option("zh-hans")
    button = page.locator("#download-file")
    expect(button).to_have_text("下载")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == "风机控制器 3.2.1.zip"
    sign = page.locator("#sign").inner_text().strip()
    digest = hashlib.sha256()
    with open(download.path(), "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == sign
    expect(page.locator("#firmware-name")).to_have_text("风机控制器")  # the page stayed
