"""Group B: HTTP over a socket -- the scope a server builds and its HTTP semantics (21-42).

The server runs :mod:`conformance.served`; the scope of each tagged request is read from the
event log, so these checks see exactly what the server handed the application, whatever the
framework behind it. Probes under ``/conformance/raw/`` observe what only a raw app can.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

from conformance.cases.model import (
    Case,
    Context,
    Outcome,
    ambiguous,
    failed,
    not_applicable,
    passed,
    skipped,
    verdict,
)
from conformance.cases.wirehelp import (
    probe_result,
    raw_request,
    server_log_has_error,
    status_of,
    tagged,
    wait_scope,
)
from conformance.validator.scope import spec_version
from conformance.wire import http1

Scope = dict[str, Any]


def _get(ctx: Context, target: str, **options: Any) -> http1.Response | str:
    return raw_request(ctx, http1.build_request("GET", target, **options))


def _scope_for(ctx: Context, target: str = "/plaintext", **options: Any) -> Scope | None:
    raw, connection = tagged("GET", target, **options)
    raw_request(ctx, raw)
    return wait_scope(ctx, connection)


def b21_versions(ctx: Context) -> Outcome:
    scope = _scope_for(ctx)
    if scope is None:
        return failed("no scope logged for GET /plaintext")
    asgi = scope.get("asgi") or {}
    failures = []
    if asgi.get("version") != "3.0":
        failures.append(f"asgi.version {asgi.get('version')!r}")
    spec = asgi.get("spec_version")
    if spec is not None and not isinstance(spec, str):
        failures.append(f"spec_version {spec!r} is not a str")
    return verdict(failures, f"asgi {asgi}", observed=asgi, expected={"version": "3.0"})


def b22_http_version(ctx: Context) -> Outcome:
    seen = {}
    for version in ("1.0", "1.1"):
        scope = _scope_for(ctx, version=f"HTTP/{version}")
        seen[version] = (scope or {}).get("http_version")
    failures = [
        f"HTTP/{sent} gave http_version {got!r}" for sent, got in seen.items() if got != sent
    ]
    return verdict(
        failures,
        "http_version matches the request line",
        observed=seen,
        expected={"1.0": "1.0", "1.1": "1.1"},
    )


def b23_addresses(ctx: Context) -> Outcome:
    scope = _scope_for(ctx) or {}
    failures = []
    for key in ("client", "server"):
        value = scope.get(key)
        if value is None:
            continue
        ok = len(value) == 2 and isinstance(value[0], str) and type(value[1]) is int
        if not ok:
            failures.append(f"{key} is {value!r} (port must be an int)")
    return verdict(
        failures,
        "client and server are [str, int]",
        observed={k: repr(scope.get(k)) for k in ("client", "server")},
    )


_ENCODED_PATH = "/conformance/decode/caf%C3%A9%20%2Fx"
_QUERY = "q=%20a+b&x=%2F"


def b24_path_decoding(ctx: Context) -> Outcome:
    scope = _scope_for(ctx, f"{_ENCODED_PATH}?{_QUERY}") or {}
    expected = {"path": "/conformance/decode/café /x", "query_string": _QUERY.encode()}
    observed = {"path": scope.get("path"), "query_string": scope.get("query_string")}
    failures = [
        f"{key} is {observed[key]!r}, expected {value!r}"
        for key, value in expected.items()
        if observed[key] != value
    ]
    return verdict(failures, "path decoded, query string raw", observed=observed, expected=expected)


def b25_raw_path(ctx: Context) -> Outcome:
    scope = _scope_for(ctx, f"{_ENCODED_PATH}?{_QUERY}") or {}
    observed = {"plain": scope.get("raw_path")}
    variant = ctx.shared_variant("root-path", root_path="/prefix")
    raw, connection = tagged("GET", "/conformance/decode/a%20b")
    raw_request(ctx, raw, port=variant.port)
    variant.events.wait_finished(connection, 3.0)
    observed["root_path=/prefix"] = (variant.events.scope(connection) or {}).get("raw_path")
    expected = {"plain": _ENCODED_PATH.encode(), "root_path=/prefix": b"/conformance/decode/a%20b"}
    if observed["plain"] is None:
        return passed("raw_path not provided (optional)", observed)
    failures = [
        f"{key}: raw_path {observed[key]!r}, received {value!r}"
        for key, value in expected.items()
        if observed[key] not in (value, None)
    ]
    return verdict(
        failures,
        "raw_path is the bytes received, without the query",
        observed={k: repr(v) for k, v in observed.items()},
        expected={k: repr(v) for k, v in expected.items()},
    )


def b26_root_path(ctx: Context) -> Outcome:
    variant = ctx.shared_variant("root-path", root_path="/prefix")
    seen: dict[str, Any] = {}
    for sent in ("/prefix/conformance/x", "/conformance/x"):
        raw, connection = tagged("GET", sent)
        raw_request(ctx, raw, port=variant.port)
        variant.events.wait_finished(connection, 3.0)
        scope = variant.events.scope(connection) or {}
        seen[sent] = {"path": scope.get("path"), "root_path": scope.get("root_path")}
    prefixed = seen["/prefix/conformance/x"]
    if prefixed["root_path"] != "/prefix":
        return failed(f"root_path {prefixed['root_path']!r}, configured '/prefix'", seen)
    if not str(prefixed["path"]).startswith("/prefix"):
        return failed("path does not start with root_path", seen)
    # Whether the server prepends root_path to a request that lacks it (uvicorn) or passes
    # the path through (hypercorn, granian) depends on the proxy model: not specified.
    return ambiguous("path starts with root_path; prepending (or not) is server policy", seen)


def b27_headers(ctx: Context) -> Outcome:
    scope = _scope_for(ctx, headers=[("X-Dup", "1"), ("X-MiXeD", "v"), ("X-Dup", "2")]) or {}
    headers = [(bytes(k), bytes(v)) for k, v in scope.get("headers", [])]
    dup = [v for k, v in headers if k.lower() == b"x-dup"]
    failures = [] if dup == [b"1", b"2"] else [f"x-dup values {dup!r}, expected [b'1', b'2']"]
    if any(k.startswith(b":") for k, _ in headers):
        failures.append("pseudo-headers present")
    names = [k for k, _ in headers if k.lower() == b"x-mixed"]
    note = "" if names == [b"x-mixed"] else f" (names not lowercased: {names!r}; a SHOULD)"
    return verdict(
        failures, "order and duplicates preserved" + note, observed=[repr(h) for h in headers]
    )


def b28_state(ctx: Context) -> Outcome:
    write = raw_request(ctx, http1.build_request("GET", "/conformance/raw/state?step=write"))
    read = raw_request(ctx, http1.build_request("GET", "/conformance/raw/state"))
    if not isinstance(read, http1.Response) or not isinstance(write, http1.Response):
        return failed(f"state probe failed: {status_of(write)}, {status_of(read)}")
    data = json.loads(read.body)
    if data.get("state") is None:
        return not_applicable(f"{ctx.server} provides no lifespan state")
    expected = {"state": True, "value": "initial", "hits": 1}
    failures = []
    if data["value"] != "initial":
        failures.append(f"a request's assignment leaked into the next: {data['value']!r}")
    if data["hits"] != 1:
        failures.append(f"shared object not shared (hits={data['hits']})")
    return verdict(failures, "each request gets a shallow copy", observed=data, expected=expected)


def b29_request_events(ctx: Context) -> Outcome:
    empty = raw_request(ctx, http1.build_request("GET", "/conformance/raw/echo"))
    chunked = raw_request(
        ctx,
        (
            b"POST /conformance/raw/echo HTTP/1.1\r\nHost: conformance.test\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        ),
    )
    failures = []
    if not isinstance(empty, http1.Response) or int(empty.header("x-request-events") or 0) < 1:
        failures.append(f"empty GET: {status_of(empty)} without an http.request event")
    if not isinstance(chunked, http1.Response) or chunked.body != b"hello world":
        body = chunked.body if isinstance(chunked, http1.Response) else chunked
        failures.append(f"chunked POST echoed {body!r}, expected b'hello world'")
    return verdict(failures, "one http.request for an empty body; chunked body de-chunked")


def b30_disconnect_after_response(ctx: Context) -> Outcome:
    probe = f"b30-{time.monotonic_ns()}"
    with http1.Connection(ctx.port) as conn:
        conn.send(http1.build_request("GET", f"/conformance/raw/receive-after-response?id={probe}"))
        conn.read_response()
        result = probe_result(ctx, probe, until="done", timeout=8.0)
    events = (result or {}).get("events")
    expected = ["http.disconnect", "http.disconnect"]
    if events != expected:
        return failed(f"receive() after the response gave {events}", events, expected)
    return passed("http.disconnect on every receive() after the response", events)


def b31_client_drop(ctx: Context) -> Outcome:
    log_offset = len(ctx.wire.server_log_text())
    probe = f"b31-{time.monotonic_ns()}"
    raw, connection = tagged("GET", f"/conformance/raw/disconnect?id={probe}")
    with http1.Connection(ctx.port) as conn:
        conn.send(raw)
        conn.read_available(0.3)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    result = probe_result(ctx, probe, until="stopped", timeout=4.0) or {}
    time.sleep(0.3)
    scope = ctx.wire.events.scope(connection) or {}
    failures = []
    learned = result.get("state") == "stopped" or result.get("disconnect_seen") is not None
    if not learned:
        failures.append(f"the app never learned the client left ({result})")
    if spec_version(scope) >= (2, 4) and "OSError" not in result.get("send_raised_mro", []):
        failures.append("spec_version >= 2.4 but send() did not raise an OSError")
    if error := server_log_has_error(ctx, log_offset):
        failures.append(f"server logged an error: {error[:120]}")
    return verdict(failures, "disconnect seen, send raised, nothing logged", observed=result)


def b32_send_errors(ctx: Context) -> Outcome:
    ids = {name: f"b32-{name}-{time.monotonic_ns()}" for name in ("invalid-send", "extra-keys")}
    extra = _get(ctx, f"/conformance/raw/extra-keys?id={ids['extra-keys']}")
    _get(ctx, f"/conformance/raw/invalid-send?id={ids['invalid-send']}")
    invalid = probe_result(ctx, ids["invalid-send"], until="done") or {}
    extra_result = probe_result(ctx, ids["extra-keys"], until="done") or {}
    failures = []
    if invalid.get("raised") is None:
        failures.append("send() accepted str headers without raising")
    if extra_result.get("raised") is not None or status_of(extra) != 200:
        failures.append(f"extra keys rejected: {extra_result.get('raised')} / {status_of(extra)}")
    return verdict(
        failures,
        f"invalid event raised {invalid.get('raised')}; extra keys accepted",
        observed={"invalid": invalid.get("raised"), "extra": extra_result.get("raised")},
    )


def b33_app_exception(ctx: Context) -> Outcome:
    before = raw_request(ctx, http1.build_request("GET", "/conformance/raw/crash-before-start"))
    after = raw_request(ctx, http1.build_request("GET", "/conformance/raw/crash-after-start"))
    failures = []
    if status_of(before) != 500:
        failures.append(f"crash before start answered {status_of(before)}, expected 500")
    if isinstance(after, http1.Response):
        failures.append(f"crash mid-body produced a complete response ({after.body!r})")
    return verdict(
        failures,
        "500 before start; connection cut after start",
        observed={"before": status_of(before), "after": status_of(after)},
    )


def b34_flush(ctx: Context) -> Outcome:
    probe = f"b34-{time.monotonic_ns()}"
    with http1.Connection(ctx.port, timeout=6.0) as conn:
        conn.send(http1.build_request("GET", f"/conformance/raw/flush?id={probe}"))
        deadline = time.monotonic() + 2.0
        seen = b""
        while b"first;" not in seen and time.monotonic() < deadline:
            seen += conn.read_available(0.1)
        if b"first;" in seen:
            raw_request(ctx, http1.build_request("GET", f"/conformance/raw/flush-ack?id={probe}"))
        conn.read_available(1.0)
    result = probe_result(ctx, probe, until="acked", timeout=4.0) or {}
    if result.get("state") != "acked":
        return failed(
            "the first chunk did not reach the client while the app waited",
            result.get("state"),
            "acked",
        )
    return passed("each body chunk is on the wire before send() returns")


def b35_framing(ctx: Context) -> Outcome:
    te = _get(ctx, "/conformance/raw/te-header")
    v11 = _get(ctx, "/conformance/raw/stream")
    v10 = _get(ctx, "/conformance/raw/stream", version="HTTP/1.0")
    failures = []
    if not isinstance(te, http1.Response):
        failures.append(f"app-set Transfer-Encoding broke the response: {te}")
    elif te.body != b"hello world" or len(te.header_all("transfer-encoding")) > 1:
        failures.append(f"app-set Transfer-Encoding not ignored: {te.headers!r} {te.body!r}")
    if not isinstance(v11, http1.Response) or v11.framing != "chunked" or v11.body != b"abcdefghi":
        failures.append(f"HTTP/1.1 without Content-Length: {getattr(v11, 'framing', v11)}")
    if not isinstance(v10, http1.Response) or v10.framing == "chunked" or v10.body != b"abcdefghi":
        failures.append(f"HTTP/1.0 without Content-Length: {getattr(v10, 'framing', v10)}")
    framing = {
        k: getattr(v, "framing", str(v))
        for k, v in {"te-header": te, "1.1": v11, "1.0": v10}.items()
    }
    return verdict(
        failures, "app TE ignored; chunked on 1.1, close-delimited on 1.0", observed=framing
    )


def b36_head(ctx: Context) -> Outcome:
    with http1.Connection(ctx.port) as conn:
        try:
            conn.send(http1.build_request("HEAD", "/conformance/raw/head-body"))
            head = conn.read_response("HEAD")
            conn.send(http1.build_request("GET", "/conformance/raw/head-body"))
            get = conn.read_response("GET")
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            return failed(f"after HEAD the connection was unusable: {exc}")
    failures = []
    if get.body != b"hello":
        failures.append(f"the GET after HEAD read {get.body!r}: HEAD body bytes leaked")
    if head.header("content-length") not in (None, b"5"):
        failures.append(f"HEAD Content-Length {head.header('content-length')!r}, GET says 5")
    return verdict(
        failures,
        "HEAD: no body, Content-Length of the GET kept",
        observed={"head_cl": repr(head.header("content-length"))},
    )


def b37_expect_continue(ctx: Context) -> Outcome:
    failures = []
    with http1.Connection(ctx.port) as conn:
        conn.send(
            b"POST /conformance/raw/echo HTTP/1.1\r\nHost: conformance.test\r\n"
            b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        early = conn.read_available(1.0)
        conn.buffer = early + conn.buffer
        conn.send(b"hello")
        try:
            final = conn.read_response("POST")
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            return failed(f"HTTP/1.1 Expect: 100-continue broke the exchange: {exc}")
    if not any(r.status == 100 for r in final.interim):
        failures.append("no 100 Continue before the body was sent (HTTP/1.1)")
    if final.body != b"hello":
        failures.append(f"echo returned {final.body!r}")
    old = raw_request(
        ctx,
        b"POST /conformance/raw/echo HTTP/1.0\r\nHost: conformance.test\r\n"
        b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
        method="POST",
    )
    if isinstance(old, http1.Response) and old.interim:
        failures.append("100 Continue sent to an HTTP/1.0 client (must be ignored)")
    return verdict(
        failures,
        "100 Continue on 1.1; expectation ignored on 1.0",
        observed={"interim_1.1": [r.status for r in final.interim], "status_1.0": status_of(old)},
    )


def b38_pipelining(ctx: Context) -> Outcome:
    failures = []
    with http1.Connection(ctx.port) as conn:
        echo = "/conformance/raw/echo"
        conn.send(b"".join(http1.build_request("POST", echo, body=b"%d" % n) for n in (1, 2, 3)))
        try:
            bodies = [conn.read_response("POST").body for _ in range(3)]
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            bodies = [f"error: {exc}".encode()]
    if bodies != [b"1", b"2", b"3"]:
        failures.append(f"pipelined responses {bodies!r}, expected [b'1', b'2', b'3']")
    first, _ = tagged("GET", "/conformance/raw/echo", [("Connection", "close")])
    second, second_id = tagged("GET", "/conformance/raw/echo")
    with http1.Connection(ctx.port) as conn:
        conn.send(first + second)
        try:
            conn.read_response()
            extra = conn.read_available(1.0)
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            extra = f"error: {exc}".encode()
    if extra:
        failures.append(f"bytes after the Connection: close response: {extra[:60]!r}")
    if any(r.get("connection") == second_id for r in ctx.wire.events.events("probe-finished")):
        failures.append("the request after Connection: close was processed")
    return verdict(
        failures,
        "in order; nothing processed after Connection: close",
        observed=[repr(b) for b in bodies],
    )


def _offered(ctx: Context) -> list[str]:
    result = raw_request(ctx, http1.build_request("GET", "/conformance/raw/extensions"))
    if not isinstance(result, http1.Response):
        return []
    names: list[str] = json.loads(result.body)["extensions"]
    return names


def b39_trailers(ctx: Context) -> Outcome:
    if "http.response.trailers" not in _offered(ctx):
        return not_applicable(f"{ctx.server} offers no trailers over HTTP/1.1")
    with_te = raw_request(
        ctx, http1.build_request("GET", "/conformance/raw/trailers", [("TE", "trailers")])
    )
    without = raw_request(ctx, http1.build_request("GET", "/conformance/raw/trailers"))
    failures = []
    if not isinstance(with_te, http1.Response) or not with_te.trailers:
        failures.append("no trailer fields despite TE: trailers")
    if isinstance(without, http1.Response) and without.trailers:
        failures.append("trailer fields sent without TE: trailers")
    return verdict(failures, "trailers only with TE: trailers")


def b40_early_hints(ctx: Context) -> Outcome:
    if "http.response.early_hint" not in _offered(ctx):
        return not_applicable(f"{ctx.server} offers no early hints over HTTP/1.1")
    result = raw_request(ctx, http1.build_request("GET", "/conformance/raw/early-hint"))
    if not isinstance(result, http1.Response) or not any(r.status == 103 for r in result.interim):
        return failed("no 103 before the final response", status_of(result))
    return passed("103 Early Hints precede the response")


def b41_tls(ctx: Context) -> Outcome:
    scope = _scope_for(ctx) or {}
    if "tls" in (scope.get("extensions") or {}):
        return failed("tls extension present on a plain-TCP connection")
    return passed("no tls extension over plain TCP (TLS itself is not served by the matrix)")


def b42_http2(ctx: Context) -> Outcome:
    return skipped("HTTP/2 framing and HPACK are h2spec's domain; the matrix speaks HTTP/1.1")


_WWW = "asgiref specs/www.rst"
CASES: tuple[Case, ...] = tuple(
    Case(case_id, "B", item, title, spec, endpoints, run, where="wire", tools=tools, generic=True)
    for case_id, item, title, spec, endpoints, run, tools in (
        (
            "B21",
            21,
            "asgi.version is 3.0; spec_version is a str when present",
            f"{_WWW} Connection Scope",
            ("/plaintext",),
            b21_versions,
            ("AS",),
        ),
        (
            "B22",
            22,
            "http_version matches the request line (1.0 / 1.1)",
            f"{_WWW} HTTP Connection Scope",
            ("/plaintext",),
            b22_http_version,
            ("AS",),
        ),
        (
            "B23",
            23,
            "client and server ports are ints",
            f"{_WWW} HTTP Connection Scope",
            ("/plaintext",),
            b23_addresses,
            ("AS",),
        ),
        (
            "B24",
            24,
            "path is percent- and UTF-8-decoded; query_string is raw bytes",
            f"{_WWW} HTTP Connection Scope",
            ("/conformance/decode/*",),
            b24_path_decoding,
            ("GC",),
        ),
        (
            "B25",
            25,
            "raw_path is the received bytes without the query (also with root_path)",
            f"{_WWW} raw_path; asgiref #474",
            ("/conformance/decode/*",),
            b25_raw_path,
            (),
        ),
        (
            "B26",
            26,
            "path starts with root_path",
            f"{_WWW} root_path; uvicorn #2213",
            ("/prefix/conformance/x",),
            b26_root_path,
            (),
        ),
        (
            "B27",
            27,
            "header order and duplicates preserved; no pseudo-headers",
            f"{_WWW} HTTP Connection Scope",
            ("/plaintext",),
            b27_headers,
            ("GC",),
        ),
        (
            "B28",
            28,
            "state is a shallow copy for each request",
            "asgiref specs/lifespan.rst State",
            ("/conformance/raw/state",),
            b28_state,
            ("GC",),
        ),
        (
            "B29",
            29,
            "at least one http.request; chunked bodies arrive de-chunked",
            f"{_WWW} Request",
            ("/conformance/raw/echo",),
            b29_request_events,
            ("GC",),
        ),
        (
            "B30",
            30,
            "http.disconnect on every receive() after the response",
            f"{_WWW} Disconnect; asgiref #334",
            ("/conformance/raw/receive-after-response",),
            b30_disconnect_after_response,
            (),
        ),
        (
            "B31",
            31,
            "client drop mid-stream: http.disconnect / OSError (2.4), not logged",
            f"{_WWW} Disconnected Client; granian #650",
            ("/conformance/raw/disconnect",),
            b31_client_drop,
            (),
        ),
        (
            "B32",
            32,
            "an invalid send event raises; extra keys do not",
            "asgiref specs/asgi.rst Error Handling",
            ("/conformance/raw/invalid-send",),
            b32_send_errors,
            (),
        ),
        (
            "B33",
            33,
            "app exception: 500 before start, connection closed after",
            "asgiref specs/asgi.rst Error Handling",
            ("/conformance/raw/crash-*",),
            b33_app_exception,
            (),
        ),
        (
            "B34",
            34,
            "body flushed before send() returns",
            f"{_WWW} Response Body",
            ("/conformance/raw/flush",),
            b34_flush,
            (),
        ),
        (
            "B35",
            35,
            "app Transfer-Encoding ignored; chunked on 1.1, close-delimited on 1.0",
            f"{_WWW} Response Start; RFC 9112 §6.1",
            ("/conformance/raw/te-header",),
            b35_framing,
            (),
        ),
        (
            "B36",
            36,
            "HEAD: no body, Content-Length of GET kept",
            "RFC 9110 §9.3.2, §8.6",
            ("/conformance/raw/head-body",),
            b36_head,
            ("GC",),
        ),
        (
            "B37",
            37,
            "Expect: 100-continue answered on 1.1, ignored on 1.0",
            "RFC 9110 §10.1.1; uvicorn #166",
            ("/conformance/raw/echo",),
            b37_expect_continue,
            ("GC",),
        ),
        (
            "B38",
            38,
            "pipelined responses in order; nothing after Connection: close",
            "RFC 9112 §9.3.2, §9.6; uvicorn #2238",
            ("/conformance/raw/echo",),
            b38_pipelining,
            ("HG",),
        ),
        (
            "B39",
            39,
            "trailers only with TE: trailers",
            "asgiref docs/extensions.rst Trailers",
            ("/conformance/raw/trailers",),
            b39_trailers,
            (),
        ),
        (
            "B40",
            40,
            "early hints (103) before the response",
            "asgiref docs/extensions.rst",
            ("/conformance/raw/early-hint",),
            b40_early_hints,
            (),
        ),
        (
            "B41",
            41,
            "tls extension only over TLS",
            "asgiref specs/tls.rst; uvicorn #1118",
            ("/plaintext",),
            b41_tls,
            (),
        ),
        ("B42", 42, "HTTP/2 framing and HPACK", "RFC 7540/7541", (), b42_http2, ("H2",)),
    )
)
