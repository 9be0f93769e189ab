"""The API documentation page: self-contained HTML that renders the OpenAPI document.

The default page needs nothing from the network: a small script fetches the document and lists
every operation with its parameters, request body, responses and the schemas they reference.
All text from the document is inserted with ``textContent`` (never as HTML), so descriptions
cannot inject markup. ``swagger_ui_page`` is the alternative for teams that want Swagger UI; its
assets come from a CDN whose URLs are parameters (point them at a self-hosted copy offline).
"""

from __future__ import annotations

import html

import orjson

__all__ = ["docs_page", "swagger_ui_page"]

SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;
color:#1b1f24}
h1{margin-bottom:.2rem}.op{border:1px solid #d0d7de;border-radius:6px;margin:.6rem 0}
.op>summary{cursor:pointer;padding:.5rem .7rem;display:flex;gap:.7rem;align-items:baseline}
.m{font-weight:700;text-transform:uppercase;min-width:4.5rem}.get{color:#0969da}
.post{color:#1a7f37}.put,.patch{color:#9a6700}.delete{color:#cf222e}
.p{font-family:ui-monospace,monospace}.body{padding:.2rem 1rem .8rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eaeef2;
text-align:left;padding:.25rem .4rem;vertical-align:top}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
.muted{color:#57606a}
"""

# Renders the document with DOM APIs only (textContent), so no text is parsed as HTML.
_SCRIPT = r"""
const el = (tag, cls, text) => { const n = document.createElement(tag);
  if (cls) n.className = cls; if (text !== undefined) n.textContent = String(text); return n; };
const json = (v) => el("pre", null, JSON.stringify(v, null, 2));
function resolve(doc, schema, depth = 0) {
  if (!schema || depth > 8) return schema;
  if (schema.$ref) { const name = schema.$ref.split("/").pop();
    return resolve(doc, (doc.components.schemas || {})[name], depth + 1); }
  return schema;
}
function section(title, node) { const d = el("div"); d.append(el("h4", null, title), node);
  return d; }
function params(list) {
  const t = el("table"); const h = el("tr");
  ["Name", "In", "Required", "Schema", "Description"].forEach(x => h.append(el("th", null, x)));
  t.append(h);
  for (const p of list) { const r = el("tr");
    r.append(el("td", "p", p.name), el("td", null, p.in), el("td", null, p.required ? "yes" : "no"),
      el("td", "p", JSON.stringify(p.schema || {})), el("td", null, p.description || ""));
    t.append(r); }
  return t;
}
function operation(doc, path, method, op) {
  const d = el("details", "op"); const s = el("summary");
  s.append(el("span", "m " + method, method), el("span", "p", path),
    el("span", "muted", op.summary || ""));
  const b = el("div", "body"); d.append(s, b);
  if (op.description) b.append(el("p", null, op.description));
  if (op.security) b.append(el("p", "muted", "Security: " +
    op.security.map(x => Object.keys(x).join("+")).join(" or ")));
  if (op.parameters) b.append(section("Parameters", params(op.parameters)));
  if (op.requestBody) for (const [type, media] of Object.entries(op.requestBody.content || {}))
    b.append(section("Request body (" + type + ")", json(resolve(doc, media.schema))));
  for (const [code, r] of Object.entries(op.responses || {})) {
    const box = el("div"); box.append(el("strong", null, code + " " + (r.description || "")));
    for (const [type, media] of Object.entries(r.content || {}))
      box.append(el("div", "muted", type), json(resolve(doc, media.schema || {})));
    b.append(box); }
  return d;
}
fetch(document.body.dataset.spec).then(r => r.json()).then(doc => {
  const root = document.getElementById("api");
  root.append(el("h1", null, doc.info.title), el("p", "muted", "Version " + doc.info.version));
  if (doc.info.description) root.append(el("p", null, doc.info.description));
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const [method, op] of Object.entries(item)) root.append(operation(doc, path, method, op));
  root.dataset.ready = "true";
}).catch(err => { document.getElementById("api").append(el("p", null, "Cannot load: " + err)); });
"""


def docs_page(openapi_url: str, title: str) -> str:
    """The built-in documentation page for the document served at ``openapi_url``."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body data-spec="{html.escape(openapi_url, quote=True)}"><main id="api"></main>'
        f"<script>{_SCRIPT}</script></body></html>"
    )


def swagger_ui_page(
    openapi_url: str, title: str, *, js_url: str = SWAGGER_JS, css_url: str = SWAGGER_CSS
) -> str:
    """A Swagger UI page; its JavaScript and CSS are loaded from ``js_url``/``css_url``."""
    # orjson output is valid JS; "</" is escaped so the URL cannot close the script element.
    url_literal = orjson.dumps(openapi_url).decode().replace("</", "<\\/")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{html.escape(css_url, quote=True)}"></head>'
        '<body><div id="swagger-ui"></div>'
        f'<script src="{html.escape(js_url, quote=True)}"></script>'
        f"<script>SwaggerUIBundle({{url: {url_literal}, dom_id: '#swagger-ui'}});</script>"
        "</body></html>"
    )
