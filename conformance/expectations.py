"""Known deviations of third-party frameworks and servers, and the gate built on them.

``conformance/expectations.toml`` lists every deviation the suite knows about, each with a
reason and, where one exists, a link or issue number. The gate fails on an *unexpected
failure* (a failure no entry explains) and on an *unexpected pass* (an entry that is no
longer true), so the file stays accurate. Velocix may not appear in it: its failures are bugs
to fix, not deviations to record (entries for ``*`` frameworks blame the server).
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

PATH = Path(__file__).with_name("expectations.toml")
OWN_FRAMEWORKS = frozenset({"velocix"})
Verdict = Literal["ok", "expected-fail", "unexpected-fail", "unexpected-pass", "not-exercised"]


class ExpectationsError(ValueError):
    """The expectations file is malformed."""


@dataclass(frozen=True)
class Deviation:
    """One known deviation: case id pattern, framework and server patterns, why."""

    case: str
    framework: str
    server: str
    outcome: str
    reason: str
    link: str = ""

    def matches(self, case: str, framework: str, server: str) -> bool:
        """Whether this entry covers the (case, framework, server) triple."""
        return (
            fnmatch.fnmatchcase(case, self.case)
            and fnmatch.fnmatchcase(framework, self.framework)
            and fnmatch.fnmatchcase(server, self.server)
        )

    @property
    def specificity(self) -> int:
        """Exact patterns win over wildcards."""
        return sum(
            not any(ch in p for ch in "*?[") for p in (self.case, self.framework, self.server)
        )

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {
            "case": self.case,
            "framework": self.framework,
            "server": self.server,
            "outcome": self.outcome,
            "reason": self.reason,
            "link": self.link,
        }


def load(path: Path = PATH) -> list[Deviation]:
    """Parse and check the expectations file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExpectationsError(f"cannot read {path}: {exc}") from exc
    return [_entry(raw, index) for index, raw in enumerate(data.get("deviation", []))]


def _entry(raw: dict[str, Any], index: int) -> Deviation:
    missing = {"case", "framework", "server", "reason"} - raw.keys()
    if missing:
        raise ExpectationsError(f"deviation #{index + 1}: missing {sorted(missing)}")
    outcome = raw.get("outcome", "fail")
    if outcome != "fail":
        raise ExpectationsError(f"deviation #{index + 1}: outcome must be 'fail'")
    if raw["framework"] in OWN_FRAMEWORKS:
        raise ExpectationsError(
            f"deviation #{index + 1}: {raw['framework']} failures are bugs to fix, not "
            "deviations to record"
        )
    if not str(raw["reason"]).strip():
        raise ExpectationsError(f"deviation #{index + 1}: empty reason")
    return Deviation(
        str(raw["case"]),
        str(raw["framework"]),
        str(raw["server"]),
        outcome,
        str(raw["reason"]).strip(),
        str(raw.get("link", "")),
    )


def lookup(deviations: list[Deviation], case: str, framework: str, server: str) -> Deviation | None:
    """The most specific entry covering the triple, if any."""
    found = [d for d in deviations if d.matches(case, framework, server)]
    return max(found, key=lambda d: d.specificity) if found else None


def judge(kind: str, deviation: Deviation | None) -> Verdict:
    """Compare an outcome with what the expectations say."""
    if deviation is None:
        return "unexpected-fail" if kind == "fail" else "ok"
    if kind == "fail":
        return "expected-fail"
    if kind == "pass":
        return "unexpected-pass"
    return "not-exercised"


def evaluate(cells: list[dict[str, Any]], deviations: list[Deviation]) -> dict[str, Any]:
    """Judge every stored result against the expectations (adds ``verdict``/``deviation``).

    Returns the gate: counts per verdict, the unexpected results and the entries that no
    exercised result confirmed (stale candidates, reported but not failing the gate unless
    their cell ran and passed).
    """
    unexpected: list[dict[str, Any]] = []
    used: set[int] = set()
    counts: dict[str, int] = {}
    for cell in cells:
        for result in cell["results"]:
            deviation = lookup(deviations, result["id"], cell["framework"], cell["server"])
            verdict = judge(result["kind"], deviation)
            result["verdict"] = verdict
            result["deviation"] = deviation.to_dict() if deviation else None
            counts[verdict] = counts.get(verdict, 0) + 1
            if deviation is not None and verdict == "expected-fail":
                used.add(deviations.index(deviation))
            if verdict in ("unexpected-fail", "unexpected-pass"):
                unexpected.append(
                    {
                        "framework": cell["framework"],
                        "server": cell["server"],
                        "id": result["id"],
                        "kind": result["kind"],
                        "verdict": verdict,
                        "detail": result["detail"],
                    }
                )
    unused = [d.to_dict() for i, d in enumerate(deviations) if i not in used]
    return {
        "passed": not unexpected,
        "counts": counts,
        "unexpected": unexpected,
        "unconfirmed_deviations": unused,
    }
