"""builtin:basic: every reference solution passes all of its tests.

Through the sandboxed engine (rltf.execution.ExecutionPool, mode "train": every test runs): all
problems in a slow test, one problem per template and split in a fast one. An in-process checker
with a stricter contract (stdout compared byte for byte, JSON types compared exactly) runs on all
problems in well under a second.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from collections.abc import Iterator

import pytest

from rltf.execution import ExecutionPool
from rltf.records import AssertTests, CallTests, Problem, StdioTests
from rltf.tasks.builtin import load_builtin


def _run_in_process(p: Problem, program: str) -> list[str]:
    """Failures of ``program`` on ``p``'s tests (empty when all pass)."""
    failures = []
    t = p.tests
    if isinstance(t, StdioTests):
        for i, case in enumerate(t.cases):
            out = io.StringIO()
            old_stdin = sys.stdin
            sys.stdin = io.StringIO(case.input)
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(program, p.id, "exec"), {"__name__": "__main__"})
            finally:
                sys.stdin = old_stdin
            if out.getvalue() != case.output:
                failures.append(f"case {i}: {out.getvalue()!r} != {case.output!r}")
        return failures
    env: dict[str, object] = {"__name__": "__main__"}
    exec(compile(program, p.id, "exec"), env)
    if isinstance(t, CallTests):
        fn = env[t.fn_name]
        for i, c in enumerate(t.cases):
            got = json.loads(json.dumps(fn(*copy.deepcopy(list(c.args)))))  # type: ignore[operator]
            if got != c.expected or type(got) is not type(c.expected):
                failures.append(f"case {i}: {got!r} != {c.expected!r}")
        return failures
    assert isinstance(t, AssertTests)
    for a in t.asserts:
        try:
            exec(a, env)
        except AssertionError:
            failures.append(a)
    return failures


@pytest.fixture(scope="module")
def pool() -> Iterator[ExecutionPool]:
    # One pool for the module: starting and closing a pool costs seconds.
    with ExecutionPool(workers=2) as p:
        yield p


def _engine_failures(pool: ExecutionPool, problems: list[Problem]) -> dict[str, str]:
    verdicts = pool.run_batch([(p, p.solutions[0]) for p in problems], mode="train")
    return {
        p.id: f"{v.outcome} {v.passed}/{v.total} {v.error}"
        for p, v in zip(problems, verdicts, strict=True)
        if v.outcome != "passed" or v.passed != v.total
    }


def test_reference_solutions_pass_through_the_engine_one_per_template(pool: ExecutionPool) -> None:
    first: dict[tuple[str, str], Problem] = {}
    for p in load_builtin("basic", "all"):
        first.setdefault((str(p.meta["template"]), str(p.meta["split"])), p)
    sample = list(first.values())
    assert {p.tests.type for p in sample} == {"call", "stdio", "assert"}
    assert not _engine_failures(pool, sample)


@pytest.mark.slow
def test_every_reference_solution_passes_through_the_engine(pool: ExecutionPool) -> None:
    bad = _engine_failures(pool, load_builtin("basic", "all"))
    assert not bad, dict(list(bad.items())[:5])


def test_engine_rejects_a_wrong_solution_of_each_kind(pool: ExecutionPool) -> None:
    problems = load_builtin("basic", "train")
    picked = [
        next(p for p in problems if p.tests.type == kind and p.difficulty == "easy")
        for kind in ("call", "stdio", "assert")
    ]
    wrong = [p.solutions[0].replace("return ", "return 1 + ", 1) for p in picked]
    verdicts = pool.run_batch(list(zip(picked, wrong, strict=True)), mode="train")
    assert [v.outcome for v in verdicts] == ["failed"] * 3, verdicts
    assert all(v.passed == 0 and v.total >= 5 for v in verdicts)


def test_every_reference_solution_passes_in_process() -> None:
    problems = load_builtin("basic", "all")
    bad = {p.id: f for p in problems if (f := _run_in_process(p, p.solutions[0]))}
    assert not bad, dict(list(bad.items())[:5])


def test_the_checker_can_fail() -> None:
    p = next(p for p in load_builtin("basic", "train") if isinstance(p.tests, CallTests))
    wrong = p.solutions[0].replace("return ", "return 0 and ", 1)
    assert _run_in_process(p, wrong)
