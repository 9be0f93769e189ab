"""The micro benchmark's form app in BlackSheep's idiom: ``request.form()`` and manual
conversion (its ``FromForm`` binding turns a single ``tags=ab`` into ``["a", "b"]``).

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 422.
No field limit: BlackSheep has none.
"""

from __future__ import annotations

from blacksheep import Application, Request, Response, Router, json

router = Router()


@router.post("/form")
async def form(request: Request) -> Response:
    data = await request.form() or {}
    try:
        name, age = data["name"], int(data["age"])
    except (KeyError, TypeError, ValueError):
        return json({"detail": "Invalid form"}, 422)
    tags = data.get("tags", [])
    return json({"name": name, "age": age, "tags": [tags] if isinstance(tags, str) else tags})


app = Application(router=router)
