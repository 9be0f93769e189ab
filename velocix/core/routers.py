"""Registration: the route decorators and :class:`Router`, a group of routes to include.

``get``/``post``/.../``route``/``websocket`` are defined once, over two registration methods
(:class:`~velocix.core.app.Velocix` and :class:`Router` implement them). A router records its
routes as definitions; including it into an app (or another router) copies them with prefixes
joined and dependencies, tags and ``dependency_overrides`` scopes merged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from velocix.core.dependencies import DependencyOverrides
from velocix.core.params import Depends
from velocix.core.response import Response
from velocix.core.routing import _UNSET, compile_path

__all__ = [
    "MountDefinition",
    "RouteDecorators",
    "RouteDefinition",
    "Router",
    "WebSocketDefinition",
    "expand_router",
    "join_paths",
]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Endpoint = Callable[..., Any]
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(slots=True)
class RouteDefinition:
    """A route recorded by a :class:`Router`, registered when the router is included."""

    path: str
    endpoint: Endpoint
    options: dict[str, Any]
    # The dependency_overrides of the routers it came through, outermost first.
    overrides: tuple[Mapping[Any, Any], ...] = ()


@dataclasses.dataclass(slots=True)
class WebSocketDefinition:
    path: str
    endpoint: Endpoint
    name: str | None
    dependencies: list[Depends]
    overrides: tuple[Mapping[Any, Any], ...] = ()


@dataclasses.dataclass(slots=True)
class MountDefinition:
    path: str
    app: ASGIApp
    name: str | None


class RouteDecorators:
    """``get``/``post``/.../``route``/``websocket`` decorators over two registration methods."""

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        """Register ``endpoint`` for ``path`` (options as for :meth:`route`)."""
        raise TypeError(f"{type(self).__name__} does not accept routes")

    def add_websocket_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        """Register a WebSocket ``endpoint`` for ``path``."""
        raise TypeError(f"{type(self).__name__} does not accept WebSocket routes")

    def route(
        self,
        path: str,
        *,
        methods: Sequence[str] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        response_model: Any = _UNSET,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        dependencies: Sequence[Depends] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` and ``methods`` (default ``["GET"]``).

        ``status_code`` is the status of a successful response built from the return value;
        ``response_class`` wraps the return value (e.g. ``PlainTextResponse`` for a ``str``);
        ``response_model`` validates and filters it (default: the return annotation when it
        names a model, see :mod:`velocix.core.response_model`; ``None``: never);
        ``name`` is what :meth:`url_path_for` looks up (default: the function's name);
        ``dependencies`` run before the handler, their values unused.
        """
        model_options: dict[str, Any] = {}
        if response_model is not _UNSET:
            model_options["response_model"] = response_model
        if response_model_exclude_none:
            model_options["response_model_exclude_none"] = True
        if response_model_exclude_unset:
            model_options["response_model_exclude_unset"] = True

        def decorator(endpoint: F) -> F:
            self.add_api_route(
                path,
                endpoint,
                methods=methods,
                status_code=status_code,
                response_class=response_class,
                **model_options,
                name=name,
                tags=tags,
                summary=summary,
                description=description,
                include_in_schema=include_in_schema,
                dependencies=dependencies,
            )
            return endpoint

        return decorator

    def _method(self, method: str, path: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError(f"{method.lower()}() takes no 'methods'; use route(methods=...)")
        return self.route(path, methods=[method], **options)

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a GET handler (HEAD is answered automatically)."""
        return self._method("GET", path, options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a POST handler."""
        return self._method("POST", path, options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PUT handler."""
        return self._method("PUT", path, options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PATCH handler."""
        return self._method("PATCH", path, options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a DELETE handler."""
        return self._method("DELETE", path, options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an explicit HEAD handler (replaces the automatic one of a GET route)."""
        return self._method("HEAD", path, options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an OPTIONS handler."""
        return self._method("OPTIONS", path, options)

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Sequence[Depends] | None = None
    ) -> Callable[[F], F]:
        """Register a WebSocket handler for ``path``."""

        def decorator(endpoint: F) -> F:
            self.add_websocket_route(path, endpoint, name=name, dependencies=dependencies)
            return endpoint

        return decorator


def join_paths(prefix: str, path: str) -> str:
    """``prefix + path``, checking the prefix (``/v1``: leading slash, no trailing slash)."""
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"Prefix {prefix!r} must start with '/' and not end with '/'")
    return prefix + path


class Router(RouteDecorators):
    """A group of routes with a common prefix, dependencies and tags, included into an app::

        router = Router(prefix="/v1", tags=["v1"])

        @router.get("/users/{user_id}")
        async def get_user(user_id: int): ...

        app.include_router(router, prefix="/api")   # GET /api/v1/users/{user_id}

    Routes are copied when the router is included; routes added to the router afterwards are
    not seen by that app. ``router.dependency_overrides`` stays live: a change applies to its
    routes in every app that included it.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        dependencies: Sequence[Depends] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        join_paths(prefix, "/")  # validates the prefix
        self.prefix = prefix
        self.dependencies = list(dependencies or ())
        self.tags = list(tags or ())
        self.definitions: list[RouteDefinition | WebSocketDefinition | MountDefinition] = []
        self._overrides = DependencyOverrides()

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """``{dependency: replacement}`` for this router's routes, in every app that includes
        it (the app's own ``dependency_overrides`` win); changes apply at once."""
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Mapping[Any, Any]) -> None:
        self._overrides.replace(overrides)

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        compile_path(join_paths(self.prefix, path))  # fail at the decorator, not at include
        self.definitions.append(RouteDefinition(path, endpoint, options))

    def add_websocket_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        compile_path(join_paths(self.prefix, path))
        self.definitions.append(WebSocketDefinition(path, endpoint, name, list(dependencies or ())))

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Mount an ASGI app under ``prefix + path`` when the router is included."""
        self.definitions.append(MountDefinition(path, app, name))

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        dependencies: Sequence[Depends] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Copy ``router``'s routes into this router under ``prefix``."""
        for definition in expand_router(router, prefix, dependencies, tags):
            self.definitions.append(definition)


def expand_router(
    router: Router,
    prefix: str,
    dependencies: Sequence[Depends] | None,
    tags: Sequence[str] | None,
) -> list[RouteDefinition | WebSocketDefinition | MountDefinition]:
    """``router``'s definitions with prefixes joined and dependencies/tags merged (outer first)."""
    full_prefix = join_paths(prefix, router.prefix)
    outer_deps = [*(dependencies or ()), *router.dependencies]
    outer_tags = [*(tags or ()), *router.tags]
    result: list[RouteDefinition | WebSocketDefinition | MountDefinition] = []
    for definition in router.definitions:
        if isinstance(definition, RouteDefinition):
            options = dict(definition.options)
            options["dependencies"] = [*outer_deps, *(options.get("dependencies") or ())]
            options["tags"] = [*outer_tags, *(options.get("tags") or ())]
            result.append(
                RouteDefinition(
                    join_paths(full_prefix, definition.path),
                    definition.endpoint,
                    options,
                    (router.dependency_overrides, *definition.overrides),
                )
            )
        elif isinstance(definition, WebSocketDefinition):
            result.append(
                WebSocketDefinition(
                    join_paths(full_prefix, definition.path),
                    definition.endpoint,
                    definition.name,
                    [*outer_deps, *definition.dependencies],
                    (router.dependency_overrides, *definition.overrides),
                )
            )
        else:
            result.append(
                MountDefinition(
                    join_paths(full_prefix, definition.path), definition.app, definition.name
                )
            )
    return result
