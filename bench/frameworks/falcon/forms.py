"""The micro benchmark's form app in Falcon's idiom: ``await req.get_media()`` of the
urlencoded body and manual conversion.

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 422.
No field limit: Falcon's ``URLEncodedFormHandler`` has none.
"""

from __future__ import annotations

import falcon
import falcon.asgi


class Form:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await req.get_media()
        try:
            name, age = data["name"], int(data["age"])
        except (KeyError, TypeError, ValueError):
            raise falcon.HTTPUnprocessableEntity(description="Invalid form") from None
        tags = data.get("tags", [])
        resp.media = {"name": name, "age": age, "tags": [tags] if isinstance(tags, str) else tags}


app = falcon.asgi.App()
app.add_route("/form", Form())
