"""Constants of the app contract (``docs/app-contract.md``), shared by every app.

Only limits and names live here; each app does its own parsing and encoding in its idiom.
"""

from __future__ import annotations

RECORDS_MIN = 1
RECORDS_MAX = 10_000
STREAM_CHUNKS_DEFAULT = 16
STREAM_SIZE_DEFAULT = 65_536
STREAM_CHUNKS_MAX = 1_024
STREAM_SIZE_MAX = 1_048_576
MAX_BODY_BYTES = 1_048_576
ROUTER_ROUTES = 100
SEARCH_PAGE_DEFAULT = 1
SEARCH_SIZE_DEFAULT = 10

CORS_ORIGINS = ("https://example.com",)
CORS_METHODS = ("GET", "POST")
GZIP_MINIMUM_SIZE = 500
REQUEST_ID_HEADER = "x-request-id"
FORM_MAX_FIELDS = 1000
"""Field limit of the micro benchmark's form apps (Starlette's default), the same everywhere."""
