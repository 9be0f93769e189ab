"""Build an OpenAPI 3.1 document from ``app.routes`` and msgspec JSON schemas.

Everything comes from what was registered, never from traffic: path templates (converters
stripped, ``/users/{user_id}``), typed path/query/header/cookie parameters from the handler
plans (dependencies' parameters included), JSON, form and multipart request bodies, the
success response typed from the response model or the handler's return annotation, and
security schemes found among the route's dependencies.

It tells the truth about what the framework sends: every error a route can answer is listed
with the framework's error body - 422 when the request carries validated input, 400 (malformed
body, invalid ``Content-Length``), 413 (over ``max_body_size``) and 415 (wrong media type) when
the route reads a body, 401/403 for security dependencies; the success response's media type is
the response class's (``text/plain``, ``text/html``, ``text/event-stream``...), a redirect is a
3xx with a ``Location`` header and no body, and a query parameter without a type is a string.

Type schemas come from :func:`msgspec.json.schema_components` (structs, dataclasses,
TypedDicts, enums... as ``#/components/schemas`` references); pydantic models from their own
``model_json_schema``; a type neither knows becomes ``{}`` (any value).
"""

from __future__ import annotations

import http
import inspect
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from velocix.core.params import ParamSpec
from velocix.core.response import RedirectResponse, Response
from velocix.core.routing import CONVERTER_TYPES, Route
from velocix.forms import UploadFile
from velocix.security.base import SecurityBase

__all__ = ["OPENAPI_VERSION", "generate_openapi"]

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{name}"
_PYDANTIC_REF_TEMPLATE = "#/components/schemas/{model}"
_PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")
_FILE_SCHEMA: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
_EMPTY = inspect.Signature.empty

ERROR_SCHEMAS: dict[str, Any] = {
    "ValidationErrorItem": {
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "description": "The body of every error response.",
        "required": ["detail", "status"],
        "properties": {
            "detail": {"description": "Human-readable message."},
            "status": {"type": "integer"},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationErrorItem"},
            },
        },
    },
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def _error_response(status: int) -> dict[str, Any]:
    return {"description": _phrase(status), "content": _ERROR_CONTENT}


class SchemaRegistry:
    """Turns annotations into JSON schemas, collecting named types into ``components``."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = dict(ERROR_SCHEMAS)

    def schema(self, annotation: Any) -> dict[str, Any]:
        """The schema for ``annotation`` (``{}`` for a type with no JSON schema)."""
        if annotation is Any or annotation is _EMPTY:
            return {}
        model_schema = getattr(annotation, "model_json_schema", None)
        if inspect.isclass(annotation) and callable(model_schema):
            return self._pydantic(annotation, model_schema)
        try:
            (schema,), components = msgspec.json.schema_components(
                [annotation], ref_template=REF_TEMPLATE
            )
        except (TypeError, ValueError):
            return {}
        self.components.update(components)
        return schema

    def _pydantic(self, model: Any, model_schema: Any) -> dict[str, Any]:
        # pydantic names the placeholder {model} (msgspec: {name}).
        schema: dict[str, Any] = dict(model_schema(ref_template=_PYDANTIC_REF_TEMPLATE))
        self.components.update(schema.pop("$defs", {}))
        name = str(model.__name__)
        self.components[name] = schema
        return {"$ref": REF_TEMPLATE.format(name=name)}


def _walk_dependency_calls(route: Route) -> Iterator[Any]:
    stack = list(route.plan.dependencies)
    while stack:
        dependency = stack.pop()
        yield dependency.plan.call
        stack.extend(dependency.plan.dependencies)


def route_security(route: Route) -> list[SecurityBase]:
    """The security dependencies of ``route`` (route-level ones included), in order found."""
    found: dict[int, SecurityBase] = {}
    for call in _walk_dependency_calls(route):
        if isinstance(call, SecurityBase):
            found.setdefault(id(call), call)
    return list(found.values())


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _is_file_type(annotation: Any) -> bool:
    bare = _strip_optional(annotation)
    if typing.get_origin(bare) in (list, tuple, set, frozenset):
        args = typing.get_args(bare)
        bare = args[0] if args else Any
    return bare is UploadFile or bare is bytes


class OperationBuilder:
    """Builds the Operation Object of one route and method."""

    def __init__(self, route: Route, method: str, schemas: SchemaRegistry) -> None:
        self.route = route
        self.method = method
        self.schemas = schemas

    def build(self, operation_id: str) -> dict[str, Any]:
        route = self.route
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": route.summary or _title(route.name or ""),
        }
        if route.description:
            operation["description"] = inspect.cleandoc(route.description)
        if route.tags:
            operation["tags"] = list(route.tags)
        parameters = self.parameters()
        if parameters:
            operation["parameters"] = parameters
        body = self.request_body()
        if body is not None:
            operation["requestBody"] = body
        security = route_security(route)
        if security:
            operation["security"] = [
                {scheme.scheme_name: list(getattr(scheme, "scopes", ()))} for scheme in security
            ]
        operation["responses"] = self.responses(
            bool(parameters) or body is not None, body is not None, bool(security)
        )
        return operation

    def _path_types(self) -> dict[str, ParamSpec]:
        return {spec.alias: spec for spec in self.route.params if spec.location == "path"}

    def parameters(self) -> list[dict[str, Any]]:
        route = self.route
        declared = self._path_types()
        parameters: list[dict[str, Any]] = []
        for name in route.compiled.param_names:
            spec = declared.get(name)
            converter = route.compiled.converters.get(name)
            annotation = spec.annotation if spec is not None else Any
            if annotation is Any and converter is not None:
                annotation = CONVERTER_TYPES[converter]
            parameter = {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _string_if_untyped(self.schemas.schema(_strip_optional(annotation))),
            }
            if spec is not None and spec.description:
                parameter["description"] = spec.description
            parameters.append(parameter)
        parameters.extend(
            self._parameter(spec)
            for spec in route.params
            if spec.location in _PARAMETER_LOCATIONS[1:]
        )
        return parameters

    def _parameter(self, spec: ParamSpec) -> dict[str, Any]:
        parameter: dict[str, Any] = {
            "name": spec.alias,
            "in": spec.location,
            "required": spec.required,
            "schema": _string_if_untyped(self.schemas.schema(spec.annotation)),
        }
        if not spec.required and spec.default is not None:
            default = _json_default(spec.default)
            if default is not None:
                parameter["schema"] = {**parameter["schema"], "default": default}
        if spec.description:
            parameter["description"] = spec.description
        return parameter

    def request_body(self) -> dict[str, Any] | None:
        specs = [s for s in self.route.params if s.location in ("body", "form", "file")]
        if not specs:
            return None
        if any(spec.location in ("form", "file") for spec in specs):
            return self._form_body([s for s in specs if s.location in ("form", "file")])
        body_plan = self.route.plan.body
        embed = body_plan is not None and body_plan.embed
        if len(specs) == 1 and not embed:
            schema = self.schemas.schema(specs[0].annotation)
        else:
            schema = self._object_schema(specs)
        return {
            "required": any(spec.required for spec in specs),
            "content": {"application/json": {"schema": schema}},
        }

    def _form_body(self, specs: list[ParamSpec]) -> dict[str, Any]:
        multipart = any(s.location == "file" or _is_file_type(s.annotation) for s in specs)
        media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        struct = [s for s in specs if _is_struct(s.annotation)]
        schema = (
            self.schemas.schema(struct[0].annotation)
            if len(specs) == 1 and struct
            else self._object_schema(specs)
        )
        return {
            "required": any(spec.required for spec in specs),
            "content": {media_type: {"schema": schema}},
        }

    def _object_schema(self, specs: list[ParamSpec]) -> dict[str, Any]:
        properties = {spec.alias: self._member_schema(spec) for spec in specs}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [spec.alias for spec in specs if spec.required]
        if required:
            schema["required"] = required
        return schema

    def _member_schema(self, spec: ParamSpec) -> dict[str, Any]:
        bare = _strip_optional(spec.annotation)
        if _is_file_type(bare) and (spec.location == "file" or bare is UploadFile):
            if typing.get_origin(bare) in (list, tuple, set, frozenset):
                return {"type": "array", "items": _FILE_SCHEMA}
            return dict(_FILE_SCHEMA)
        return self.schemas.schema(spec.annotation)

    def responses(self, has_input: bool, has_body: bool, secured: bool) -> dict[str, Any]:
        response_class = self._response_class()
        status = self.route.status_code
        redirect = response_class is not None and issubclass(response_class, RedirectResponse)
        if redirect and not self.route.explicit_status:
            status = 307  # RedirectResponse's own default
        success: dict[str, Any] = {"description": _phrase(status)}
        if redirect:
            success["headers"] = {
                "Location": {"description": "Where to go", "schema": {"type": "string"}}
            }
        elif status not in (204, 304) and status >= 200:
            content = self._success_content(response_class)
            if content is not None:
                success["content"] = content
        responses: dict[str, Any] = {str(status): success}
        if has_body:
            # Malformed body or Content-Length, body over max_body_size, wrong media type.
            for code in (400, 413, 415):
                responses[str(code)] = _error_response(code)
        if has_input:
            responses["422"] = _error_response(422)
        if secured:
            responses["401"] = _error_response(401)
            responses["403"] = _error_response(403)
        return responses

    def _response_class(self) -> type[Response] | None:
        """The class of the success response: the route's, or the one the handler returns."""
        if self.route.response_class is not None:
            return self.route.response_class
        annotation = _return_annotation(self.route.endpoint)
        if isinstance(annotation, type) and issubclass(annotation, Response):
            return annotation
        return None

    def _success_content(self, response_class: type[Response] | None) -> dict[str, Any] | None:
        model = self.route.response_model
        annotation = (
            model.annotation if model is not None else _return_annotation(self.route.endpoint)
        )
        if response_class is not None and not _is_json_class(response_class):
            media_type = response_class.media_type or "application/octet-stream"
            if media_type == "text/event-stream":
                return {media_type: {"schema": _SSE_EVENT}}
            if media_type.startswith("text/"):
                return {media_type: {"schema": {"type": "string"}}}
            return {media_type: {}}
        if isinstance(annotation, type) and issubclass(annotation, Response):
            return {"application/json": {}}  # a JSONResponse (or subclass) of unknown content
        if annotation is None or annotation is type(None):
            return None
        return {"application/json": {"schema": self.schemas.schema(annotation)}}


# One server-sent event, as the stream's consumers (and OpenAPI 3.2's itemSchema) see it.
_SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "One server-sent event",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def _is_json_class(response_class: type[Response]) -> bool:
    media_type = response_class.media_type or ""
    return media_type == "application/json" or media_type.endswith("+json")


def _string_if_untyped(schema: dict[str, Any]) -> dict[str, Any]:
    """A value read from the URL or a header without a type is the string sent."""
    return schema if schema else {"type": "string"}


def _is_struct(annotation: Any) -> bool:
    bare = _strip_optional(annotation)
    return inspect.isclass(bare) and issubclass(bare, msgspec.Struct)


def _return_annotation(endpoint: Any) -> Any:
    target = endpoint
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = type(target).__call__
    try:
        hints = typing.get_type_hints(target)
    except (NameError, TypeError):
        return Any
    return hints.get("return", Any)


def _json_default(value: Any) -> Any:
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return None


def _title(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _operation_methods(route: Route) -> list[str]:
    methods = set(route.methods)
    if "GET" in methods:
        methods.discard("HEAD")  # the automatic HEAD of a GET route is not an operation
    return sorted(methods)


def generate_openapi(
    app: Any,
    *,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a dict ready for JSON) for ``app``'s HTTP routes."""
    schemas = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = {}
    security_schemes: dict[str, Any] = {}
    used_ids: set[str] = set()
    for route in app.routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        template = route.compiled.format
        for method in _operation_methods(route):
            operation_id = _unique(f"{route.name}_{method.lower()}", used_ids)
            paths.setdefault(template, {})[method.lower()] = OperationBuilder(
                route, method, schemas
            ).build(operation_id)
        for scheme in route_security(route):
            security_schemes.setdefault(scheme.scheme_name, scheme.openapi)
    info: dict[str, Any] = {
        "title": title or getattr(app, "title", "Velocix"),
        "version": version or getattr(app, "version", "0.1.0"),
    }
    summary = description if description is not None else getattr(app, "description", "")
    if summary:
        info["description"] = summary
    components: dict[str, Any] = {"schemas": schemas.components}
    if security_schemes:
        components["securitySchemes"] = security_schemes
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": paths,
        "components": components,
    }
    if servers:
        document["servers"] = servers
    return document


def _unique(candidate: str, used: set[str]) -> str:
    name, suffix = candidate, 2
    while name in used:
        name = f"{candidate}_{suffix}"
        suffix += 1
    used.add(name)
    return name
