"""benchmarks/fidelity.py on three real HumanEval problems: every answer format of the canonical
solution passes through the ``--samples`` path, the stub and the breakages fail."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import fidelity
import humaneval_agreement as hea
from rltf.evaluation.samples import read_samples
from rltf.tasks import load_dataset

IDS = ("HumanEval/0", "HumanEval/2", "HumanEval/13")


def test_mutate_swaps_the_first_operator_else_an_integer_else_raises() -> None:
    assert fidelity.mutate("    x = a < b + 1\n") == "    x = a >= b + 1\n"
    assert fidelity.mutate("    if not x:\n        return 1\n") == "    if  x:\n        return 1\n"
    assert fidelity.mutate("    return f(2)\n") == "    return f(3)\n"
    assert "raise" in fidelity.mutate("    return f(x)\n")


@pytest.mark.timeout(120)
def test_formats_and_breakages_score_as_expected(tmp_path: Path) -> None:
    problems = [p for p in load_dataset("humaneval") if p.id in IDS]
    sets = {**hea.canonical_sets(problems), **fidelity.broken_sets(problems)}
    # broken_mix cycles canonical, mutant, raise: only the first problem passes
    expected = {name: n for name, n in fidelity.EXPECTED.items() if n is not None}
    expected = {name: 3 * (n > 0) for name, n in expected.items()}
    expected |= {"operator_mutants": 0, "broken_mix": 1}
    assert set(sets) == set(expected)
    for name, rows in sets.items():
        path = tmp_path / f"{name}.jsonl"
        hea.write_jsonl(path, rows)
        verdicts = hea.rltf_verdicts(read_samples(path, problems), problems, tmp_path / name, 1)
        assert sum(verdicts.values()) == expected[name], name
        if name == "broken_mix":
            assert verdicts[(IDS[0], 0)]
