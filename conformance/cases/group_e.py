"""Group E: robustness and security (checklist items 59-66): a malformed-request corpus and
framework CVE classes, sent as raw bytes (no client library would send most of them).

Each corpus row is one case: the exact bytes, what a conforming server may answer, and the
RFC clause. Requests target ``/conformance/raw/echo`` so the server's parser, not a
framework, is under test; the CVE rows (E66*) target each framework's own endpoints.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from conformance.cases.model import Case, Context, Outcome, ambiguous, failed, passed, verdict
from conformance.cases.wirehelp import (
    probe_result,
    raw_request,
    rejected,
    status_of,
    tagged,
    wait_scope,
)
from conformance.targets import CONNECTION_HEADER, new_connection_id
from conformance.wire import http1

ECHO = b"/conformance/raw/echo"


def message(
    *lines: bytes,
    body: bytes = b"",
    start: bytes = b"POST " + ECHO + b" HTTP/1.1",
    host: bool = True,
) -> bytes:
    """Request bytes from field lines, verbatim (CRLF-joined, blank line, body)."""
    head = [start, *([b"Host: conformance.test"] if host else []), *lines]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Row:
    """One malformed request and the answers a conforming server may give."""

    id: str
    item: int
    title: str
    spec: str
    raw: bytes
    allowed: tuple[int, ...] = (400,)
    tolerated: Callable[[http1.Response], bool] | None = None
    timeout: float = 3.0
    close_ok: bool = True
    """Closing the connection without an answer also refuses the request; rows that demand
    the precise status (414, 431) say False."""
    large: bool = False


def _echoes(body: bytes) -> Callable[[http1.Response], bool]:
    """An alternative acceptable answer: the body was framed as ``body``."""
    return lambda response: response.status == 200 and response.body == body


CORPUS: tuple[Row, ...] = (
    Row(
        "E59a",
        59,
        "Missing Host on HTTP/1.1 gives 400",
        "RFC 9112 §3.2",
        message(b"Content-Length: 0", host=False),
    ),
    Row(
        "E59b",
        59,
        "Duplicate Host gives 400",
        "RFC 9112 §3.2",
        message(b"Host: other.test", b"Content-Length: 0"),
    ),
    Row(
        "E60a",
        60,
        "Whitespace between field name and colon gives 400",
        "RFC 9112 §5.1",
        message(b"X-Probe : 1", b"Content-Length: 0"),
    ),
    Row(
        "E60b",
        60,
        "obs-fold is rejected (or replaced by SP)",
        "RFC 9112 §5.2",
        message(b"X-Probe: a", b" b", b"Content-Length: 0"),
    ),
    Row(
        "E60c",
        60,
        "CR inside a field value gives 400",
        "RFC 9110 §5.5",
        message(b"X-Probe: a\rb", b"Content-Length: 0"),
    ),
    Row(
        "E60d",
        60,
        "NUL inside a field value gives 400",
        "RFC 9110 §5.5",
        message(b"X-Probe: a\x00b", b"Content-Length: 0"),
    ),
    # From gunicorn's invalid-request corpus (tests/requests/invalid/), as classes of bytes.
    Row(
        "E60f",
        60,
        "A field name with a non-token character gives 400",
        "RFC 9110 §5.1; RFC 9112 §5",
        message(b"X-Pro(be: 1", b"Content-Length: 0"),
    ),
    Row(
        "E59c",
        59,
        "A malformed HTTP version ('HTTP/1.10') gives 400 (or 505)",
        "RFC 9112 §2.3",
        message(b"Content-Length: 0", start=b"POST " + ECHO + b" HTTP/1.10"),
        allowed=(400, 505),
    ),
    Row(
        "E61a",
        61,
        "Content-Length '+5' gives 400",
        "RFC 9112 §6.3; RFC 9110 §8.6",
        message(b"Content-Length: +5", body=b"hello"),
    ),
    Row(
        "E61b", 61, "Content-Length '-0' gives 400", "RFC 9112 §6.3", message(b"Content-Length: -0")
    ),
    Row(
        "E61c",
        61,
        "Content-Length '0_1' gives 400",
        "RFC 9112 §6.3; hypercorn #282",
        message(b"Content-Length: 0_1", body=b"h"),
    ),
    Row(
        "E61d",
        61,
        "Content-Length '5, 5' gives 400 or is read as 5",
        "RFC 9110 §8.6",
        message(b"Content-Length: 5, 5", body=b"hello"),
        tolerated=_echoes(b"hello"),
    ),
    Row(
        "E61e",
        61,
        "Conflicting Content-Length fields give 400",
        "RFC 9112 §6.3; hypercorn #284",
        message(b"Content-Length: 5", b"Content-Length: 6", body=b"hello!"),
    ),
    Row(
        "E61f",
        61,
        "A Content-Length too large to parse gives 400",
        "RFC 9112 §6.3",
        message(b"Content-Length: 99999999999999999999999999999", body=b"hello"),
        allowed=(400, 413),
    ),
    Row(
        "E62a",
        62,
        "Content-Length with Transfer-Encoding: 400, or chunked and close",
        "RFC 9112 §6.1; hypercorn #279",
        message(
            b"Content-Length: 5", b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n"
        ),
    ),
    Row(
        "E62b",
        62,
        "Transfer-Encoding on HTTP/1.0 is faulty framing (400 or close)",
        "RFC 9112 §6.1",
        message(
            b"Transfer-Encoding: chunked",
            body=b"5\r\nhello\r\n0\r\n\r\n",
            start=b"POST " + ECHO + b" HTTP/1.0",
        ),
    ),
    # 400 is the MUST of §6.3; 501 (unknown coding, §6.1) refuses the request just as safely.
    Row(
        "E62c",
        62,
        "chunked not the final coding is refused (400, or 501)",
        "RFC 9112 §6.1, §6.3",
        message(b"Transfer-Encoding: chunked, gzip", body=b"5\r\nhello\r\n0\r\n\r\n"),
        allowed=(400, 501),
    ),
    Row(
        "E63a",
        63,
        "A non-hex chunk size gives 400",
        "RFC 9112 §7.1",
        message(b"Transfer-Encoding: chunked", body=b"zz\r\nhello\r\n0\r\n\r\n"),
    ),
    Row(
        "E63b",
        63,
        "An overflowing chunk size gives 400",
        "RFC 9112 §7.1",
        message(b"Transfer-Encoding: chunked", body=b"f" * 25 + b"\r\nhello\r\n0\r\n\r\n"),
    ),
    Row(
        "E63c",
        63,
        "Chunk data longer than its size gives 400",
        "RFC 9112 §7.1",
        message(b"Transfer-Encoding: chunked", body=b"3\r\nhello\r\n0\r\n\r\n"),
    ),
    Row(
        "E63d",
        63,
        "A control character in a chunk extension gives 400",
        "RFC 9112 §7.1.1",
        message(b"Transfer-Encoding: chunked", body=b"5;ext=\x01\r\nhello\r\n0\r\n\r\n"),
    ),
    Row(
        "E61g",
        61,
        "Two identical Content-Length fields: 400, or read as that one length",
        "RFC 9110 §8.6; RFC 9112 §6.3",
        message(b"Content-Length: 5", b"Content-Length: 5", body=b"hello"),
        tolerated=_echoes(b"hello"),
    ),
    Row(
        "E62d",
        62,
        "Transfer-Encoding 'chunked ' (trailing space) is chunked (OWS is not part of the value)",
        "RFC 9112 §5.1, §6.1",
        message(b"Transfer-Encoding: chunked ", body=b"5\r\nhello\r\n0\r\n\r\n"),
        allowed=(400, 501),
        tolerated=_echoes(b"hello"),
    ),
    Row(
        "E62e",
        62,
        "Transfer-Encoding 'Chunked' is chunked (coding names are case-insensitive)",
        "RFC 9112 §7",
        message(b"Transfer-Encoding: Chunked", body=b"5\r\nhello\r\n0\r\n\r\n"),
        allowed=(400, 501),
        tolerated=_echoes(b"hello"),
    ),
    Row(
        "E62f",
        62,
        "Transfer-Encoding 'x-chunked' (not chunked) is refused (400, or 501)",
        "RFC 9112 §6.1, §6.3",
        message(b"Transfer-Encoding: x-chunked", body=b"5\r\nhello\r\n0\r\n\r\n"),
        allowed=(400, 501),
    ),
    Row(
        "E62g",
        62,
        "A second Transfer-Encoding line after chunked is refused (chunked not final)",
        "RFC 9112 §6.1, §6.3; RFC 9110 §5.3",
        message(
            b"Transfer-Encoding: chunked",
            b"Transfer-Encoding: x-custom",
            body=b"5\r\nhello\r\n0\r\n\r\n",
        ),
        allowed=(400, 501),
    ),
    Row(
        "E63e",
        63,
        "A '0x'-prefixed chunk size gives 400",
        "RFC 9112 §7.1",
        message(b"Transfer-Encoding: chunked", body=b"0x5\r\nhello\r\n0\r\n\r\n"),
    ),
    Row(
        "E64b",
        64,
        "A 1 MiB request line is refused with 414",
        "RFC 9112 §3; RFC 9110 §15.5.15",
        b"GET " + ECHO + b"?" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        allowed=(414,),
        timeout=8.0,
        close_ok=False,
        large=True,
    ),
    Row(
        "E64c",
        64,
        "A 1 MiB header section is refused with 431",
        "RFC 6585 §5; RFC 9110 §5.4",
        message(*[b"X-Pad-%d: %s" % (i, b"p" * 1000) for i in range(1024)], b"Content-Length: 0"),
        allowed=(431,),
        timeout=8.0,
        close_ok=False,
        large=True,
    ),
    Row(
        "E64d",
        64,
        "A 100 KB request line is refused with 414",
        "RFC 9112 §3; RFC 9110 §15.5.15",
        b"GET " + ECHO + b"?" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        allowed=(414,),
        timeout=8.0,
        close_ok=False,
        large=True,
    ),
    Row(
        "E64e",
        64,
        "A 100 KB header section is refused with 431",
        "RFC 6585 §5; RFC 9110 §5.4",
        message(*[b"X-Pad-%d: %s" % (i, b"p" * 1000) for i in range(100)], b"Content-Length: 0"),
        allowed=(431,),
        timeout=8.0,
        close_ok=False,
        large=True,
    ),
)


def corpus_runner(row: Row) -> Callable[[Context], Outcome]:
    """The check of one corpus row."""

    def run(ctx: Context) -> Outcome:
        if row.large:
            result = _large_request(ctx, row)
        else:
            result = raw_request(ctx, row.raw, method="POST", timeout=row.timeout)
        if rejected(result, allowed=row.allowed, close_ok=row.close_ok):
            return passed(f"refused: {status_of(result)}", status_of(result))
        if isinstance(result, http1.Response) and row.tolerated and row.tolerated(result):
            return passed(f"accepted with the unambiguous reading ({result.status})")
        if row.id == "E60b" and isinstance(result, http1.Response) and result.status == 200:
            return _obs_fold_replaced(ctx)
        if row.id in ("E62a", "E62b") and isinstance(result, http1.Response):
            return _processed_then_closed(ctx, row)
        return failed(
            f"answered {status_of(result)}", status_of(result), " or ".join(map(str, row.allowed))
        )

    return run


def _large_request(ctx: Context, row: Row) -> http1.Response | str:
    try:
        return http1.exchange_sending(ctx.port, row.raw, method="GET", timeout=row.timeout)
    except http1.PeerClosed as exc:
        return f"connection closed without an answer ({exc})"
    except http1.FramingError as exc:
        return f"malformed response: {exc}"
    except (OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"


def e61h_short_body_then_request(ctx: Context) -> Outcome:
    second, second_id = tagged("GET", "/conformance/raw/echo")
    first = message(b"Content-Length: 20", body=b"hello")
    with http1.Connection(ctx.port) as conn:
        conn.send(first + second)
        try:
            response: http1.Response | str = conn.read_response("POST", 3.0)
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            response = f"{type(exc).__name__}: {exc}"
        conn.read_available(0.5)
    time.sleep(0.2)
    processed = any(
        r.get("connection") == second_id for r in ctx.wire.events.events("probe-finished")
    )
    expected_body = b"hello" + second[:15]
    observed = {"first": status_of(response), "second request processed": processed}
    failures = []
    if processed:
        failures.append("the bytes after a short body were served as a request of their own")
    wrong_body = (
        isinstance(response, http1.Response)
        and response.status == 200
        and response.body != expected_body
    )
    if wrong_body:
        failures.append(f"the echo read {getattr(response, 'body', b'')!r}, not the 20 bytes sent")
    return verdict(
        failures, "the next request's bytes completed the body; no request smuggled", observed
    )


def e61i_half_close_mid_body(ctx: Context) -> Outcome:
    probe = f"e61i-{time.monotonic_ns()}"
    raw = message(
        b"Content-Length: 10", body=b"hello", start=b"POST /conformance/raw/body-record?id="
        + probe.encode() + b" HTTP/1.1",
    )  # fmt: skip
    with http1.Connection(ctx.port) as conn:
        conn.send(raw)
        conn.sock.shutdown(socket.SHUT_WR)
        answer = conn.read_available(2.0)
    result = probe_result(ctx, probe, until="done", timeout=3.0) or {}
    events = result.get("events") or []
    complete = [e for e in events if e[0] == "http.request" and not e[2]]
    status = answer.split(b"\r\n", 1)[0].decode("latin-1", "replace") or "no answer"
    observed = {"app events": events, "answer": status}
    if complete:
        return failed(
            f"the app was handed {sum(e[1] for e in events if e[0] == 'http.request')} of 10 "
            "body bytes as a complete request after the client half-closed",
            observed,
            "http.disconnect (or no call)",
        )
    return passed("the incomplete body was never presented as complete", observed)


def e60e_bare_lf(ctx: Context) -> Outcome:
    raw = b"POST " + ECHO + b" HTTP/1.1\nHost: conformance.test\nContent-Length: 5\n\nhello"
    result = raw_request(ctx, raw, method="POST", timeout=2.0)  # a server may wait for CRLF
    observed = status_of(result)
    if isinstance(result, http1.Response) and result.status == 200:
        observed = f"accepted (200, body {result.body!r})"
    return ambiguous(
        "RFC 9112 §2.2: a recipient MAY recognise a bare LF as a line terminator; "
        "accepting and refusing both conform",
        observed,
    )


def _obs_fold_replaced(ctx: Context) -> Outcome:
    connection = new_connection_id()
    raw = message(
        b"X-Probe: a",
        b" b",
        f"{CONNECTION_HEADER}: {connection}".encode(),
        b"Content-Length: 0",
        start=b"GET /plaintext HTTP/1.1",
    )
    raw_request(ctx, raw)
    scope = wait_scope(ctx, connection) or {}
    values = [v for k, v in scope.get("headers", []) if bytes(k).lower() == b"x-probe"]
    if values and b"\r" not in values[0] and b"\n" not in values[0] and b"b" in values[0]:
        return passed(f"obs-fold replaced by SP: {values[0]!r}")
    return failed(f"obs-fold accepted without unfolding: {values!r}", repr(values), "400")


def _processed_then_closed(ctx: Context, row: Row) -> Outcome:
    with http1.Connection(ctx.port) as conn:
        conn.send(row.raw + message(b"Content-Length: 0"))
        try:
            conn.read_response("POST")
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            return passed(f"connection ended: {exc}")
        closed = conn.wait_closed(2.0)
    if closed:
        return passed("processed once, then the connection was closed")
    return failed(
        "faulty framing processed and the connection kept open", "kept open", "400 or close"
    )


def e64a_long_line(ctx: Context) -> Outcome:
    target = ECHO + b"?" + b"a" * (8000 - len(ECHO) - 20)
    result = raw_request(ctx, b"GET " + target + b" HTTP/1.1\r\nHost: conformance.test\r\n\r\n")
    if status_of(result) != 200:
        return failed(
            f"an 8000-octet request line answered {status_of(result)}", status_of(result), 200
        )
    return passed("8000-octet request line served")


def e65_header_injection(ctx: Context) -> Outcome:
    result = raw_request(ctx, http1.build_request("GET", "/conformance/raw/header-injection"))
    if isinstance(result, http1.Response) and result.header("x-injected") is not None:
        return failed(
            "CR/LF from the app reached the wire as a new header field",
            repr(result.headers),
            "no x-injected field",
        )
    return passed(f"no injected field on the wire ({status_of(result)})")


# --- framework CVE classes -------------------------------------------------------------------
def e66a_traversal(ctx: Context) -> Outcome:
    leaks = []
    for target in (
        "/conformance/static/../../../../../../etc/passwd",
        "/conformance/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/conformance/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ):
        result = raw_request(ctx, http1.build_request("GET", target))
        if isinstance(result, http1.Response) and b"root:" in result.body:
            leaks.append(target)
    if leaks:
        return failed("static files served outside their directory", leaks, "404")
    ok = raw_request(ctx, http1.build_request("GET", "/conformance/static/hello.txt"))
    if status_of(ok) != 200:
        return failed(f"the static mount does not serve its own file ({status_of(ok)})")
    return passed("dot segments (plain and encoded) stay inside the directory")


def _multipart(fields: int) -> tuple[bytes, bytes]:
    boundary = b"conformanceboundary"
    parts = b"".join(
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i
        for i in range(fields)
    )
    return parts + b"--" + boundary + b"--\r\n", b"multipart/form-data; boundary=" + boundary


def e66b_form_fields(ctx: Context) -> Outcome:
    body, content_type = _multipart(1001)
    raw = message(
        b"Content-Type: " + content_type,
        b"Content-Length: %d" % len(body),
        body=body,
        start=b"POST /conformance/form HTTP/1.1",
    )
    result = raw_request(ctx, raw, method="POST", timeout=10.0)
    if status_of(result) not in (400, 413, 422):
        return failed(
            f"1001 multipart fields answered {status_of(result)}",
            status_of(result),
            "400 (field limit)",
        )
    return passed(f"1001 fields refused ({status_of(result)})")


def e66c_content_type_redos(ctx: Context) -> Outcome:
    evil = b'application/x-www-form-urlencoded; !="\\' + b"\\" * 30000 + b'"'
    raw = message(
        b"Content-Type: " + evil,
        b"Content-Length: 3",
        body=b"a=b",
        start=b"POST /conformance/form HTTP/1.1",
    )
    started = time.monotonic()
    result = raw_request(ctx, raw, method="POST", timeout=10.0)
    elapsed = time.monotonic() - started
    if elapsed > 5.0 or (isinstance(result, str) and result.startswith("TimeoutError")):
        return failed(f"a crafted Content-Type took {elapsed:.1f} s", round(elapsed, 1), "< 5 s")
    return passed(f"answered {status_of(result)} promptly")


def e66d_many_ranges(ctx: Context) -> Outcome:
    ranges = ",".join(f"{i}-{i}" for i in range(0, 3000, 3))
    started = time.monotonic()
    result = raw_request(
        ctx,
        http1.build_request("GET", "/conformance/file", [("Range", f"bytes={ranges}")]),
        timeout=10.0,
    )
    elapsed = time.monotonic() - started
    failures = [] if elapsed <= 5.0 else [f"1000 ranges took {elapsed:.1f} s"]
    if status_of(result) not in (200, 206, 416, 400):
        failures.append(f"answered {status_of(result)}")
    return verdict(
        failures, f"1000 ranges answered {status_of(result)} promptly", observed=status_of(result)
    )


_CVE = "CVE classes: see conformance/cases/group_e.py"
CASES: tuple[Case, ...] = (
    *(
        Case(
            row.id,
            "E",
            row.item,
            row.title,
            row.spec,
            ("/conformance/raw/echo",),
            corpus_runner(row),
            where="wire",
            tools=("GI", "HG"),
            generic=True,
        )
        for row in CORPUS
    ),
    Case(
        "E60e",
        "E",
        60,
        "Bare LF line endings (spec-ambiguous: MAY be accepted)",
        "RFC 9112 §2.2",
        ("/conformance/raw/echo",),
        e60e_bare_lf,
        where="wire",
        tools=("GI", "HG"),
        generic=True,
    ),
    Case(
        "E61h",
        "E",
        61,
        "A body shorter than its Content-Length, then a request: no smuggled request",
        "RFC 9112 §6.3, §11.2",
        ("/conformance/raw/echo",),
        e61h_short_body_then_request,
        where="wire",
        tools=("HG",),
        generic=True,
    ),
    Case(
        "E61i",
        "E",
        61,
        "A client half-close mid-body: the app never gets the body as complete",
        "RFC 9112 §8; asgiref specs/www.rst Disconnect",
        ("/conformance/raw/body-record",),
        e61i_half_close_mid_body,
        where="wire",
        generic=True,
    ),
    Case(
        "E64a",
        "E",
        64,
        "An 8000-octet request line is served",
        "RFC 9112 §3",
        ("/conformance/raw/echo",),
        e64a_long_line,
        where="wire",
        tools=("GI",),
        generic=True,
    ),
    Case(
        "E65",
        "E",
        65,
        "CR/LF in an app header value never reaches the wire",
        "RFC 9110 §5.5; uvicorn test_response_header_splitting",
        ("/conformance/raw/header-injection",),
        e65_header_injection,
        where="wire",
        generic=True,
    ),
    Case(
        "E66a",
        "E",
        66,
        "Static files: no path traversal (CVE-2023-29159)",
        "CVE-2023-29159",
        ("/conformance/static/*",),
        e66a_traversal,
        where="wire",
        needs=frozenset({"static"}),
    ),
    Case(
        "E66b",
        "E",
        66,
        "Multipart: 1001 fields refused (CVE-2023-30798)",
        "CVE-2023-30798",
        ("/conformance/form",),
        e66b_form_fields,
        where="wire",
        needs=frozenset({"forms"}),
    ),
    Case(
        "E66c",
        "E",
        66,
        "Content-Type parsing without ReDoS (CVE-2024-24762)",
        "CVE-2024-24762",
        ("/conformance/form",),
        e66c_content_type_redos,
        where="wire",
        needs=frozenset({"forms"}),
    ),
    Case(
        "E66d",
        "E",
        66,
        "Many byte ranges answered promptly (CVE-2025-62727)",
        "CVE-2025-62727",
        ("/conformance/file",),
        e66d_many_ranges,
        where="wire",
        needs=frozenset({"file"}),
    ),
)
