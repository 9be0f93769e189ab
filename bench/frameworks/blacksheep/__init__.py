"""BlackSheep: BlackSheep router and binders, pydantic bodies (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="blacksheep",
    display="BlackSheep",
    summary="BlackSheep router and binders, pydantic bodies",
    packages=("blacksheep", "pydantic"),
    middleware=Middleware(
        cors="BlackSheep's app.use_cors",
        gzip="BlackSheep's GzipMiddleware(min_size=500)",
        request_id="a BlackSheep middleware function",
    ),
    colour="#56B4E9",
    order=50,
)
