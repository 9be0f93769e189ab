"""The micro benchmark's form app in Velocix's idiom: ``Form()`` parameters typed by annotation.

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 4xx.
"""

from __future__ import annotations

from typing import Any

from velocix import Velocix
from velocix.forms import Form

app = Velocix()


@app.post("/form")
async def form(name: str = Form(), age: int = Form(), tags: list[str] = Form([])) -> dict[str, Any]:
    return {"name": name, "age": age, "tags": tags}
