"""OpenAPI 3.1 for Velocix apps: the document, ``/openapi.json`` and a docs page.

::

    app = Velocix(title="Shop", version="1.2.0")
    install_openapi(app)              # GET /openapi.json and GET /docs

The document is generated from the registered routes on the first request for it and cached
until routes are added.
"""

from __future__ import annotations

from typing import Any, Literal

from velocix.core.request import Request
from velocix.core.response import HTMLResponse, JSONResponse, Response
from velocix.openapi.docs import SWAGGER_CSS, SWAGGER_JS, docs_page, swagger_ui_page
from velocix.openapi.schema import OPENAPI_VERSION, generate_openapi

__all__ = ["OPENAPI_VERSION", "OpenAPIEndpoints", "generate_openapi", "install_openapi"]


class OpenAPIEndpoints:
    """The ``/openapi.json`` and docs handlers of one app, with the document cached."""

    def __init__(
        self,
        app: Any,
        *,
        openapi_url: str,
        ui: Literal["builtin", "swagger"] = "builtin",
        swagger_js_url: str = SWAGGER_JS,
        swagger_css_url: str = SWAGGER_CSS,
    ) -> None:
        self.app = app
        self.openapi_url = openapi_url
        self.ui = ui
        self.swagger_js_url = swagger_js_url
        self.swagger_css_url = swagger_css_url
        self._cached: tuple[int, Response] | None = None

    def document(self) -> dict[str, Any]:
        """The current OpenAPI document."""
        return generate_openapi(self.app)

    async def openapi(self) -> Response:
        """``GET /openapi.json``."""
        count = len(self.app.routes)
        if self._cached is None or self._cached[0] != count:
            self._cached = (count, JSONResponse(self.document()))
        return self._cached[1]

    async def docs(self, request: Request) -> HTMLResponse:
        """``GET /docs`` (the document URL is prefixed with the app's ``root_path``)."""
        title = f"{getattr(self.app, 'title', 'API')} - docs"
        url = request.scope.get("root_path", "") + self.openapi_url
        if self.ui == "swagger":
            page = swagger_ui_page(
                url, title, js_url=self.swagger_js_url, css_url=self.swagger_css_url
            )
        else:
            page = docs_page(url, title)
        return HTMLResponse(page)


def install_openapi(
    app: Any,
    *,
    openapi_url: str = "/openapi.json",
    docs_url: str | None = "/docs",
    ui: Literal["builtin", "swagger"] = "builtin",
    swagger_js_url: str = SWAGGER_JS,
    swagger_css_url: str = SWAGGER_CSS,
) -> OpenAPIEndpoints:
    """Serve the OpenAPI document at ``openapi_url`` and a docs page at ``docs_url``.

    ``ui="builtin"``: a self-contained page (no network access needed). ``ui="swagger"``:
    Swagger UI, its assets loaded from ``swagger_js_url``/``swagger_css_url`` (a CDN by default).
    """
    endpoints = OpenAPIEndpoints(
        app,
        openapi_url=openapi_url,
        ui=ui,
        swagger_js_url=swagger_js_url,
        swagger_css_url=swagger_css_url,
    )
    app.add_api_route(
        openapi_url, endpoints.openapi, methods=["GET"], name="openapi", include_in_schema=False
    )
    if docs_url is not None:
        app.add_api_route(
            docs_url, endpoints.docs, methods=["GET"], name="docs", include_in_schema=False
        )
    return endpoints
