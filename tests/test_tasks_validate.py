"""`rltf datasets validate` through the real execution sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from rltf.cli import main

FIX = Path(__file__).parent / "fixtures" / "tasks"


def test_validate_catches_planted_wrong_solutions_in_the_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = f"jsonl:{FIX / 'native_wrong_solution.jsonl'}"
    assert main(["datasets", "validate", spec, "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "solutions: 2/4 reference solutions pass; 2 problems have a failing" in out
    assert "FAILED sum-planted-wrong solution 0: failed (1/2 tests passed)" in out
    assert (
        "FAILED double-crash solution 1: runtime_error (0/1 tests passed): NameError line 2" in out
    )
    assert "sum-ok" not in out


def test_validate_passes_clean_fixtures_of_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    for spec in (
        f"apps:{FIX / 'apps'}",
        f"mbpp:{FIX / 'mbpp.jsonl'}",
        f"humaneval:{FIX / 'humaneval.jsonl'}",
        f"jsonl:{FIX / 'native.jsonl'}",
    ):
        assert main(["datasets", "validate", spec, "--workers", "1"]) == 0, spec
        assert "0 problems have a failing reference solution" in capsys.readouterr().out


@pytest.mark.slow
def test_validate_shipped_humaneval_all_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "validate", "humaneval"]) == 0
    assert "164/164 reference solutions pass" in capsys.readouterr().out
