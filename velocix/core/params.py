"""Parameter markers (``Query``, ``Header``, ``Cookie``, ``Path``, ``Body``, ``Form``, ``File``,
``Depends``) and ``ParamSpec``.

A marker used as a parameter's default says where the value comes from and how it is named::

    @app.get("/items")
    async def items(
        q: str = Query(alias="search"),            # ?search=...
        tags: list[str] = Query([]),                # ?tags=a&tags=b
        x_token: str = Header(),                    # header "x-token"
        session: str | None = Cookie(None),         # cookie "session"
    ): ...

Parameters without a marker are classified by annotation (see :mod:`velocix.core.planning`).
The result of the classification is a list of :class:`ParamSpec`, exposed as ``route.params``
for OpenAPI and metrics.

Forms and file uploads (``Form``, ``File``) subclass :class:`CustomParam` and resolve their own
value from the :class:`~velocix.core.request.Request`; :meth:`CustomParam.compile` lets them split
that into a per-request load shared by several parameters (one form parse) and a cheap
per-parameter extraction. The parsing itself lives in :mod:`velocix.forms`, imported when a
route first uses one of them, so applications without forms never load it.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from velocix.core.request import Request
    from velocix.forms.limits import FormLimits

__all__ = [
    "FORMS_KEY",
    "MISSING",
    "Body",
    "CompiledParam",
    "Cookie",
    "CustomParam",
    "Depends",
    "File",
    "Form",
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


class Depends:
    """Declare a dependency: ``db: Session = Depends(get_session)``.

    ``dependency`` is any callable - function, coroutine function, (async) generator function,
    class, callable instance, bound method or ``functools.partial``. Without one, the
    parameter's annotation is called (``user: User = Depends()``).
    """

    __slots__ = ("dependency", "use_cache")

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"Depends() needs a callable, got {dependency!r}")
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        cache = "" if self.use_cache else ", use_cache=False"
        return f"Depends({name}{cache})"


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


# --- Forms and uploads -----------------------------------------------------------------------

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class Form(CustomParam):
    """A form field (urlencoded or multipart), converted to the parameter's annotation.

    ``list[T]`` collects repeated fields; a :class:`msgspec.Struct` annotation receives the
    whole form as one object. The form is parsed under ``limits``
    (:class:`velocix.forms.FormLimits`); the first marker to read a request's form fixes the
    limits for that request.
    """

    location = "form"
    __slots__ = ("_compiled", "limits", "media_type")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        limits: FormLimits | None = None,
        media_type: str = URLENCODED,
    ) -> None:
        super().__init__(
            default, alias=alias, description=description, include_in_schema=include_in_schema
        )
        self.limits = limits
        self.media_type = media_type
        self._compiled: dict[tuple[str, str, Any], CompiledParam | None] = {}

    def compile(self, spec: ParamSpec) -> CompiledParam | None:
        """Parse the form once per request (shared by markers with the same limits), then pick
        this parameter's value with an extractor specialised for its annotation."""
        from velocix.forms.extract import field_extractor, form_load

        return CompiledParam(form_load(self.limits), field_extractor(spec))

    def _compiled_for(self, spec: ParamSpec) -> CompiledParam | None:
        # resolve() is the general path's entry; the compiled form is kept per parameter.
        key = (spec.location, spec.alias, spec.annotation)
        try:
            return self._compiled[key]
        except KeyError:
            compiled = self._compiled[key] = self.compile(spec)
            return compiled
        except TypeError:  # an unhashable annotation: compile every time
            return self.compile(spec)

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        """Read ``spec.alias`` from the request's form (MISSING when absent)."""
        compiled = self._compiled_for(spec)
        assert compiled is not None  # Form always compiles
        return compiled.extract(await compiled.load(request))


class File(Form):
    """An uploaded file: annotate with :class:`velocix.forms.UploadFile`, ``bytes`` (the
    content) or a list of either for several files under one name. Makes the route's body
    ``multipart/form-data``.
    """

    location = "file"
    __slots__ = ()

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        limits: FormLimits | None = None,
    ) -> None:
        super().__init__(
            default,
            alias=alias,
            description=description,
            include_in_schema=include_in_schema,
            limits=limits,
            media_type=MULTIPART,
        )

    def compile(self, spec: ParamSpec) -> CompiledParam | None:
        """Uploads are picked synchronously; ``bytes`` (read from the upload) is not compiled."""
        from velocix.forms.extract import upload_extractor

        return upload_extractor(spec, self.limits)

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        """Return the upload(s) under ``spec.alias`` (MISSING when absent)."""
        compiled = self._compiled_for(spec)
        if compiled is not None:
            return compiled.extract(await compiled.load(request))
        from velocix.forms.extract import read_uploads

        return await read_uploads(request, spec, self.limits)
