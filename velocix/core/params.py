"""Parameter markers (``Query``, ``Header``, ``Cookie``, ``Path``, ``Body``) and ``ParamSpec``.

A marker used as a parameter's default says where the value comes from and how it is named::

    @app.get("/items")
    async def items(
        q: str = Query(alias="search"),            # ?search=...
        tags: list[str] = Query([]),                # ?tags=a&tags=b
        x_token: str = Header(),                    # header "x-token"
        session: str | None = Cookie(None),         # cookie "session"
    ): ...

Parameters without a marker are classified by annotation (see :mod:`velocix.core.dependencies`).
The result of the classification is a list of :class:`ParamSpec`, exposed as ``route.params``
for OpenAPI and metrics.

Extensions (forms and file uploads) subclass :class:`CustomParam` and resolve their own value
from the :class:`~velocix.core.request.Request`; :meth:`CustomParam.compile` lets them split that
into a per-request load shared by several parameters and a cheap per-parameter extraction.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from velocix.core.request import Request

__all__ = [
    "FORMS_KEY",
    "MISSING",
    "Body",
    "CompiledParam",
    "Cookie",
    "CustomParam",
    "Header",
    "Location",
    "Param",
    "ParamSpec",
    "Path",
    "Query",
]

Location = Literal["path", "query", "header", "cookie", "body", "form", "file"]


class _Missing:
    """Sentinel for "no value" (distinct from ``None``, which is a legitimate default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""No default: the parameter is required. Also what :meth:`CustomParam.resolve` returns for an
absent value."""

FORMS_KEY = "velocix.forms"
"""Scope key listing the parsed forms that hold uploads (:func:`velocix.forms.parse_form` adds
them); the application closes them once the response is sent, also after an error."""


def _normalise_default(default: Any) -> Any:
    # ``Query(...)`` means "required" in FastAPI code; accept it here too.
    return MISSING if default is Ellipsis else default


class Param:
    """Base class of the parameter markers; ``location`` says where the value is read from."""

    location: ClassVar[str] = ""
    __slots__ = ("alias", "default", "description", "include_in_schema")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.default = _normalise_default(default)
        self.alias = alias
        self.description = description
        self.include_in_schema = include_in_schema

    @property
    def required(self) -> bool:
        """True when the marker has no default."""
        return self.default is MISSING

    def __repr__(self) -> str:
        default = "" if self.default is MISSING else repr(self.default)
        alias = f", alias={self.alias!r}" if self.alias else ""
        return f"{type(self).__name__}({default}{alias})"


class Query(Param):
    """A query-string parameter; ``list[T]`` annotations collect repeated keys."""

    location = "query"
    __slots__ = ()


class Header(Param):
    """A request header. ``x_token`` reads ``x-token`` unless ``convert_underscores=False``.

    Header names are case-insensitive; ``list[T]`` collects every value of a repeated header.
    """

    location = "header"
    __slots__ = ("convert_underscores",)

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        convert_underscores: bool = True,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        super().__init__(
            default, alias=alias, description=description, include_in_schema=include_in_schema
        )
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A cookie from the ``Cookie`` request header."""

    location = "cookie"
    __slots__ = ()


class Path(Param):
    """A path parameter; only needed to add a description or an alias (always required)."""

    location = "path"
    __slots__ = ()

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        if _normalise_default(default) is not MISSING:
            raise TypeError("Path() parameters are always required and cannot have a default")
        super().__init__(
            MISSING, alias=alias, description=description, include_in_schema=include_in_schema
        )


class Body(Param):
    """A JSON body parameter.

    One body parameter receives the whole body. With ``embed=True``, or when a handler has
    several body parameters, the body is an object and each parameter is the member named
    by its alias.
    """

    location = "body"
    __slots__ = ("embed", "media_type")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        embed: bool = False,
        media_type: str = "application/json",
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        super().__init__(
            default, alias=alias, description=description, include_in_schema=include_in_schema
        )
        self.embed = embed
        self.media_type = media_type


class CustomParam(Param, abc.ABC):
    """A marker that reads its value from the request itself (forms, file uploads).

    Subclasses set ``location`` (e.g. ``"form"``) and implement :meth:`resolve`. The handler
    plan calls it once per request, then applies the default (or reports the value missing,
    422 with ``loc = [location, alias]``) when it returns :data:`MISSING`. A
    :class:`~velocix.core.exceptions.RequestValidationError` it raises is collected with the
    other parameters' errors into one 422.

    Optionally, :meth:`compile` returns a :class:`CompiledParam` for a parameter: generated
    invokers then call its ``load`` once per request for all the parameters sharing it (one
    form parse for every ``Form()``), and its synchronous ``extract`` per parameter.
    """

    location = "custom"
    __slots__ = ()

    @abc.abstractmethod
    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        """Return the value for ``spec`` read from ``request``, or :data:`MISSING`."""

    def compile(self, spec: ParamSpec) -> CompiledParam | None:
        """The load/extract split of :meth:`resolve` for ``spec`` (decided at registration), or
        ``None`` (the default) when the parameter can only be resolved as a whole."""
        return None


@dataclass(frozen=True, slots=True)
class CompiledParam:
    """:meth:`CustomParam.resolve` split in two, for generated invokers.

    ``load(request)`` reads what several parameters share (the parsed form); parameters whose
    ``load`` is the same object (``==``) share one call per request. ``extract(loaded)`` returns
    the parameter's value or :data:`MISSING`, and may raise ``RequestValidationError``.
    """

    load: Callable[[Request], Awaitable[Any]]
    extract: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a route, as classified at registration (for OpenAPI and metrics).

    ``name`` is the Python parameter name, ``alias`` the name on the wire (query key, header
    name, cookie name, path parameter or body member), ``annotation`` the declared type with
    ``Optional`` kept, ``default`` :data:`MISSING` when required.
    """

    name: str
    alias: str
    location: str
    annotation: Any
    required: bool
    default: Any = MISSING
    marker: Param | None = field(default=None, compare=False)
    description: str | None = None
