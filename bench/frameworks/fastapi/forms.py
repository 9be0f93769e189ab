"""The micro benchmark's form app in FastAPI's idiom: ``Form()`` parameters typed by pydantic.

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 4xx.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Form

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/form")
async def form(name: str = Form(), age: int = Form(), tags: list[str] = Form([])) -> dict[str, Any]:
    return {"name": name, "age": age, "tags": tags}
