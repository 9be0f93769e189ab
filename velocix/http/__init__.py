"""HTTP data structures: headers, query parameters, URLs, addresses, state."""

from velocix.http.datastructures import (
    URL,
    Address,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
)

__all__ = ["URL", "Address", "Headers", "MutableHeaders", "QueryParams", "State"]
