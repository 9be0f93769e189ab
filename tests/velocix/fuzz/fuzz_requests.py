"""Hypothesis strategies for hostile-but-deliverable HTTP requests, as raw ASGI values.

"Deliverable" means a real server could hand it to the app: header values never contain CR,
LF or NUL (servers reject those), methods are upper-case tokens, ``raw_path`` holds no ``?``.
Everything else is fair game: percent-encoded and invalid UTF-8 paths, dot segments, double
slashes, very long segments, repeated and malformed query pairs, duplicate and non-ASCII
headers, broken cookies, lying or invalid Content-Length, odd content types (including the
shape of the python-multipart ReDoS, CVE-2024-24762), JSON that is truncated, mistyped,
deeply nested or full of huge numbers, multipart bodies that are malformed or truncated, and
bodies split into chunks at arbitrary points.

Large inputs are built by repetition from a drawn size, never drawn byte by byte, so a
request of 100 KB costs no more to generate than one of 10 bytes. Every strategy is built
once at import: building strategies inside a draw costs more than running the request.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

from fuzz_app import MAX_BODY_SIZE, ROUTES
from fuzz_driver import RawRequest
from hypothesis import strategies as st

Draw = Callable[[st.SearchStrategy[Any]], Any]


def _pick(*options: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def _choice(draw: Draw, count: int) -> int:
    """A number in ``[0, count)``: which branch of a generator to take."""
    return int(draw(st.integers(0, count - 1)))


METHODS = _pick("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ODD_METHODS = _pick("PROPFIND", "BREW", "TRACE", "CONNECT", "M-SEARCH", "GET2")
QUERY_KEYS = _pick(
    "q", "tags", "max", "ratio", "active", "ids", "search-term", "page", "sizes", "per-page",
    "chunks", "count", "word", "to", "reason", "verbose", "dry_run", "value", "limit",
)  # fmt: skip
HEADER_NAMES = _pick(
    b"content-type", b"content-length", b"cookie", b"x-token", b"x-count", b"x-multi",
    b"user-agent", b"origin", b"access-control-request-method",
    b"access-control-request-headers", b"accept-encoding", b"range", b"if-none-match",
    b"if-modified-since", b"x-request-id", b"host", b"transfer-encoding", b"accept",
    b"x-forwarded-for", b"authorization",
)  # fmt: skip
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SAFE_TEXT = st.text(st.sampled_from(_UNRESERVED), min_size=1, max_size=12)
# RFC 9110 token characters: what a server lets through as a field name.
TOKENS = st.text(st.sampled_from(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"),
                 min_size=1, max_size=12).map(str.encode)  # fmt: skip

odd_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
header_value_bytes = st.binary(max_size=40).map(
    lambda raw: raw.replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\x00", b" ")
)
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    _pick(
        "", "-", "+", "0x10", "1_000", "1e309", "-1e309", "NaN", "nan", "inf", "-inf",
        "Infinity", "sNaN", "1e999999999", "\u0663", "\uff11\uff12", " 1", "1 ", "1.", ".5", "--1",
        "9" * 5000, "0" * 200 + "1", "1e-400", "true", "null", "-0", "1e+9999",
    ),
    odd_text,
)  # fmt: skip
VALID_PLACEHOLDERS: dict[str, st.SearchStrategy[str]] = {
    "int": st.integers(-(2**70), 2**70).map(str),
    "float": st.floats(allow_nan=False, allow_infinity=False).map(repr),
    "uuid": st.uuids().map(str),
    "bool": _pick("true", "false", "1", "0", "yes", "no", "on", "off", "True"),
    "decimal": st.decimals(allow_nan=True).map(str),
    "str": _SAFE_TEXT,
    "path": st.lists(st.text(st.sampled_from(_UNRESERVED), max_size=8), min_size=1, max_size=5).map(
        "/".join
    ),
}
QUERY_VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    _pick("true", "false", "1", "0", "yes", "NaN", "inf", "", " ", "-1", "1e400", "x"),
    odd_text,
    st.uuids().map(str),
)
PATH_NOISE = _pick(
    b"/.", b"/..", b"/./", b"/../", b"//", b"///", b"/%2e%2e/", b"/%2E", b"/%2F", b"/%",
    b"/%G1", b"/%4", b"/%FF", b"/%C3%28", b"/%E2%82", b"/%ED%A0%80", b"/\xff", b"/%00",
    b"/%0d%0a", b"/~", b"/%5c..%5c", b"/..%2f", b"/;a=b", b"/%20", b"/",
)  # fmt: skip
LONG_UNITS = _pick(b"a", b"%41", b"%FF", b"\xc3\xa9", b"/", b"%2F")
PATH_SUFFIXES = _pick(b"/", b"//", b"/.", b"/..", b"%2F")
BAD_ESCAPES = _pick(b"%", b"%G", b"%4", b"%FF%FE", b"+%+")
HUGE_QUERY_UNITS = _pick(b"tags=a&", b"ids=1&", b"&", b"a=%FF&", b"q", b"max=1&max=")
SEPARATORS = _pick(b"&", b"&", b"&", b";", b"&&")
COOKIE_PIECES = st.one_of(
    _pick(
        b"session=abc", b"session=forbidden", b"theme=dark", b"session", b"=value",
        b'session="quoted"', b'session="unbalanced', b'session="\\777\\""', b"session=a=b=c",
        b"; ;", b"", b"session=\xff\xfe", b"$Version=1", b"session=" + b"x" * 4000, b'"',
        b'session="\\"', b"a=1;b=2", b"session=%FF", b"theme",
    ),
    header_value_bytes,
)  # fmt: skip
COOKIE_JOINERS = _pick(b"; ", b";", b",", b" ; ")
MULTIPART_TYPES = _pick(
    "multipart/form-data; boundary={b}",
    'multipart/form-data; boundary="{b}"',
    "multipart/form-data; charset=utf-8; boundary={b}",
    "Multipart/Form-Data; Boundary={b}",
    "multipart/form-data; boundary={b}; boundary=other",
    "multipart/form-data;boundary={b};",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary=""',
    "multipart/form-data; boundary=" + "b" * 300,
)
JSON_TYPE_LIST = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    'application/json; foo="bar;baz"; q',
    "application/json;;;",
    " application/json ",
    "application/jsonx",
    "application/+json",
)
OTHER_TYPE_LIST = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "text/plain",
    'text/html; charset="\\"',
    "",
    ";",
    "/",
    "application/octet-stream",
    "image/png",
)
JSON_TYPES = st.sampled_from(JSON_TYPE_LIST)
FORM_TYPES = st.sampled_from((*OTHER_TYPE_LIST[:2], ""))
ANY_TYPES = st.sampled_from(OTHER_TYPE_LIST + JSON_TYPE_LIST)
REDOS_BASES = _pick("application/x-www-form-urlencoded", "multipart/form-data", "application/json")
BAD_LENGTHS = _pick(
    b"+1", b"-0", b"-1", b"0_1", b"5, 5", b"1e3", b"abc", b"", b" 5", b"0x10", b"\xd9\xa3"
)
SPECIFIC_HEADERS: dict[bytes, st.SearchStrategy[bytes]] = {
    b"origin": _pick(b"https://example.com", b"https://evil.com", b"null", b"",
                     b"http://localhost:3000", b"https://example.com.evil.com"),
    b"access-control-request-method": _pick(b"GET", b"POST", b"PATCH", b"", b"get", b"X"),
    b"access-control-request-headers": _pick(b"x-token", b"X-Token, Content-Type", b"x-evil",
                                             b",,", b""),
    b"accept-encoding": _pick(b"gzip", b"gzip;q=0", b"*", b"gzip;q=nan", b"gzip;q=1e999",
                              b"br, gzip;q=0.5", b"identity", b"gzip;q=-1", b";q=", b"x-gzip"),
    b"range": _pick(b"bytes=0-10", b"bytes=-5", b"bytes=100-", b"bytes=5-1", b"bytes=0-0,1-1",
                    b"bytes=99999999999999999999999-", b"bytes=-0", b"bytes=a-b", b"items=0-1",
                    b"bytes=", b"bytes=0-" + b"9" * 5000, b"bytes=2047-2047",
                    b"bytes=" + b"0-1," * 2000, b"bytes=--1", b"bytes=-99999", b"bytes=0--1"),
    b"if-none-match": _pick(b"*", b'"abc"', b'W/"x"', b"", b'"' * 50, b"W/", b'"a", W/"b"'),
    b"if-modified-since": _pick(b"Wed, 21 Oct 2015 07:28:00 GMT", b"garbage",
                                b"Mon, 01 Jan 10000 00:00:00 GMT", b"", b"0",
                                b"Thu, 01 Jan 1970 00:00:00 GMT",
                                b"Fri, 31 Dec 9999 23:59:59 GMT", b"Sun, 00 Jan 0000 00:00:00 GMT"),
    b"x-request-id": _pick(b"abc-123", b"\xff" * 10, b"a" * 500, b"../../x", b"<script>", b""),
    b"x-count": _pick(b"1", b"-1", b"9" * 400, b"x", b"", b"1.5", b"\xd9\xa3"),
    b"transfer-encoding": _pick(b"chunked", b"gzip, chunked", b"identity"),
    b"host": _pick(b"example.com", b"", b"[::1]:80", b"a" * 300, b"h\xffst:99", b"[::1",
                   b"example.com:99999999999"),
}  # fmt: skip
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
DEEP_OPENERS = _pick((b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]"), (b'{"name":', b"}"))
HUGE_NUMBER_TEMPLATES = _pick(
    b'{"name":"n","price":%s}',
    b"[%s]",
    b"%s",
    b'{"name":"n","price":1,"quantity":%s}',
    b'{"a":%s}',
)
ODD_JSON = _pick(
    b"\xef\xbb\xbf{}", b'"\\ud800"', b'{"a":"\xff"}', b"NaN", b"Infinity",
    b'{"name": "n", "price": NaN}', b"[1,]", b"{'a': 1}", b"1 2", b'{"a":1}{"b":2}', b"\x00",
    b'{"name":"n","price":1e999}', b'{"name":"\\u0000","price":0}', b'{"":{"":{"":[]}}}',
    b'{"name":"n","price":-0.0,"ident":"00000000-0000-0000-0000-00000000000g"}',
)  # fmt: skip
BAD_UTF8 = _pick(b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82")
PRICES = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**30), 10**30))
FORM_FIELDS = st.lists(_pick("name", "age", "tags", "user", "note", "x"), max_size=6)
PART_NAMES = _pick("name", "age", "upload", "files", "data", "note", "tags", "user", "x", "")
DISPOSITIONS = _pick(
    b'form-data; name="%s"', b'form-data; name="%s"; filename="f.txt"',
    b"form-data; name=%s; filename*=utf-8''%%E2%%82%%AC.txt",
    b"form-data; name=%s; filename*=bogus''%%FF", b'form-data; filename="only.txt"',
    b"form-data", b'attachment; name="%s"', b'form-data; name="%s"; filename=""',
    b'form-data; name="%s"; filename="../../etc/passwd"',
)  # fmt: skip
PART_TYPES = _pick(b"text/plain", b"image/png", b"", b"\xff")
BAD_DELIMITERS = _pick(b"other", b"", b"x" * 80)
BOUNDARIES = st.text(st.sampled_from(_UNRESERVED + "'()+_,-./:=? "), min_size=1, max_size=70)
CHUNK_EXTENSIONS = _pick(b"", b";ext=1", b" ")
ROOT_PATHS = _pick("/prefix", "/a/b", "/%")
HTTP_VERSIONS = _pick("1.1", "1.1", "1.1", "1.0", "2")
BODY_KINDS = _pick("none", "none", "json", "form", "multipart", "raw")
TARGET_BODY_KINDS = _pick("none", "none", "none", "none", "json", "form", "raw")
FORM_KINDS = _pick("form", "multipart")
JSON_ROUTES = _pick(
    ("POST", b"/json"), ("PUT", b"/json/7"), ("POST", b"/json-list"), ("POST", b"/json-dict"),
    ("POST", b"/raw"), ("POST", b"/deps-body"), ("POST", b"/api/v1/things"),
    ("POST", b"/sub/json"), ("POST", b"/echo"),
)  # fmt: skip
FORM_ROUTES = _pick(("POST", b"/form"), ("POST", b"/form-struct"), ("POST", b"/form-request"),
                    ("POST", b"/echo"), ("POST", b"/multi"))  # fmt: skip
UPLOAD_ROUTES = _pick(("POST", b"/upload"), ("POST", b"/upload-many"), ("POST", b"/form"),
                      ("POST", b"/form-request"), ("POST", b"/form-struct"))  # fmt: skip


def _huge(draw: Draw, unit: bytes, low: int = 1_000, high: int = 120_000) -> bytes:
    """``unit`` repeated to a drawn size (cheap to generate, big to parse)."""
    return unit * max(1, int(draw(st.integers(low, high))) // max(1, len(unit)))


def placeholder(draw: Draw, kind: str) -> str:
    """A value for a ``{kind}`` placeholder of a route template: valid or not."""
    if _choice(draw, 4) == 0:
        return str(draw(odd_text if kind == "path" else NUMBERS))
    return str(draw(VALID_PLACEHOLDERS[kind]))


# --- paths ----------------------------------------------------------------------------------


def encode_segment(draw: Draw, segment: str) -> bytes:
    """Percent-encode ``segment``; sometimes safe characters too, sometimes raw UTF-8 bytes
    are left on the wire (what a lax client sends)."""
    style = _choice(draw, 10)
    if style >= 2 and all(char in _UNRESERVED for char in segment):
        return segment.encode()
    out = bytearray()
    for char in segment:
        encoded = char.encode("utf-8", "surrogatepass")
        if (char in _UNRESERVED and style != 0) or (style == 1 and len(encoded) > 1):
            out += encoded  # as is (style 1: raw UTF-8 on the wire)
        else:
            out += b"".join(b"%%%02X" % byte for byte in encoded)
    return bytes(out)


def raw_path(draw: Draw, template: str) -> bytes:
    """``template`` filled in (valid or not), then maybe mangled."""
    segments = []
    for part in template.split("/")[1:]:
        if part.startswith("{") and part.endswith("}"):
            segments.append(encode_segment(draw, placeholder(draw, part[1:-1])))
        else:
            segments.append(part.encode())
    path = b"/" + b"/".join(segments)
    mangle = _choice(draw, 10)
    if mangle == 0:
        position = int(draw(st.integers(0, len(path))))
        path = path[:position] + draw(PATH_NOISE) + path[position:]
    elif mangle == 1:
        path = path.replace(b"/", b"//", int(draw(st.integers(1, 3))))
    elif mangle == 2:
        path += draw(PATH_SUFFIXES)
    elif mangle == 3:
        path += b"/" + _huge(draw, draw(LONG_UNITS), 100, 40_000)
    elif mangle == 4:
        path = b"/" + encode_segment(draw, draw(odd_text))
    if not path.startswith(b"/"):
        path = b"/" + path
    return path.replace(b"?", b"%3F")


# --- query strings ----------------------------------------------------------------------------


def query_pair(draw: Draw) -> bytes:
    """One ``key=value`` pair, or a broken one."""
    key = draw(QUERY_KEYS) if _choice(draw, 4) else draw(odd_text)
    raw_key = encode_segment(draw, key)
    raw_value = encode_segment(draw, draw(QUERY_VALUES))
    shape = _choice(draw, 13)
    if shape == 0:
        return raw_key  # no "="
    if shape == 1:
        return raw_key + b"=" + raw_value + b"=" + raw_value
    if shape == 2:
        return raw_key + b"=" + draw(BAD_ESCAPES)
    if shape == 3:
        return b"=" + raw_value  # empty key
    if shape == 4:
        return raw_key + b"=" + raw_value.replace(b"%20", b"+")
    return raw_key + b"=" + raw_value


def query_string(draw: Draw) -> bytes:
    """Repeated keys, missing ``=``, bad escapes, ``;`` separators; sometimes huge."""
    shape = _choice(draw, 15)
    if shape == 0:
        return b""
    if shape == 1:
        return _huge(draw, draw(HUGE_QUERY_UNITS))
    if shape == 2:
        return bytes(draw(st.binary(max_size=60))).replace(b"#", b"")
    separator = draw(SEPARATORS)
    return bytes(separator.join(query_pair(draw) for _ in range(int(draw(st.integers(1, 8))))))


# --- headers and cookies ------------------------------------------------------------------


def cookie_header(draw: Draw) -> bytes:
    """Well-formed, malformed and hostile Cookie values."""
    pieces = [draw(COOKIE_PIECES) for _ in range(int(draw(st.integers(0, 6))))]
    return bytes(draw(COOKIE_JOINERS).join(pieces))


def redos_content_type(draw: Draw) -> str:
    """Shapes that make regex-based option parsers backtrack (CVE-2024-24762 and friends)."""
    size = int(draw(st.integers(1_000, 60_000)))
    base = str(draw(REDOS_BASES))
    shape = _choice(draw, 5)
    if shape == 0:
        return base + '; !="' + "\\" * size
    if shape == 1:
        return base + ";" + " " * size + "a"
    if shape == 2:
        return base + "; a=" + '"' * size
    if shape == 3:
        return base + "".join(f"; x{index}=y" for index in range(size // 20))
    return base + "; boundary=" + "=" * size


def content_length(draw: Draw, body: bytes) -> list[bytes]:
    """Content-Length header values: honest mostly, lying or invalid sometimes."""
    shape = _choice(draw, 12)
    real = len(body)
    if shape <= 5:
        return [str(real).encode()]
    if shape == 6:
        return []
    if shape == 7:
        return [str(max(0, real + int(draw(st.integers(-50, 50))))).encode()]
    if shape == 8:
        return [str(real).encode(), str(real + 1).encode()]
    if shape == 9:
        return [draw(BAD_LENGTHS)]
    if shape == 10:
        return [b"9" * int(draw(st.integers(19, 6000)))]
    return [str(MAX_BODY_SIZE * int(draw(st.integers(2, 1000)))).encode()]


def extra_header(draw: Draw) -> tuple[bytes, bytes]:
    """One more header: a known name with a plausible or hostile value, or noise."""
    name: bytes = draw(HEADER_NAMES)
    if name == b"cookie":
        value = cookie_header(draw)
    else:
        specific = SPECIFIC_HEADERS.get(name)
        use_noise = specific is None or _choice(draw, 4) == 0
        value = draw(header_value_bytes if use_noise else specific)
    shape = _choice(draw, 15)
    if shape == 0:
        name = name.upper()  # servers lower-case names; some proxies do not
    elif shape == 1:
        name = bytes(draw(TOKENS))
    return name, bytes(value)


# --- bodies ---------------------------------------------------------------------------------


def item_json(draw: Draw) -> Any:
    """A JSON document shaped like the ``Item`` struct, maybe with mistakes."""
    item: dict[str, Any] = {"name": draw(st.text(max_size=60)), "price": draw(PRICES)}
    optional = int(draw(st.integers(0, 63)))
    if optional & 1:
        item["quantity"] = draw(st.integers(-(2**80), 2**80))
    if optional & 2:
        item["tags"] = draw(st.lists(st.text(max_size=8), max_size=5))
    if optional & 4:
        address = {"city": draw(st.text(max_size=10)), "zip_code": draw(st.text(max_size=14))}
        item["address"] = address
    if optional & 8:
        item["attributes"] = draw(st.dictionaries(st.text(max_size=6), st.integers(), max_size=4))
    if optional & 16:
        item["ident"] = draw(st.one_of(st.uuids().map(str), st.text(max_size=40)))
    mistake = _choice(draw, 7)
    if mistake == 0:
        item[draw(st.sampled_from(sorted(item)))] = draw(JSON_VALUES)
    elif mistake == 1:
        item.pop("name", None)
    elif mistake == 2:
        item[draw(st.text(max_size=8))] = draw(JSON_VALUES)
    elif mistake == 3:
        return draw(JSON_VALUES)
    return item


def json_body(draw: Draw) -> bytes:
    """Valid JSON, then maybe truncated, corrupted, deeply nested or full of huge numbers."""
    shape = _choice(draw, 15)
    if shape == 0:
        opener, closer = draw(DEEP_OPENERS)
        depth = int(draw(st.integers(100, 200_000)))
        return bytes(opener * depth + b"1" + closer * depth * _choice(draw, 2))
    if shape == 1:
        digits = int(draw(st.integers(20, 20_000)))
        number = draw(
            _pick(b"9" * digits, b"-" + b"9" * digits, b"1e" + b"9" * min(digits, 400),
                  b"0." + b"0" * digits + b"1", b"1" + b"0" * digits + b".5")
        )  # fmt: skip
        return bytes(draw(HUGE_NUMBER_TEMPLATES) % number)
    if shape == 2:
        return bytes(draw(st.binary(max_size=80)))
    if shape == 3:
        return b""
    if shape == 4:
        return bytes(draw(ODD_JSON))
    if shape == 5:
        return _huge(draw, b'{"tags":[' + b'"x",' * 10, 1_000, 200_000)
    document = item_json(draw) if _choice(draw, 3) else draw(JSON_VALUES)
    text = json.dumps(document, ensure_ascii=bool(draw(st.booleans()))).encode(
        "utf-8", "surrogatepass"
    )
    damage = _choice(draw, 8)
    if damage == 0 and text:
        text = text[: int(draw(st.integers(0, len(text) - 1)))]  # truncated
    elif damage == 1:
        # Invalid UTF-8 (lone byte, bad continuation, encoded surrogate) inside the document,
        # most often inside a string, where a lenient scanner does not look at it.
        at = int(draw(st.integers(0, len(text))))
        quote = text.find(b'"', at)
        at = quote + 1 if quote >= 0 and _choice(draw, 4) else at
        text = text[:at] + draw(BAD_UTF8) + text[at:]
    return text


def urlencoded_body(draw: Draw) -> bytes:
    """Form fields: valid, repeated, badly escaped, too many, too large."""
    shape = _choice(draw, 10)
    if shape == 0:
        return _huge(draw, b"a=1&", 2_000, 8_000)  # over the 1000-field limit
    if shape == 1:
        return b"name=" + _huge(draw, b"x", 1_000, 100_000)
    if shape == 2:
        return bytes(draw(st.binary(max_size=60)))
    pairs = [
        encode_segment(draw, name) + b"=" + encode_segment(draw, draw(QUERY_VALUES))
        for name in draw(FORM_FIELDS)
    ]
    return b"&".join(pairs)


def multipart_part(draw: Draw, delimiter: bytes) -> bytes:
    """One part: a field or a file, with odd dispositions and header blocks sometimes."""
    disposition: bytes = draw(DISPOSITIONS)
    if b"%s" in disposition:
        disposition = disposition % str(draw(PART_NAMES)).encode()
    headers = [b"Content-Disposition: " + disposition]
    if draw(st.booleans()):
        headers.append(b"Content-Type: " + draw(PART_TYPES))
    shape = _choice(draw, 12)
    if shape == 0:
        headers = headers * 20  # many part headers
    elif shape == 1:
        headers.append(b"X-Big: " + b"h" * 10_000)
    data = bytes(draw(st.binary(max_size=40)))
    if _choice(draw, 10) == 0:
        data = _huge(draw, b"d", 10_000, 100_000)
    return b"--" + delimiter + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + data


def multipart_body(draw: Draw, boundary: str) -> bytes:
    """A multipart body for ``boundary``: well-formed or broken in one of many ways."""
    delimiter = boundary.encode("latin-1", "replace")
    if _choice(draw, 10) == 0:
        delimiter = draw(BAD_DELIMITERS)
    parts = [multipart_part(draw, delimiter) for _ in range(int(draw(st.integers(0, 5))))]
    if _choice(draw, 12) == 0:
        field = b'--%s\r\nContent-Disposition: form-data; name="f"\r\n\r\nv' % delimiter
        parts = [field] * int(draw(st.integers(1_001, 1_500)))  # over the field limit
    body = b"\r\n".join(parts) + (b"\r\n" if parts else b"") + b"--" + delimiter + b"--\r\n"
    ending = _choice(draw, 9)
    if ending == 0:
        body = body[: int(draw(st.integers(0, len(body))))]  # truncated
    elif ending == 1:
        body = body.replace(b"\r\n", b"\n")
    elif ending == 2:
        body = b"preamble\r\n" + body + b"epilogue"
    return body


def chunked(draw: Draw, body: bytes) -> tuple[bytes, ...]:
    """Split ``body`` into ``http.request`` chunks at drawn points (empty chunks included)."""
    shape = _choice(draw, 6)
    if shape == 0:
        return ()  # no body message content at all: one empty http.request
    if shape == 1 or not body:
        return (body,)
    if shape == 2 and len(body) > 4096:
        step = int(draw(st.integers(1024, 16384)))
        return tuple(body[i : i + step] for i in range(0, len(body), step))
    cuts = sorted(int(cut) for cut in draw(st.lists(st.integers(0, len(body)), max_size=8)))
    pieces, previous = [], 0
    for cut in [*cuts, len(body)]:
        pieces.append(body[previous:cut])
        previous = cut
    return tuple(pieces)


def chunked_looking(draw: Draw, body: bytes) -> bytes:
    """The body wrapped as chunked transfer coding (as if a server forgot to decode it)."""
    return b"%x" % len(body) + draw(CHUNK_EXTENSIONS) + b"\r\n" + body + b"\r\n0\r\n\r\n"


# --- whole requests ------------------------------------------------------------------------

ROUTE_CHOICES = st.sampled_from(ROUTES)
FOCUS = ("any", "target", "headers", "json", "forms")


def _body(draw: Draw, focus: str, method: str, path: bytes) -> tuple[bytes, str, str, bytes]:
    """``(body, content type, method, path)``; JSON/forms focus also moves to a body route."""
    if focus == "json":
        kind = "json"
    elif focus == "forms":
        kind = str(draw(FORM_KINDS))
    else:
        kind = str(draw(TARGET_BODY_KINDS if focus == "target" else BODY_KINDS))
    routes = {"json": JSON_ROUTES, "form": FORM_ROUTES, "multipart": UPLOAD_ROUTES}.get(kind)
    if focus in ("json", "forms") and routes is not None and _choice(draw, 6):
        method, path = draw(routes)
    elif kind != "none" and method in ("GET", "HEAD") and _choice(draw, 2):
        method = "POST"
    if kind == "json":
        return json_body(draw), str(draw(JSON_TYPES)), method, path
    if kind == "form":
        return urlencoded_body(draw), str(draw(FORM_TYPES)), method, path
    if kind == "multipart":
        boundary = str(draw(BOUNDARIES))
        content_type = str(draw(MULTIPART_TYPES)).format(b=boundary)
        return multipart_body(draw, boundary), content_type, method, path
    if kind == "raw":
        body = bytes(draw(st.binary(max_size=200))) if _choice(draw, 6) else _huge(draw, b"z")
        return body, str(draw(ANY_TYPES)), method, path
    return b"", "", method, path


@st.composite
def raw_requests(draw: Draw, focus: str = "any") -> RawRequest:
    """One whole request; ``focus`` biases what is fuzzed hardest (see :data:`FOCUS`)."""
    method, template = draw(ROUTE_CHOICES)
    if _choice(draw, 5) == 0:
        method = draw(METHODS) if _choice(draw, 10) else draw(ODD_METHODS)
    path = raw_path(draw, template)
    query = query_string(draw) if focus in ("any", "target") or _choice(draw, 3) == 0 else b""
    body, content_type, method, path = _body(draw, focus, method, path)
    headers: list[tuple[bytes, bytes]] = []
    if content_type and _choice(draw, 12) == 0:
        content_type = redos_content_type(draw)
    if content_type and _choice(draw, 12) == 0:
        body = chunked_looking(draw, body)
        headers.append((b"transfer-encoding", b"chunked"))
    if content_type or _choice(draw, 6) == 0:
        headers.append((b"content-type", content_type.encode("latin-1", "replace")))
    if body or draw(st.booleans()):
        headers += [(b"content-length", value) for value in content_length(draw, body)]
    if focus == "headers" or _choice(draw, 3) == 0:
        headers.append((b"cookie", cookie_header(draw)))
    if focus == "headers" or draw(st.booleans()):
        headers.append((b"x-token", bytes(draw(header_value_bytes))))
    headers += [extra_header(draw) for _ in range(int(draw(st.integers(0, 4))))]
    if focus == "headers":
        headers += [extra_header(draw) for _ in range(int(draw(st.integers(0, 8))))]
        if _choice(draw, 10) == 0:
            headers += [(b"x-multi", b"v")] * int(draw(st.integers(100, 3000)))
    if len(headers) > 1 and _choice(draw, 4) == 0:
        headers = list(draw(st.permutations(headers)))
    root_path = ""
    if _choice(draw, 16) == 0:
        root_path = str(draw(ROOT_PATHS))
        path = root_path.encode() + path
    return RawRequest(
        method=method,
        raw_path=path,
        query_string=query,
        headers=tuple(headers),
        body_chunks=chunked(draw, body),
        root_path=root_path,
        http_version=str(draw(HTTP_VERSIONS)),
    )
