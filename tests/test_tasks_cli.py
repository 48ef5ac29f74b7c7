"""`rltf datasets list | show | validate` (validate's sandbox replaced by an in-process fake)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rltf.cli import datasets as cli_datasets
from rltf.cli import main
from rltf.records import AssertTests, Problem, TestResult, Verdict

FIX = Path(__file__).parent / "fixtures" / "tasks"


class FakePool:
    """Runs trusted fixture programs in-process: assert tests only (enough for MBPP fixtures)."""

    def __enter__(self) -> FakePool:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def run_batch(
        self, jobs: Sequence[tuple[Problem, str]], mode: str = "train", progress: bool = False
    ) -> list[Verdict]:
        out = []
        for problem, program in jobs:
            tests = problem.tests
            assert isinstance(tests, AssertTests)
            env: dict[str, Any] = {}
            exec(program + "\n" + tests.setup, env)
            results = []
            for a in tests.asserts:
                try:
                    exec(a, env)
                    results.append(TestResult("passed"))
                except AssertionError:
                    results.append(TestResult("failed", reason="assertion failed"))
            passed = sum(r.outcome == "passed" for r in results)
            outcome = "passed" if passed == len(results) else "failed"
            out.append(Verdict(outcome, tuple(results), passed, len(results)))
        return out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "Built-in benchmarks" in out
    for kind in ("jsonl:PATH", "apps:", "mbpp:", "humaneval[:PATH]", "hf:NAME", "builtin:NAME"):
        assert kind in out


def test_show_spec_slash_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "show", "humaneval/HumanEval/53"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("id: HumanEval/53")
    assert "# candidate = add" in out and "MODEL PROMPT (style humaneval)" in out
    assert "stop strings" in out
    # an id with slashes under a path spec
    assert main(["datasets", "show", f"apps:{FIX / 'apps'}/apps/test/0000"]) == 0
    out = capsys.readouterr().out
    assert "sortList([3, 1, 2]) -> [[1, 2, 3]]" in out
    assert "Use Call-Based format" in out


def test_show_summary_json_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "show", f"mbpp:{FIX / 'mbpp.jsonl'}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("5 problems; tests: assert 5;")
    assert main(["datasets", "show", f"jsonl:{FIX / 'native.jsonl'}", "--id", "mul", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == "mul" and record["tests"]["type"] == "call"
    assert main(["datasets", "show", f"jsonl:{FIX / 'native.jsonl'}", "--id", "nope"]) == 2
    assert "no problem with id 'nope'" in capsys.readouterr().err
    assert main(["datasets", "show", "csv:x"]) == 2
    assert "unknown format" in capsys.readouterr().err


def test_validate_reports_every_malformed_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["datasets", "validate", "--schema-only", f"jsonl:{FIX / 'native_bad_field.jsonl'}"])
        == 1
    )
    out = capsys.readouterr().out
    assert "schema: 2 valid problems, 1 invalid rows" in out
    assert "native_bad_field.jsonl:3: field 'tests.cases[0].output'" in out
    assert main(["datasets", "validate", "--schema-only", f"jsonl:{FIX / 'native.jsonl'}"]) == 0


def test_validate_catches_a_planted_wrong_solution(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_datasets, "make_pool", lambda workers: FakePool())
    assert main(["datasets", "validate", f"mbpp:{FIX / 'mbpp_wrong_solution.jsonl'}"]) == 1
    out = capsys.readouterr().out
    assert "solutions: 1/2 reference solutions pass; 1 problems have a failing" in out
    assert "FAILED mbpp/520 solution 0: failed (1/3 tests passed): assertion failed" in out
    assert main(["datasets", "validate", f"mbpp:{FIX / 'mbpp.jsonl'}"]) == 0
    assert "solutions: 5/5 reference solutions pass" in capsys.readouterr().out
    # a malformed row fails validation even when every valid row's solution passes
    assert main(["datasets", "validate", f"mbpp:{FIX / 'mbpp_bad.jsonl'}"]) == 1
    assert "1 invalid rows" in capsys.readouterr().out
