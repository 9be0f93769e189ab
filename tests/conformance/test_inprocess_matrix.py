"""Every case against the in-process column: the verdict must agree with the expectations.

This is the parametrized runner of the case table for the cells that need no server
(the wire columns run in tests/conformance/test_runner.py and in ``nox -s conformance``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import frameworks as field
from conformance import expectations
from conformance.cases import all_cases
from conformance.cases.model import Case, Context
from conformance.targets import InProcessTarget

# Django serves FileResponse and static files under ASGI by reading the file in a thread and
# says so with a Warning on every such response; the suite turns warnings into errors, which
# would raise inside Django's response sending instead of checking what it sends.
pytestmark = pytest.mark.filterwarnings(
    "ignore:StreamingHttpResponse must consume synchronous iterators:Warning"
)


@pytest.fixture(scope="module", params=field.names())
def cell(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Context]:
    framework: str = request.param
    module = field.load_conformance(framework)
    target = InProcessTarget(module.app)
    target.start()
    ctx = Context(
        framework,
        "inprocess",
        field.conformance_features(framework),
        target,
        Path(tmp_path_factory.mktemp(framework)),
        f"{module.__name__}:app",
    )
    yield ctx
    ctx.close()
    target.close()


# Falcon 4.4.0's static route leaves its file open when the client leaves mid-response (G01's
# early disconnects); the file is closed by the garbage collector, and the warning it raises
# then is not a conformance verdict.
@pytest.mark.filterwarnings("ignore:Exception ignored in. <_io.FileIO name='/tmp/conformance")
# Django 5.2.19 leaves the SpooledTemporaryFile of an upload unclosed when the client leaves
# mid-body (G01/G06); the garbage collector closes it.
@pytest.mark.filterwarnings("ignore:Exception ignored in. <function SpooledTemporaryFile.__del__")
@pytest.mark.parametrize("case", all_cases(), ids=[case.id for case in all_cases()])
def test_case_in_process(cell: Context, case: Case) -> None:
    outcome = case.applicability(cell) or case.run(cell)
    if case.where == "wire":
        assert outcome.kind == "not_applicable"
        return
    deviation = expectations.lookup(expectations.load(), case.id, cell.framework, "inprocess")
    verdict = expectations.judge(outcome.kind, deviation)
    assert verdict not in ("unexpected-fail", "unexpected-pass"), outcome.detail
