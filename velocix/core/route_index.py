"""The route index: path -> route lookup, built at registration, one dict lookup per request.

Static paths live in one ``dict`` (path -> method -> route). Dynamic routes are grouped into
buckets by segment count and first literal segment; each bucket is ONE compiled regex, the
alternation of its routes in registration order, whose matched alternative is read back from
``match.lastindex``. The most common dynamic route - alone in its bucket, ending in one
parameter segment (``/users/{id}``) - is found by the path before its last ``/`` in one more
dict. A request costs one dict lookup, or a couple of dict lookups and one regex match, however
many routes there are. The index only holds what was registered: nothing is cached per request
path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from velocix.core.routing import CompiledPath

__all__ = ["PathEntry", "RouteIndex"]


class PathEntry:
    """All routes registered for one path template, by method (HEAD added for GET)."""

    __slots__ = ("allow", "compiled", "methods", "order")

    def __init__(self, compiled: CompiledPath, order: int) -> None:
        self.compiled = compiled
        self.order = order
        self.methods: dict[str, Any] = {}
        self.allow: frozenset[str] = frozenset()

    def add(self, method: str, route: Any) -> None:
        explicit = self.methods.get(method)
        if explicit is not None and not (method == "HEAD" and self._implicit_head()):
            raise ValueError(f"Route {method} {self.compiled.template} is already registered")
        self.methods[method] = route
        if method == "GET" and "HEAD" not in self.methods:
            self.methods["HEAD"] = route
        self.allow = frozenset(self.methods)

    def _implicit_head(self) -> bool:
        head = self.methods.get("HEAD")
        return head is not None and head is self.methods.get("GET")


class _Bucket:
    """One combined regex over several entries, in registration order.

    ``prefix`` is set for the most common bucket, one route ending in a single parameter
    segment (``/users/{user_id}``) in a bucket of known segment count: the bucket key already
    guarantees the segment count and first segment, so ``startswith`` replaces the regex.
    """

    __slots__ = ("entries", "prefix", "regex", "table")

    def __init__(self, entries: list[PathEntry], fixed_count: bool = False) -> None:
        self.entries = entries
        self.prefix: str | None = None
        if fixed_count and len(entries) == 1:
            compiled = entries[0].compiled
            head, _, last = compiled.format.rpartition("/")
            only_last_segment = compiled.param_names == (last[1:-1],) and "{" not in head
            if only_last_segment and last == f"{{{last[1:-1]}}}" and not compiled.variable:
                self.prefix = head + "/"
        parts: list[str] = []
        # table[lastindex] = (entry, group numbers of its parameters)
        self.table: list[tuple[PathEntry, tuple[int, ...]] | None] = [None]
        for entry in entries:
            outer = len(self.table)
            count = len(entry.compiled.param_names)
            self.table.append((entry, tuple(range(outer + 1, outer + 1 + count))))
            self.table.extend([None] * count)
            parts.append(f"({entry.compiled.pattern})")
        self.regex = re.compile("|".join(parts))


_Lookup = dict[str | None, _Bucket]


class RouteIndex:
    """Path -> route lookup for one kind of route (HTTP or WebSocket); see the module doc."""

    def __init__(self) -> None:
        self.static: dict[str, PathEntry] = {}
        self._entries: dict[str, PathEntry] = {}  # template -> entry, registration order
        self._dynamic: list[PathEntry] = []
        self._buckets: dict[int, _Lookup] = {}
        self._variable: _Lookup = {}
        self._prefixed: dict[str, PathEntry] = {}
        self._dirty = False

    def add(self, compiled: CompiledPath, method: str, route: Any) -> None:
        entry = self._entries.get(compiled.template)
        if entry is None:
            entry = PathEntry(compiled, len(self._entries))
            self._entries[compiled.template] = entry
            if compiled.is_static:
                self.static[compiled.template] = entry
            else:
                self._dynamic.append(entry)
                self._dirty = True
        entry.add(method, route)

    def entries(self) -> Iterator[PathEntry]:
        return iter(self._entries.values())

    def _rebuild(self) -> None:
        fixed: dict[int, list[PathEntry]] = {}
        variable: list[PathEntry] = []
        for entry in self._dynamic:
            if entry.compiled.variable:
                variable.append(entry)
            else:
                fixed.setdefault(entry.compiled.segment_count, []).append(entry)
        buckets: dict[int, _Lookup] = {}
        for count, entries in fixed.items():
            candidates = entries + [e for e in variable if e.compiled.segment_count <= count]
            buckets[count] = _bucket_lookup(sorted(candidates, key=_order), True)
        self._buckets = buckets
        self._variable = _bucket_lookup(variable, False)
        self._prefixed = {
            bucket.prefix: bucket.entries[0]
            for lookup in buckets.values()
            for bucket in lookup.values()
            if bucket.prefix is not None
        }
        self._dirty = False

    def prepare(self) -> None:
        """Compile the bucket regexes now (else done at the first lookup after a change)."""
        if self._dirty:
            self._rebuild()

    def match(self, path: str) -> tuple[PathEntry, tuple[str, ...]] | None:
        """The first dynamic entry matching ``path`` and its raw parameter values."""
        if self._dirty:
            self._rebuild()
        # The most common dynamic route, alone in its bucket and ending in one parameter
        # segment (/users/{id}): everything before the last "/" names it (see _Bucket.prefix).
        last = path.rfind("/") + 1
        entry = self._prefixed.get(path[:last])
        if entry is not None and last < len(path):
            return entry, (path[last:],)
        lookup = self._buckets.get(path.count("/"))
        if lookup is None:
            lookup = self._variable
            if not lookup:
                return None
        end = path.find("/", 1)
        bucket = lookup.get(path[1:end] if end > 0 else path[1:])
        if bucket is None:
            bucket = lookup.get(None)
            if bucket is None:
                return None
        prefix = bucket.prefix
        if prefix is not None:  # one route, /.../{param}: the key fixed everything else
            if len(path) > len(prefix) and path.startswith(prefix):
                return bucket.entries[0], (path[len(prefix) :],)
            return None
        found = bucket.regex.fullmatch(path)
        if found is None:
            return None
        slot = bucket.table[found.lastindex or 0]
        assert slot is not None
        entry, groups = slot
        if len(groups) == 1:
            return entry, (found.group(groups[0]),)
        return entry, found.group(*groups)

    def all_matches(self, path: str) -> list[tuple[PathEntry, tuple[str, ...]]]:
        """Every entry matching ``path`` in precedence order (static first), for 405/fallbacks."""
        found: list[tuple[PathEntry, tuple[str, ...]]] = []
        static = self.static.get(path)
        if static is not None:
            found.append((static, ()))
        for entry in self._dynamic:
            match = entry.compiled.regex.fullmatch(path)
            if match is not None:
                found.append((entry, match.groups()))
        return found

    def sizes(self) -> dict[str, int]:
        """Sizes of the internal structures (tests check nothing grows per request)."""
        return {
            "static": len(self.static),
            "entries": len(self._entries),
            "dynamic": len(self._dynamic),
            "buckets": sum(len(lookup) for lookup in self._buckets.values()),
            "variable": len(self._variable),
        }


def _order(entry: PathEntry) -> int:
    return entry.order


def _bucket_lookup(entries: list[PathEntry], fixed_count: bool) -> _Lookup:
    """first literal segment -> bucket of the entries that can match a path starting with it.

    ``fixed_count``: every path looked up here has the entries' segment count.
    """
    if not entries:
        return {}
    literals = {e.compiled.first_literal for e in entries} - {None}
    lookup: _Lookup = {}
    for literal in literals:
        lookup[literal] = _Bucket(
            [e for e in entries if e.compiled.first_literal in (literal, None)], fixed_count
        )
    wildcard = [e for e in entries if e.compiled.first_literal is None]
    if wildcard:
        lookup[None] = _Bucket(wildcard, fixed_count)
    return lookup
