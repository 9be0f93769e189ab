"""The built-in docs page renders the OpenAPI document in a real (headless) browser.

Requests from the page are answered by the app through the TestClient (Playwright's request
interception), so no server or network is involved.
"""

from __future__ import annotations

import shutil
from typing import Any

import msgspec
import pytest

from velocix.core.app import Velocix
from velocix.openapi import install_openapi
from velocix.testing import TestClient

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Pet(msgspec.Struct):
    name: str
    age: int


def build_app() -> Velocix:
    app = Velocix(title="Pets <script>alert(1)</script>", version="2.0")

    @app.get("/pets/{pet_id}", summary="Fetch a pet")
    async def get_pet(pet_id: int) -> Pet:
        """Description with <b>markup</b> that must stay text."""
        return Pet("rex", 3)

    @app.post("/pets", status_code=201)
    async def create_pet(pet: Pet) -> Pet:
        return pet

    install_openapi(app)
    return app


@pytest.mark.skipif(CHROMIUM is None, reason="needs a chromium binary")
def test_docs_page_lists_operations_as_text() -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with TestClient(build_app()) as client, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()

            def serve(route: Any) -> None:
                path = route.request.url.removeprefix("http://testserver")
                response = client.get(path)
                route.fulfill(
                    status=response.status_code,
                    body=response.content,
                    headers={"content-type": response.headers["content-type"]},
                )

            page.route("http://testserver/**", serve)
            page.goto("http://testserver/docs")
            page.wait_for_selector("#api[data-ready=true]", timeout=10_000)
            text = page.inner_text("#api")
            markup_elements = page.eval_on_selector_all("#api b, #api script", "n => n.length")
            page.click("details.op >> nth=0")
            expanded = page.inner_text("details.op >> nth=0")
        finally:
            browser.close()
    assert "Pets <script>alert(1)</script>" in text  # rendered as text, not executed
    assert "/pets/{pet_id}" in text and "Fetch a pet" in text
    assert "/pets" in text
    assert markup_elements == 0
    assert "pet_id" in expanded and '"name"' in expanded
