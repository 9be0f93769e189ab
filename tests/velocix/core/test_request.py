"""velocix.core.request: lazy properties, body reading, size limit, JSON, disconnects."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from velocix.core.exceptions import HTTPException
from velocix.core.request import (
    MAX_BODY_SIZE_KEY,
    ClientDisconnect,
    InvalidContentLength,
    Request,
    RequestBodyTooLarge,
    cookie_parser,
)
from velocix.http.datastructures import Address

Message = dict[str, Any]


def make_scope(
    headers: list[tuple[bytes, bytes]] | None = None, **overrides: Any
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/items/7",
        "raw_path": b"/items/7",
        "root_path": "",
        "query_string": b"",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


class Receiver:
    """An ASGI receive that hands out prepared messages and counts calls."""

    def __init__(self, *messages: Message) -> None:
        self.messages = list(messages)
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        if not self.messages:
            raise AssertionError("receive() called more often than the test allows")
        return self.messages.pop(0)


def limited(scope: dict[str, Any], limit: int) -> dict[str, Any]:
    scope[MAX_BODY_SIZE_KEY] = limit
    return scope


def chunks(*parts: bytes) -> list[Message]:
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


# --- lazy properties --------------------------------------------------------------------------


def test_construction_reads_nothing() -> None:
    """A request over an (invalid) empty scope can be built: nothing is parsed up front."""
    request = Request({})
    assert request.scope == {}
    assert vars(request).keys() == {"scope", "_receive", "_send"}


def test_scope_properties() -> None:
    scope = make_scope(
        headers=[(b"host", b"example.com"), (b"x-tag", b"a"), (b"x-tag", b"b")],
        query_string=b"page=1&tag=x&tag=y",
        path_params={"item_id": 7},
        app="the-app",
    )
    request = Request(scope)
    assert request.method == "POST"
    assert str(request.url) == "http://example.com/items/7?page=1&tag=x&tag=y"
    assert request.headers.getlist("X-Tag") == ["a", "b"]
    assert request.query_params.getlist("tag") == ["x", "y"]
    assert request.query_params["page"] == "1"
    assert request.path_params == {"item_id": 7}
    assert request.client == Address("127.0.0.1", 50000)
    assert request.app == "the-app"
    assert request.url is request.url  # cached
    assert request.headers is request.headers
    assert request.query_params is request.query_params


def test_base_url_uses_root_path() -> None:
    scope = make_scope(root_path="/api", path="/api/items", query_string=b"a=1")
    assert str(Request(scope).base_url) == "http://testserver/api/"
    assert str(Request(make_scope()).base_url) == "http://testserver/"


def test_defaults_when_scope_lacks_optional_keys() -> None:
    scope = make_scope()
    del scope["client"], scope["query_string"]
    request = Request(scope)
    assert request.client is None
    assert request.path_params == {}
    assert len(request.query_params) == 0
    assert request.app is None
    assert request.cookies == {}


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        pytest.param(["10.0.0.1", "5000"], Address("10.0.0.1", 5000), id="string-port"),
        pytest.param(["/tmp/sock", None], Address("/tmp/sock", None), id="unix-socket"),
        pytest.param(["h", "x"], Address("h", None), id="garbage-port"),
    ],
)
def test_client_normalisation(client: list[Any], expected: Address) -> None:
    assert Request(make_scope(client=client)).client == expected


def test_cookies() -> None:
    headers = [(b"cookie", b'session=abc; theme="dark mode"; flag'), (b"cookie", b"session=zzz")]
    request = Request(make_scope(headers=headers))
    assert request.cookies == {"session": "abc", "theme": "dark mode", "": "flag"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("a=1; b=2", {"a": "1", "b": "2"}, id="simple"),
        pytest.param("a=1;;  ;b=x=y", {"a": "1", "b": "x=y"}, id="empty-chunks-and-equals"),
        pytest.param('q="a\\"b\\073c"', {"q": 'a"b;c'}, id="quoted-escapes"),
        pytest.param("a=1; a=2", {"a": "1"}, id="first-wins"),
        pytest.param("", {}, id="empty"),
        pytest.param('x=""', {"x": ""}, id="empty-quoted"),
    ],
)
def test_cookie_parser(header: str, expected: dict[str, str]) -> None:
    assert cookie_parser(header) == expected


def test_state_is_shared_through_the_scope() -> None:
    scope = make_scope(state={"db": "conn"})
    first = Request(scope)
    first.state.user = "alice"
    second = Request(scope)
    assert second.state.db == "conn"
    assert second.state.user == "alice"


def test_state_without_lifespan_state() -> None:
    scope = make_scope()
    Request(scope).state.flag = True
    assert Request(scope).state.flag is True


# --- body, stream, json -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_body_joins_chunks_and_is_cached() -> None:
    receive = Receiver(*chunks(b"hel", b"", b"lo"))
    request = Request(make_scope(), receive)
    assert await request.body() == b"hello"
    assert await request.body() == b"hello"
    assert receive.calls == 3
    assert [c async for c in request.stream()] == [b"hello"]


@pytest.mark.anyio
async def test_stream_yields_chunks_once() -> None:
    request = Request(make_scope(), Receiver(*chunks(b"a", b"b")))
    assert [c async for c in request.stream()] == [b"a", b"b"]
    with pytest.raises(RuntimeError, match="already been consumed"):
        await request.body()


@pytest.mark.anyio
async def test_empty_body() -> None:
    request = Request(make_scope(), Receiver({"type": "http.request"}))
    assert await request.body() == b""


@pytest.mark.anyio
async def test_json() -> None:
    request = Request(make_scope(), Receiver(*chunks(b'{"a": [1, ', b"2]}")))
    assert await request.json() == {"a": [1, 2]}
    assert await request.json() == {"a": [1, 2]}


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"{bad json", b"", b'{"a": 1} trailing', b"\xff"])
async def test_malformed_json_is_400(body: bytes) -> None:
    """Seed defect: a malformed JSON body gave a 500."""
    request = Request(make_scope(), Receiver(*chunks(body)))
    with pytest.raises(HTTPException) as info:
        await request.json()
    assert info.value.status_code == 400
    assert str(info.value.detail).startswith("Malformed JSON: ")
    assert "JSON is malformed" not in str(info.value.detail)  # no stuttering


@pytest.mark.anyio
async def test_disconnect_while_reading_body() -> None:
    receive = Receiver(
        {"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.disconnect"}
    )
    request = Request(make_scope(), receive)
    with pytest.raises(ClientDisconnect):
        await request.body()
    assert await request.is_disconnected()


@pytest.mark.anyio
async def test_default_receive_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="receive"):
        await Request(make_scope()).body()


# --- size limit -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_declared_content_length_over_limit_is_413_before_reading() -> None:
    scope = limited(make_scope(headers=[(b"content-length", b"20000000")]), 1024)
    receive = Receiver(*chunks(b"x" * 10))
    with pytest.raises(RequestBodyTooLarge) as info:
        await Request(scope, receive).body()
    assert info.value.status_code == 413
    assert "1024" in str(info.value.detail)
    assert receive.calls == 0


@pytest.mark.anyio
async def test_huge_content_length_numeral_is_413_not_a_crash() -> None:
    scope = limited(make_scope(headers=[(b"content-length", b"9" * 10_000)]), 10)
    with pytest.raises(RequestBodyTooLarge):
        await Request(scope, Receiver()).body()


@pytest.mark.anyio
async def test_streamed_body_over_limit_stops_reading() -> None:
    """Seed defect: no body limit (20 MB buffered). Reading stops at the limit, without
    draining the rest of the body from receive()."""
    parts = [b"x" * 400] * 50  # 20,000 bytes offered, limit 1,000
    receive = Receiver(*chunks(*parts))
    request = Request(limited(make_scope(), 1000), receive)
    with pytest.raises(RequestBodyTooLarge):
        await request.body()
    assert receive.calls == 3  # 400 + 400 + 400 > 1000: the third chunk trips the limit
    assert len(receive.messages) == 47


@pytest.mark.anyio
async def test_stream_over_limit_yields_only_chunks_within_limit() -> None:
    request = Request(limited(make_scope(), 5), Receiver(*chunks(b"abc", b"def")))
    seen: list[bytes] = []
    with pytest.raises(RequestBodyTooLarge):
        async for chunk in request.stream():
            seen.append(chunk)
    assert seen == [b"abc"]


@pytest.mark.anyio
async def test_body_exactly_at_limit_is_accepted() -> None:
    scope = limited(make_scope(headers=[(b"content-length", b"0006")]), 6)
    assert await Request(scope, Receiver(*chunks(b"abc", b"def"))).body() == b"abcdef"


@pytest.mark.anyio
async def test_no_limit_when_key_absent() -> None:
    request = Request(make_scope(), Receiver(*chunks(*[b"y" * 1000] * 5)))
    assert len(await request.body()) == 5000


@pytest.mark.anyio
@pytest.mark.parametrize(
    "values",
    [
        pytest.param([b"abc"], id="letters"),
        pytest.param([b"-1"], id="negative"),
        pytest.param([b"+1"], id="plus-sign"),
        pytest.param([b"1.0"], id="decimal"),
        pytest.param([b""], id="empty"),
        pytest.param([b" 1"], id="space"),
        pytest.param([b"0_1"], id="underscore"),
        pytest.param([b"5, 5"], id="list"),
        pytest.param(["\uff11".encode()], id="non-ascii-digit"),
    ],
)
async def test_invalid_content_length_is_400(values: list[bytes]) -> None:
    scope = make_scope(headers=[(b"content-length", v) for v in values])
    receive = Receiver(*chunks(b"12345"))
    with pytest.raises(InvalidContentLength) as info:
        await Request(scope, receive).body()
    assert info.value.status_code == 400
    assert receive.calls == 0


@pytest.mark.anyio
async def test_identical_duplicate_content_length_is_accepted() -> None:
    scope = make_scope(headers=[(b"content-length", b"2"), (b"content-length", b"2")])
    assert await Request(scope, Receiver(*chunks(b"ok"))).body() == b"ok"


# --- is_disconnected --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_is_disconnected_true_when_disconnect_is_waiting() -> None:
    request = Request(make_scope(), Receiver({"type": "http.disconnect"}))
    assert await request.is_disconnected() is True
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_is_disconnected_does_not_block() -> None:
    waiting = asyncio.Event()
    calls: list[bool] = []

    async def receive() -> Message:
        calls.append(True)
        await waiting.wait()
        raise AssertionError("unreachable: the pending receive must be cancelled")

    request = Request(make_scope(), receive)
    assert await request.is_disconnected() is False
    await asyncio.sleep(0)
    assert calls == [True]


@pytest.mark.anyio
async def test_is_disconnected_keeps_body_it_read() -> None:
    receive = Receiver(*chunks(b"early", b"late"))
    request = Request(make_scope(), receive)
    assert await request.is_disconnected() is False
    assert await request.is_disconnected() is False  # buffered message: no new receive()
    assert receive.calls == 1
    assert await request.body() == b"earlylate"


@pytest.mark.anyio
async def test_is_disconnected_keeps_message_returned_despite_cancel() -> None:
    release = asyncio.Event()

    async def stubborn_receive() -> Message:
        # Swallows the cancellation and still returns a message.
        with contextlib.suppress(asyncio.CancelledError):
            await release.wait()
        return {"type": "http.disconnect"}

    request = Request(make_scope(), stubborn_receive)
    assert await request.is_disconnected() is False
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_form_delegates_to_the_forms_battery() -> None:
    scope = make_scope(headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    request = Request(scope, Receiver(*chunks(b"name=Ada&tag=a&tag=b")))
    form = await request.form()
    assert form["name"] == "Ada"
    assert form.getlist("tag") == ["a", "b"]
    assert await request.form() is form
