"""Cross-check with asgion (PyPI ``asgion``, an independent in-process ASGI validator).

asgion needs Python >= 3.12; the lab runs on 3.11, so the check builds its own virtualenv
(``.nox/conformance-asgion``, with uv) and runs :mod:`conformance.crosscheck_worker` there
on the same in-process traffic and on the broken-app corpus. Each place where the two
validators disagree is reported with the reason, from the tables below: asgion's rules
mapped onto ours, and why a rule of one has no counterpart in the other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from conformance.records import ROOT

ASGION = "asgion==0.6.1"
VENV = ROOT / ".nox" / "conformance-asgion"
# Installed beside asgion so the worker can import the same framework apps (versions as in
# pyproject's groups).
APP_DEPENDENCIES = (
    "starlette==1.10.0",
    "fastapi==0.165.0",
    "pydantic==2.13.4",
    "msgspec==0.22.0",
    "orjson==3.13.0",
    "aiosqlite==0.22.1",
    "python-multipart==0.0.34",
    "psutil==7.2.2",
    "quart==0.22.0",
    "quart-cors==0.8.0",
    "sanic==25.12.1",
    "sanic-ext==25.12.0",
    "django==5.2.19",
    "django-cors-headers==4.9.0",
)
TIMEOUT = 600.0

#: asgion rule -> our rule(s) that judge the same thing.
EQUIVALENT: dict[str, tuple[str, ...]] = {
    "G-001": ("scope.type",),
    "G-002": ("scope.type",),
    "G-003": ("scope.type",),
    "G-005": ("message.not-dict",),
    "G-006": ("message.type",),
    "G-007": ("message.type",),
    "G-008": ("message.value-type",),
    "G-009": ("message.value-type",),
    "G-010": ("message.value-type",),
    "G-011": ("scope.asgi",),
    "G-012": ("scope.asgi",),
    "G-013": ("scope.spec-version",),
    "HF-001": ("http.response.missing",),
    "HF-002": ("http.body.before-start",),
    "HF-003": ("http.start.duplicate",),
    "HF-004": ("http.send.after-complete",),
    "HF-006": ("http.response.unfinished",),
    "HF-008": ("http.trailers.missing",),
    "HF-009": ("http.trailers.unexpected",),
    "HF-011": ("http.body.head",),
    "HF-012": ("http.body.forbidden-status",),
    "SEM-003": ("http.content-length.mismatch",),
    "EX-009": ("extension.not-advertised",),
    "HE-005": ("http.start.status",),
    "HE-006": ("http.start.status",),
    "HE-007": ("http.start.status",),
    "HE-008": ("headers.type",),
    "HE-009": ("headers.name-case",),
    "HE-010": ("http.headers.transfer-encoding",),
    "HE-011": ("message.value-type",),
    "HE-012": ("http.body.type",),
    "HE-013": ("http.body.type",),
    "HE-014": ("message.unknown-type",),
    "HE-015": ("headers.type",),
    "HE-018": ("headers.type",),
    "HE-020": ("http.pathsend.misuse",),
    "HE-021": ("http.pathsend.misuse",),
    "HE-022": ("headers.type",),
    "WE-007": ("headers.type",),
    "WE-008": ("ws.send.payload",),
    "WE-009": ("ws.send.payload",),
    "WE-010": ("ws.send.payload",),
    "WE-011": ("ws.close.code",),
    "WE-012": ("ws.close.reason",),
    "WE-013": ("http.start.status",),
    "WE-014": ("headers.type",),
    "WE-015": ("http.body.type",),
    "WF-002": ("ws.accept.state", "ws.accept.before-connect"),
    "WF-003": ("ws.send.before-accept",),
    "WF-004": ("ws.send.after-close",),
    "WF-006": ("ws.accept.state",),
    "WF-008": ("ws.denial.state", "ws.accept.before-connect"),
    "WF-009": ("ws.denial.state", "ws.accept.before-connect"),
    "WF-010": ("ws.send.after-close",),
    "LF-002": ("lifespan.send.state",),
    "LF-003": ("lifespan.send.state",),
    "LF-004": ("lifespan.send.state",),
    "LF-006": ("lifespan.send.state",),
    "LF-007": ("lifespan.send.state",),
    "LE-002": ("message.unknown-type",),
    "LE-003": ("lifespan.failed.message",),
    "LE-004": ("lifespan.failed.message",),
    "HS-004": ("scope.http-version",),
    "HS-007": ("scope.method",),
    "HS-025": ("scope.address",),
    "HS-026": ("scope.address",),
    "HS-024": ("scope.headers.case",),
    "WS-019": ("scope.headers.case",),
}

#: Why an asgion finding has no counterpart here.
THEIRS_ONLY: dict[str, str] = {
    "HS-008": "asgion requires 'scheme'; www.rst makes it optional (default 'http')",
    "HS-014": "asgion requires 'raw_path'; www.rst makes it optional (default None)",
    "HS-018": "asgion requires 'root_path'; www.rst makes it optional (default '')",
    "WS-009": "asgion requires 'raw_path'; www.rst makes it optional",
    "WS-013": "asgion requires 'root_path'; www.rst makes it optional",
    "G-004": "asgion flags the unknown scope type itself; here the app must raise for it "
    "(checklist 15), which the validator checks instead",
    "HF-005": "asgion forbids sending after http.disconnect; www.rst says such sends may "
    "raise or be ignored (not an application error)",
    "WF-005": "asgion forbids sending after websocket.disconnect; the spec lets the server "
    "raise or ignore it",
    "WF-007": "informational in asgion (close before accept gives 403): the spec allows it",
    "SEM-002": "a missing Content-Type is not an ASGI or RFC 9110 requirement",
    "SEM-005": "completing without reading http.disconnect is allowed",
    "SEM-009": "asgion's performance hint, not a conformance rule",
    "SEM-010": "asgion's performance hint, not a conformance rule",
    "SEM-011": "asgion's performance hint, not a conformance rule",
    "SEM-013": "a charset parameter is advice (RFC 9110 §8.3.2), not a requirement",
    "HF-010": "informational: streaming is allowed",
    "LF-010": "informational: lifespan state is available",
    "HE-007": "asgion warns on uncommon status codes; any 200-599 int is valid",
    "SEM-003": "asgion counts only http.response.body bytes against Content-Length; the "
    "bytes of a pathsend are the file's (this validator counts the file size)",
    "HF-001": "the app raised: this validator leaves a crashed app's missing response to the "
    "server (a 500); asgion reports it as never sent",
    "SEM-004": "a cookie without Secure over http:// is security advice (RFC 6265), not an "
    "ASGI or HTTP requirement",
}

#: Why a finding of this validator has no counterpart in asgion.
OURS_ONLY: dict[str, str] = {
    "scope.mutated": "asgion has no rule for in-place scope mutation (checklist 17, no tool)",
    "scope.unknown-type-accepted": "asgion does not call apps with unknown scope types",
    "ws.accept.subprotocol": "asgion does not compare the accepted subprotocol with the "
    "offered ones (checklist 12, no tool)",
    "ws.accept.protocol-header": "asgion does not forbid sec-websocket-protocol in accept "
    "headers (www.rst Accept)",
    "ws.close.code": "asgion only checks the close code's type, not the RFC 6455 §7.4 ranges",
    "ws.close.reason": "asgion only checks the reason's type, not the 123-byte limit",
    "headers.value-chars": "asgion does not look for CR/LF/NUL in header values (RFC 9110 §5.5)",
    "headers.pseudo": "asgion does not look for pseudo-headers in responses",
    "http.content-length.invalid": "asgion does not parse Content-Length values",
    "http.content-length.forbidden": "asgion does not forbid Content-Length on 1xx/204 "
    "(RFC 9110 §8.6)",
    "http.pathsend.misuse": "asgion does not check pathsend ordering (checklist 7, no tool)",
    "http.trailers.declared": "asgion does not ask for a Trailer header",
    "ws.denial.unfinished": "asgion does not require a started denial response to finish",
    "ws.accept.before-connect": "asgion's WF-002 covers accept ordering only after connect",
    "http.start.status": "asgion accepts interim (1xx) statuses in http.response.start",
    "extension.not-advertised": "asgion's EX-009 does not cover the websocket "
    "denial-response events",
    "message.unknown-type": "asgion does not flag http.response.* events on a websocket "
    "scope (Sanic answers an unknown WebSocket route with an HTTP 404 that way)",
}


def interpreter() -> str | None:
    """A Python >= 3.12 for the asgion virtualenv, if this machine has one."""
    candidates = [
        os.environ.get("CONFORMANCE_PY312", ""),
        str(Path.home() / ".pyenv/versions/3.12.1/bin/python"),
        shutil.which("python3.12") or "",
        shutil.which("python3.13") or "",
    ]
    return next((c for c in candidates if c and Path(c).exists()), None)


def ensure_venv() -> Path:
    """Create (once) the virtualenv with asgion and the apps' dependencies; its python."""
    python = VENV / "bin" / "python"
    marker = VENV / ".conformance-ready"
    wanted = " ".join((ASGION, *APP_DEPENDENCIES))
    if marker.exists() and marker.read_text() == wanted:
        return python
    base = interpreter()
    if base is None:
        raise RuntimeError("asgion needs Python >= 3.12; none found (set CONFORMANCE_PY312)")
    subprocess.run(
        ["uv", "venv", "-q", "--allow-existing", "-p", base, str(VENV)], check=True, timeout=TIMEOUT
    )
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(python), ASGION, *APP_DEPENDENCIES],
        check=True,
        timeout=TIMEOUT,
    )
    marker.write_text(wanted)
    return python


def observe(frameworks: list[str]) -> dict[str, Any]:
    """Run the worker in the asgion virtualenv and return its raw observations."""
    python = ensure_venv()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [str(python), "-m", "conformance.crosscheck_worker", *frameworks],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"asgion worker failed: {done.stderr.strip()[-500:]}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def compare(row: dict[str, Any]) -> dict[str, Any] | None:
    """The disagreement of one observation row, with its reasons (None when they agree)."""
    ours = set(row["ours"])
    theirs = {tag.split(":")[0]: tag.split(":")[1] for tag in row["theirs"]}
    judged = {rule for rule, severity in theirs.items() if severity in ("error", "warning")}
    mapped = {ours_rule for rule in judged for ours_rule in EQUIVALENT.get(rule, ())}
    only_theirs = sorted(r for r in judged if not set(EQUIVALENT.get(r, ())) & ours)
    only_ours = sorted(r for r in ours if r not in mapped)
    if not only_theirs and not only_ours:
        return None
    informational = {
        rule for rule, severity in theirs.items() if severity not in ("error", "warning")
    }
    reasons = [f"{r}: {_theirs_only_reason(r, row['where'])}" for r in only_theirs]
    reasons += [f"{r}: {_ours_only_reason(r, informational)}" for r in only_ours]
    return {
        "where": row["where"],
        "ours": only_ours,
        "theirs": only_theirs,
        "reason": " | ".join(reasons),
        "reasons": reasons,
        "explained": all("unexplained" not in reason for reason in reasons),
    }


def run(frameworks: list[str]) -> dict[str, Any]:
    """The cross-check record stored in run.json (``error`` when it could not run)."""
    try:
        data = observe(frameworks)
    except (RuntimeError, OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        return {
            "asgion_version": ASGION.split("==")[1],
            "error": str(exc),
            "summary": f"not run: {exc}",
            "disagreements": [],
        }
    rows = list(data["broken"])
    for framework_rows in data["frameworks"].values():
        rows.extend(framework_rows)
    disagreements = [d for d in map(compare, rows) if d is not None]
    missed = [
        r["where"]
        for r in data["broken"]
        if r["meant"] not in _ours_for(r["theirs"]) and r["meant"] in r["ours"]
    ]
    unexplained = sum(not d["explained"] for d in disagreements)
    summary = (
        f"{len(rows)} observations ({len(data['broken'])} broken apps, "
        f"{len(frameworks)} frameworks): {len(disagreements)} disagreements, "
        f"{unexplained} unexplained; asgion missed {len(missed)} of the broken apps' "
        "intended faults"
    )
    return {
        "asgion_version": data["asgion_version"],
        "summary": summary,
        "disagreements": disagreements,
        "asgion_missed": missed,
        "observations": len(rows),
    }


def _theirs_only_reason(rule: str, where: str) -> str:
    if rule == "SEM-003" and " HEAD " in f" {where} ":
        return (
            "asgion expects HEAD's Content-Length to match the (empty) body; RFC 9110 "
            "§8.6 lets HEAD carry the GET's length"
        )
    return THEIRS_ONLY.get(rule, "no counterpart mapped (unexplained)")


def _ours_only_reason(rule: str, informational: set[str]) -> str:
    softer = sorted(i for i in informational if rule in EQUIVALENT.get(i, ()))
    if softer:
        return f"asgion reports this at info level only ({', '.join(softer)})"
    return OURS_ONLY.get(rule, "no asgion counterpart mapped (unexplained)")


def _ours_for(theirs: list[str]) -> set[str]:
    return {rule for tag in theirs for rule in EQUIVALENT.get(tag.split(":")[0], ())}
