"""builtin:basic: every reference solution passes all of its tests.

The execution engine (rltf.execution.ExecutionPool) is not in the tree yet, so this runs each
program in-process with the same contract: call tests compare the JSON round trip of the return
value, stdio tests compare stdout exactly, assert tests run each statement after the program.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys

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


def test_every_reference_solution_passes_in_process() -> None:
    problems = load_builtin("basic", "all")
    bad = {p.id: f for p in problems if (f := _run_in_process(p, p.solutions[0]))}
    assert not bad, dict(list(bad.items())[:5])


def test_the_checker_can_fail() -> None:
    p = next(p for p in load_builtin("basic", "train") if isinstance(p.tests, CallTests))
    wrong = p.solutions[0].replace("return ", "return 0 and ", 1)
    assert _run_in_process(p, wrong)
