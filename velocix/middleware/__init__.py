"""Pure-ASGI middleware, one per module: ``app.add_middleware(Cls, **options)``."""

from velocix.middleware.cors import CORSMiddleware
from velocix.middleware.gzip import GZipMiddleware
from velocix.middleware.https_redirect import HTTPSRedirectMiddleware
from velocix.middleware.rate_limit import RateLimitMiddleware
from velocix.middleware.request_id import RequestIDMiddleware, get_request_id
from velocix.middleware.security_headers import SecurityHeadersMiddleware
from velocix.middleware.server_timing import ServerTimingMiddleware, record_timing
from velocix.middleware.trusted_host import TrustedHostMiddleware

# The seed documentation spelled it ``CorsMiddleware``; keep that name working.
CorsMiddleware = CORSMiddleware

__all__ = [
    "CORSMiddleware",
    "CorsMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "RateLimitMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "ServerTimingMiddleware",
    "TrustedHostMiddleware",
    "get_request_id",
    "record_timing",
]
