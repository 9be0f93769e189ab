"""The micro benchmark's form app in Quart's idiom: ``await request.form`` (werkzeug's parser,
MAX_FORM_PARTS 1000) and conversion.

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 422.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, request

app = Quart("velocix_micro_form")


@app.post("/form")
async def form() -> tuple[dict[str, Any], int]:
    data = await request.form
    try:
        name, age = data["name"], int(data["age"])
    except (KeyError, ValueError):
        return {"detail": "Invalid form"}, 422
    return {"name": name, "age": age, "tags": data.getlist("tags")}, 200
