"""HTML forms and file uploads: ``Form()``, ``File()``, :class:`UploadFile`, :class:`FormData`.

``multipart/form-data`` bodies are parsed as they stream in by python-multipart (the optional
extra ``velocix[forms]``); ``application/x-www-form-urlencoded`` ones, small by nature and
capped by the size limits, are read whole and split exactly as the standard library's
``parse_qsl`` would, in one loop of ``str`` methods::

    @app.post("/profile")
    async def profile(name: str = Form(), avatar: UploadFile = File()) -> dict[str, Any]:
        return {"name": name, "size": avatar.size}

A handler's ``Form()``/``File()`` parameters (markers beside the others in
:mod:`velocix.core.params`) are compiled at registration (:mod:`velocix.forms.extract`): the
form is parsed once per request, then each parameter is picked by an extractor specialised for
its annotation; all their validation errors make one 422. The
uploads of a parsed form are closed by the application right after the response is sent (also
after an error response); a finalizer on the request remains as a safety net for forms parsed
outside the application's request cycle.

Every form is parsed under :class:`FormLimits`, which closes the known attack classes:

* too many fields or files (CVE-2023-30798) -> 400, for urlencoded bodies too (CVE-2026-54283);
* an oversized non-file part kept in memory (CVE-2024-47874) -> 413;
* a ``Content-Type`` crafted to make a regex backtrack (CVE-2024-24762): it is parsed by the
  linear :func:`parse_options_header`, never by a regex;
* an upload rolling over from memory to disk on the event loop (CVE-2025-54121): any write
  that may touch the disk runs in the thread pool;
* a multipart body cut off before its closing boundary -> 400, never a partial form.

Modules: :mod:`~velocix.forms.limits`, :mod:`~velocix.forms.headers`,
:mod:`~velocix.forms.datastructures`, :mod:`~velocix.forms.parsing` (urlencoded and the
entry point), :mod:`~velocix.forms.multipart`, :mod:`~velocix.forms.extract`.

Uploaded file names are kept as sent (``UploadFile.filename``): never use one as a path.
"""

from __future__ import annotations

from velocix.core.params import MULTIPART, URLENCODED, File, Form
from velocix.forms.datastructures import FormData, FormValue, UploadFile
from velocix.forms.headers import parse_options_header
from velocix.forms.limits import DEFAULT_LIMITS, MIB, FormError, FormLimits
from velocix.forms.parsing import close_form, close_forms, parse_form

__all__ = [
    "DEFAULT_LIMITS",
    "MIB",
    "MULTIPART",
    "URLENCODED",
    "File",
    "Form",
    "FormData",
    "FormError",
    "FormLimits",
    "FormValue",
    "UploadFile",
    "close_form",
    "close_forms",
    "parse_form",
    "parse_options_header",
]
