"""Add defensive response headers that browsers understand.

Defaults: ``X-Content-Type-Options: nosniff`` (no MIME sniffing), ``Referrer-Policy:
strict-origin-when-cross-origin`` and ``X-Frame-Options: DENY`` (no framing, i.e. no
click-jacking). Optional: ``Strict-Transport-Security`` (``hsts_max_age``; only send it from a
site served over HTTPS), ``Content-Security-Policy``, ``Permissions-Policy`` and
``Cross-Origin-Opener-Policy``. A header the application already set on a response is left
as it is, so a route can relax or tighten a policy for itself.
"""

from __future__ import annotations

from velocix.middleware._asgi import ASGIApp, Message, RawHeaders, Receive, Scope, Send

_FRAME_OPTIONS = frozenset({"DENY", "SAMEORIGIN"})


def _check_value(name: str, value: str) -> bytes:
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"SecurityHeadersMiddleware: {name} must not contain CR, LF or NUL")
    return value.encode("latin-1")


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response unless the app set them itself.

    Pass ``None`` for an option to leave that header out.
    """

    def __init__(
        self,
        app: ASGIApp,
        content_type_options: bool = True,
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        frame_options: str | None = "DENY",
        hsts_max_age: int | None = None,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        content_security_policy: str | None = None,
        permissions_policy: str | None = None,
        cross_origin_opener_policy: str | None = None,
    ) -> None:
        if frame_options is not None and frame_options.upper() not in _FRAME_OPTIONS:
            raise ValueError("SecurityHeadersMiddleware: frame_options must be DENY or SAMEORIGIN")
        if hsts_max_age is not None and hsts_max_age < 0:
            raise ValueError("SecurityHeadersMiddleware: hsts_max_age must be >= 0")
        if hsts_preload and (hsts_max_age is None or hsts_max_age < 31_536_000):
            raise ValueError(
                "SecurityHeadersMiddleware: hsts_preload needs hsts_max_age >= 31536000 (1 year)"
            )
        self.app = app
        headers: list[tuple[str, str]] = []
        if content_type_options:
            headers.append(("x-content-type-options", "nosniff"))
        if referrer_policy is not None:
            headers.append(("referrer-policy", referrer_policy))
        if frame_options is not None:
            headers.append(("x-frame-options", frame_options.upper()))
        if hsts_max_age is not None:
            hsts = f"max-age={hsts_max_age}"
            hsts += "; includeSubDomains" if hsts_include_subdomains else ""
            hsts += "; preload" if hsts_preload else ""
            headers.append(("strict-transport-security", hsts))
        if content_security_policy is not None:
            headers.append(("content-security-policy", content_security_policy))
        if permissions_policy is not None:
            headers.append(("permissions-policy", permissions_policy))
        if cross_origin_opener_policy is not None:
            headers.append(("cross-origin-opener-policy", cross_origin_opener_policy))
        self.headers: RawHeaders = [(k.encode(), _check_value(k, v)) for k, v in headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
