"""The micro benchmark's form app in Litestar's idiom: a msgspec Struct bound from the
urlencoded body (``URLEncodedBody``).

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``. No field limit: Litestar parses urlencoded bodies
with ``parse_qsl`` and no cap. A lone ``tags=a`` is refused (400): Litestar keeps a key seen
once as a ``str``, which msgspec does not convert to ``list[str]``; the case sends two tags.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, post
from litestar.params import URLEncodedBody


class FormData(msgspec.Struct):
    name: str
    age: int
    tags: list[str] = []


@post("/form", status_code=200)
async def form(data: URLEncodedBody[FormData]) -> FormData:
    return data


app = Litestar(route_handlers=[form], openapi_config=None)
