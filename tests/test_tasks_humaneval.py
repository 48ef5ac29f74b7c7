"""HumanEval loader: the shipped 164 problems and small fixtures."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest

from rltf.records import AssertTests, Problem, RecordError
from rltf.tasks import load_dataset
from rltf.tasks.formats.humaneval import split_check

FIX = Path(__file__).parent / "fixtures" / "tasks"


def run_in_process(problem: Problem, program: str) -> None:
    """Trusted reference code only: program, setup, candidate binding, then each assert."""
    tests = problem.tests
    assert isinstance(tests, AssertTests) and tests.entry_point
    env: dict[str, Any] = {"__name__": "__check__"}
    exec(compile(program, "<program>", "exec"), env)
    exec(compile(tests.setup, "<setup>", "exec"), env)
    env["candidate"] = env[tests.entry_point]
    for a in tests.asserts:
        exec(compile(a, "<assert>", "exec"), env)


def test_fixture_decomposition() -> None:
    problems = load_dataset(f"humaneval:{FIX / 'humaneval.jsonl'}")
    add, shout = problems
    assert add.id == "Fixture/0"
    assert add.tests == AssertTests(
        asserts=(
            "assert candidate(1, 2) == 3",
            "assert candidate(-1, 1) == 0",
            "for x in range(3):\n    assert candidate(x, x) == 2 * x",
        ),
        setup="METADATA = {'author': 'fixture'}\n",
        entry_point="add",
    )
    assert add.solutions == (add.prompt + "    return a + b\n",)
    assert add.meta == {"source": "humaneval", "entry_point": "add"}
    # imports and helper assignments inside check() go into setup, in order
    assert shout.tests.setup == "import random\nwords = ['a', 'bc']\n"  # type: ignore[union-attr]
    for p in problems:
        run_in_process(p, p.solutions[0])
    with pytest.raises(AssertionError):
        run_in_process(add, add.prompt + "    return a - b\n")


def test_shipped_humaneval_all_164_convert_and_canonical_solutions_pass() -> None:
    problems = load_dataset("humaneval")
    assert len(problems) == 164
    assert len({p.id for p in problems}) == 164
    for p in problems:
        assert isinstance(p.tests, AssertTests) and p.tests.asserts, p.id
        assert p.tests.entry_point == p.meta["entry_point"]
        assert p.solutions and p.solutions[0].startswith(p.prompt)
        run_in_process(p, p.solutions[0])
    # the loops of HumanEval/32 and /53 are kept as single entries
    he53 = problems[53].tests
    assert isinstance(he53, AssertTests)
    assert he53.asserts[-1].startswith("for i in range(100):\n")


def test_gzip_path(tmp_path: Path) -> None:
    gz = tmp_path / "he.jsonl.gz"
    with open(FIX / "humaneval.jsonl", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert [p.id for p in load_dataset(f"humaneval:{gz}")] == ["Fixture/0", "Fixture/1"]


def test_malformed_rows() -> None:
    bad = FIX / "humaneval_bad.jsonl"
    with pytest.raises(RecordError, match=rf"{bad}:2: field 'entry_point': missing"):
        load_dataset(f"humaneval:{bad}")
    nocheck = FIX / "humaneval_no_check.jsonl"
    with pytest.raises(RecordError, match=r"field 'test': expected exactly one 'def check"):
        load_dataset(f"humaneval:{nocheck}")
    assert len(load_dataset(f"humaneval:{bad}", skip_invalid=True)) == 1


def test_split_check_edge_cases() -> None:
    setup, asserts = split_check("def check(candidate):\n    import math; assert candidate(1)\n")
    assert setup == "import math\n"
    assert asserts == ("assert candidate(1)",)
    with pytest.raises(RecordError, match="no assert"):
        split_check("def check(candidate):\n    pass\n")
    with pytest.raises(RecordError, match="not valid Python"):
        split_check("def check(candidate)\n")
    with pytest.raises(RecordError, match="one parameter 'candidate'"):
        split_check("def check(f):\n    assert f(1)\n")
