"""HTTP data structures shared by requests, responses, websockets and middleware.

Everything here is cheap to construct: the constructor stores what it was given and the parsing
(header lookup table, query string, URL components) happens on first use. Objects built from an
ASGI scope are views over the server's data (``scope["headers"]``, ``scope["query_string"]``);
:class:`MutableHeaders` edits the raw ``list[tuple[bytes, bytes]]`` it wraps in place, so a
response's ``headers`` and ``raw_headers`` never disagree.

Repeated values are kept everywhere: :meth:`Headers.getlist`, :meth:`QueryParams.getlist` and
``multi_items()`` return all of them. For single-value access ``headers[name]`` returns the
**first** value (the order the client sent) and ``query_params[key]`` the **last** one (like
Starlette/FastAPI, so ``?page=1&page=2`` is page 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple
from urllib.parse import SplitResult, unquote, urlencode, urlsplit

__all__ = [
    "URL",
    "Address",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "RawHeaders",
    "Scope",
    "State",
    "encode_header",
    "parse_query_string",
]

Scope = MutableMapping[str, Any]
RawHeaders = list[tuple[bytes, bytes]]

# RFC 9110 §5.1 field-name = token.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Characters that would split a header (response splitting) or that no server accepts.
_FORBIDDEN_VALUE_CHARS = frozenset("\r\n\x00")


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """Validate and encode one header as the ASGI pair ``(lowercase name, value)``.

    Raises :class:`ValueError` for a name that is not an RFC 9110 token and for a value holding
    CR, LF or NUL: such a value would let user data inject headers into the response.
    """
    if _TOKEN_RE.fullmatch(name) is None:
        raise ValueError(f"Invalid header name {name!r}: must be an RFC 9110 token")
    if not _FORBIDDEN_VALUE_CHARS.isdisjoint(value):
        raise ValueError(f"Invalid value for header {name!r}: CR, LF and NUL are not allowed")
    try:
        return name.lower().encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"Invalid value for header {name!r}: only latin-1 characters can be sent; "
            "percent-encode or RFC 8187-encode other text"
        ) from None


_KEYS: dict[str, bytes] = {}
_KEYS_MAX = 1024  # header names asked for come from code; cap in case they come from data


def _key(name: str) -> bytes:
    key = _KEYS.get(name)
    if key is None:
        key = name.lower().encode("latin-1")
        if len(_KEYS) < _KEYS_MAX:
            _KEYS[name] = key
    return key


class Address(NamedTuple):
    """A peer address from ``scope["client"]``/``scope["server"]``; ``port`` is None for sockets
    without one (Unix domain sockets)."""

    host: str
    port: int | None


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view over ASGI raw headers.

    ``headers[name]``/``get`` return the first value; :meth:`getlist` returns every value in
    order; iteration yields each distinct (lowercase) name once; :meth:`multi_items` gives all
    pairs. The name lookup table is built on the first lookup, not at construction.
    """

    __slots__ = ("_list", "_lookup")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: Iterable[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        self._lookup: dict[bytes, bytes] | None = None
        if raw is not None:
            self._list: RawHeaders = raw if isinstance(raw, list) else list(raw)
        elif scope is not None:
            self._list = _scope_headers(scope)
        elif headers is not None:
            self._list = [encode_header(k, v) for k, v in headers.items()]
        else:
            self._list = []

    @property
    def raw(self) -> RawHeaders:
        """The underlying ``list[tuple[bytes, bytes]]`` (lowercase names, order preserved)."""
        return self._list

    def _first(self, name: bytes) -> bytes | None:
        lookup = self._lookup
        if lookup is None:
            # reversed(): the first occurrence is inserted last and therefore wins.
            lookup = self._lookup = dict(reversed(self._list))
        return lookup.get(name)

    def __getitem__(self, key: str) -> str:
        value = self._first(_key(key))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def get(self, key: str, default: Any = None) -> Any:
        """The first value of header ``key`` (case-insensitive), or ``default``."""
        value = self._first(_key(key))
        return default if value is None else value.decode("latin-1")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._first(_key(key)) is not None

    def __iter__(self) -> Iterator[str]:
        names = dict.fromkeys(name for name, _ in self._list)
        return (name.decode("latin-1") for name in names)

    def __len__(self) -> int:
        return len({name for name, _ in self._list})

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in the order received."""
        name = _key(key)
        return [v.decode("latin-1") for k, v in self._list if k == name]

    def multi_items(self) -> list[tuple[str, str]]:
        """All ``(name, value)`` pairs, repeated names included."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._list]

    def mutablecopy(self) -> MutableHeaders:
        """A :class:`MutableHeaders` over a copy of the raw list."""
        return MutableHeaders(raw=list(self._list))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


def _scope_headers(scope: Scope) -> RawHeaders:
    headers = scope["headers"]
    if isinstance(headers, list):
        return headers
    # ASGI allows any iterable of pairs; materialise it once.
    return [(bytes(k), bytes(v)) for k, v in headers]


class MutableHeaders(Headers, MutableMapping[str, str]):
    """Headers that edit the raw list in place (a response's ``raw_headers``, a scope's headers).

    Lookups scan the list every time instead of caching, because the same list may also be
    edited directly (``Response.set_cookie`` appends to ``raw_headers``).
    """

    __slots__ = ()

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: RawHeaders | None = None,
        scope: Scope | None = None,
    ) -> None:
        super().__init__(headers, raw, scope)
        if scope is not None and raw is None:
            # Edits must land in the scope, not in a converted copy of it.
            scope["headers"] = self._list

    def _first(self, name: bytes) -> bytes | None:
        for k, v in self._list:
            if k == name:
                return v
        return None

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to a single value: replaces the first occurrence, drops the others."""
        name, encoded = encode_header(key, value)
        found = False
        kept: RawHeaders = []
        for pair in self._list:
            if pair[0] != name:
                kept.append(pair)
            elif not found:
                kept.append((name, encoded))
                found = True
        if not found:
            kept.append((name, encoded))
        self._list[:] = kept

    def __delitem__(self, key: str) -> None:
        name = _key(key)
        kept = [pair for pair in self._list if pair[0] != name]
        if len(kept) == len(self._list):
            raise KeyError(key)
        self._list[:] = kept

    def append(self, key: str, value: str) -> None:
        """Add a header without touching existing ones with the same name."""
        self._list.append(encode_header(key, value))

    def add_vary_header(self, vary: str) -> None:
        """Merge ``vary`` into the ``Vary`` header (used by CORS/compression middleware)."""
        existing = self.get("vary")
        if existing is None:
            self["vary"] = vary
            return
        present = {item.strip().lower() for item in existing.split(",")}
        extra = [item.strip() for item in vary.split(",") if item.strip().lower() not in present]
        if extra:
            self["vary"] = ", ".join([existing, *extra])


def parse_query_string(query: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(query, keep_blank_values=True)``, several times faster.

    Same results (split on ``&``, empty pieces skipped, ``+`` is a space, percent-escapes
    decoded as UTF-8 with replacement); the unquoting is skipped for the common pieces that
    have nothing to decode.
    """
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            name = unquote(name.replace("+", " "))
            value = unquote(value.replace("+", " "))
        pairs.append((name, value))
    return pairs


class QueryParams(Mapping[str, str]):
    """The query string, parsed on first use; repeated keys kept.

    ``params[key]``/``get`` return the **last** value for a repeated key (Starlette/FastAPI
    behaviour); :meth:`getlist` returns all values in order. Blank values are kept (``?a=`` gives
    ``{"a": ""}``). Accepts raw ``scope["query_string"]`` bytes, a string, a mapping or pairs.
    """

    __slots__ = ("_dict", "_list", "_raw")

    def __init__(
        self,
        query: bytes | str | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        self._dict: dict[str, str] | None = None
        self._list: list[tuple[str, str]] | None = None
        self._raw = ""
        if isinstance(query, bytes):
            # Query strings are percent-encoded ASCII; tolerate raw UTF-8 from lax clients.
            self._raw = query.decode("utf-8", "replace")
        elif isinstance(query, str):
            self._raw = query
        elif isinstance(query, Mapping):
            self._list = [(str(k), str(v)) for k, v in query.items()]
        elif query is not None:
            self._list = [(str(k), str(v)) for k, v in query]

    def multi_items(self) -> list[tuple[str, str]]:
        """All ``(key, value)`` pairs in order, repeated keys included."""
        items = self._list
        if items is None:
            items = self._list = parse_query_string(self._raw)
        return items

    def _mapping(self) -> dict[str, str]:
        mapping = self._dict
        if mapping is None:
            mapping = self._dict = dict(self.multi_items())
        return mapping

    def __getitem__(self, key: str) -> str:
        return self._mapping()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The last value for ``key``, or ``default``."""
        return self._mapping().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._mapping()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def getlist(self, key: str) -> list[str]:
        """Every value for ``key``, in order (empty list when absent)."""
        return [v for k, v in self.multi_items() if k == key]

    def __str__(self) -> str:
        return urlencode(self.multi_items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryParams):
            return NotImplemented
        return sorted(self.multi_items()) == sorted(other.multi_items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A Host header we are willing to echo into URLs: reg-name/IPv4 or [IPv6], optional port.
_HOST_RE = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{1,5})?")


def _netloc_from_scope(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"host":
            host_header: str = value.decode("latin-1")
            if _HOST_RE.fullmatch(host_header):
                return host_header
            break  # a malformed Host header falls back to the server address
    server = scope.get("server")
    if server is None:
        return None
    host: str = server[0]
    port = server[1]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scope.get("scheme", "http")):
        return host
    return f"{host}:{port}"


class URL:
    """An absolute or relative URL; from a string, from an ASGI scope, or from components.

    ``URL(scope=scope)`` uses the ``Host`` header (if well-formed), else ``scope["server"]``.
    The path is ``scope["path"]`` as the server decoded it (it includes ``root_path``), like
    Starlette, with ``?``, ``#`` and ``\\`` escaped so they cannot change the URL's structure.
    """

    __slots__ = ("_components", "_url")

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        self._components: SplitResult | None = None
        if scope is not None:
            if url or components:
                raise ValueError('URL(): give either "url", "scope" or components, not several')
            url = _url_from_scope(scope)
        elif components:
            if url:
                raise ValueError('URL(): give either "url" or components, not both')
            url = str(URL("").replace(**components))
        self._url: str = url

    @property
    def components(self) -> SplitResult:
        """The :func:`urllib.parse.urlsplit` result (computed on first access)."""
        components = self._components
        if components is None:
            components = self._components = urlsplit(self._url)
        return components

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """A new URL with some components replaced.

        Accepts ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``, and the netloc parts
        ``username``, ``password``, ``hostname``, ``port`` (``port=None`` removes the port).
        """
        if {"username", "password", "hostname", "port"} & kwargs.keys():
            kwargs["netloc"] = self._build_netloc(
                kwargs.pop("username", self.username),
                kwargs.pop("password", self.password),
                kwargs.pop("hostname", None),
                kwargs.pop("port", self.port),
            )
        return URL(self.components._replace(**kwargs).geturl())

    def _build_netloc(
        self, username: str | None, password: str | None, hostname: str | None, port: int | None
    ) -> str:
        if hostname is None:
            # Keep the current host exactly as written (IPv6 brackets included).
            hostname = self.netloc.rpartition("@")[2]
            if hostname.startswith("["):
                hostname = hostname[: hostname.index("]") + 1]
            else:
                hostname = hostname.partition(":")[0]
        elif ":" in hostname and not hostname.startswith("["):
            hostname = f"[{hostname}]"
        netloc = hostname if port is None else f"{hostname}:{port}"
        if username is not None:
            userinfo = username if password is None else f"{username}:{password}"
            netloc = f"{userinfo}@{netloc}"
        return netloc

    def include_query_params(self, **params: Any) -> URL:
        """A new URL with ``params`` set (replacing existing values of those keys)."""
        items = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in params]
        items.extend((k, str(v)) for k, v in params.items())
        return self.replace(query=urlencode(items))

    def remove_query_params(self, keys: str | Iterable[str]) -> URL:
        """A new URL without the given query keys."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        items = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in drop]
        return self.replace(query=urlencode(items))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL | str):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = self._url
        if self.password:
            url = self.replace(password="********")._url
        return f"URL({url!r})"


def _url_from_scope(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = scope.get("query_string", b"").decode("latin-1")
    netloc = _netloc_from_scope(scope)
    if netloc is None:
        if path.startswith("//"):
            path = "/%2F" + path[2:]  # "//x" alone would read as an authority
        return f"{path}?{query}" if query else path
    return SplitResult(scheme, netloc, path, query, "").geturl()


class State:
    """An attribute bag: ``app.state.db = ...``, ``request.state.user = ...``.

    Wraps a plain ``dict`` (the lifespan ``state`` the server shallow-copies into each request's
    scope), so attributes set through it are visible to everything sharing that dict.
    :meth:`copy` gives the per-request shallow copy.
    """

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        if key == "_state":  # slot not set yet (copy/pickle): don't recurse
            raise AttributeError(key)
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {key!r}") from None

    def __delattr__(self, key: str) -> None:
        try:
            del self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {key!r}") from None

    def __contains__(self, key: str) -> bool:
        return key in self._state

    def copy(self) -> State:
        """A shallow copy: new attributes do not leak back, shared objects stay shared."""
        return State(dict(self._state))

    def __reduce__(self) -> tuple[type[State], tuple[dict[str, Any]]]:
        # copy/deepcopy/pickle rebuild through __init__, never through __setattr__.
        return State, (dict(self._state),)

    def __repr__(self) -> str:
        return f"State({self._state!r})"
