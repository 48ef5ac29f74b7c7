"""evaluate() on disk with a fake pool: reports, resumability (nothing re-executed), guards."""

import json
from concurrent.futures import Future
from pathlib import Path

import pytest

from rltf.evaluation import evaluate, read_programs, read_results
from rltf.evaluation.records import ProgramRow
from rltf.records import ErrorInfo, Problem, Verdict
from rltf.tasks import load_dataset

FIXTURES = Path(__file__).parent / "fixtures" / "evaluation"
DATASET = f"jsonl:{FIXTURES / 'tiny.jsonl'}"


class FakePool:
    """Judges by program text; records every submission."""

    def __init__(self, broken: set[tuple[str, str]] = frozenset()) -> None:
        self.submitted: list[tuple[str, str, str]] = []
        self.broken = broken

    def submit(self, problem: Problem, program: str, mode: str = "train") -> Future:
        self.submitted.append((problem.id, program, mode))
        fut: Future = Future()
        if (problem.id, program) in self.broken:
            fut.set_exception(RuntimeError("worker died"))
        elif "PASS" in program:
            fut.set_result(Verdict("passed", passed=2, total=2))
        elif "RAISE" in program:
            fut.set_result(
                Verdict("runtime_error", total=2, error=ErrorInfo("ValueError", "x", 1, "line"))
            )
        else:
            fut.set_result(Verdict("failed", total=2))
        return fut


@pytest.fixture
def problems():
    return load_dataset(DATASET)


def rows(*specs):
    return [ProgramRow(pid, i, prog) for pid, i, prog in specs]


PROGRAMS = rows(
    ("add", 0, "PASS"),
    ("add", 1, "nope"),
    ("double", 0, "RAISE"),
    ("double", 1, "PASS"),
    ("is_even", 0, "nope"),
    ("is_even", 1, "nope"),
)


def test_report_files_and_values(problems, tmp_path):
    pool = FakePool()
    rep = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1, 2], dataset=DATASET, pool=pool
    )
    assert all(mode == "eval" for *_, mode in pool.submitted)
    assert rep.pass_at_k[1] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert rep.pass_at_k[2] == pytest.approx(2 / 3)
    assert {g.name: g.pass_at_k[1] for g in rep.per_difficulty} == {
        "introductory": 0.5,
        "interview": 0.0,
    }
    for name in ("report.json", "report.md", "pass_at_k.png", "outcomes.png", "results.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["outcomes"]["runtime_error"] == 1


def test_rerun_executes_nothing_new_and_extends_n(problems, tmp_path):
    first = FakePool()
    rep1 = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=first
    )
    assert len(first.submitted) == 6
    again = FakePool()
    rep2 = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=again
    )
    assert again.submitted == []
    assert rep2.pass_at_k == rep1.pass_at_k and rep2.outcomes == rep1.outcomes
    # more samples later: only the new ones run
    more = [*PROGRAMS, *rows(("add", 2, "PASS"), ("double", 2, "x"), ("is_even", 2, "PASS"))]
    third = FakePool()
    rep3 = evaluate(
        problems, programs=more, out_dir=tmp_path, n=3, ks=[1, 3], dataset=DATASET, pool=third
    )
    assert sorted(pid for pid, *_ in third.submitted) == ["add", "double", "is_even"]
    assert rep3.num_samples == 9 and rep3.pass_at_k[3] == 1.0


def test_interrupted_run_resumes_the_missing_keys(problems, tmp_path):
    evaluate(
        problems,
        programs=PROGRAMS[:4],
        out_dir=tmp_path,
        n=2,
        ks=[1],
        dataset=DATASET,
        pool=FakePool(),
    )
    # simulate a kill mid-write of the 5th result
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write('{"problem_id": "is_even", "index": 0, "prog')
    pool = FakePool()
    rep = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=pool
    )
    assert sorted((pid, prog) for pid, prog, _ in pool.submitted) == [("is_even", "nope")] * 2
    assert len(read_results(tmp_path / "results.jsonl")) == 6 and rep.num_samples == 6


def test_sandbox_errors_count_as_failures_and_are_retried(problems, tmp_path):
    pool = FakePool(broken={("add", "PASS")})
    rep = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=pool
    )
    assert rep.outcomes["sandbox_error"] == 1
    assert rep.pass_at_k[1] == pytest.approx(0.5 / 3)
    retry = FakePool()
    rep2 = evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=retry
    )
    assert [(pid, prog) for pid, prog, _ in retry.submitted] == [("add", "PASS")]
    assert rep2.outcomes["sandbox_error"] == 0


def test_problem_without_programs_counts_as_zero(problems, tmp_path):
    rep = evaluate(
        problems,
        programs=PROGRAMS[:2],
        out_dir=tmp_path,
        n=2,
        ks=[1],
        dataset=DATASET,
        pool=FakePool(),
    )
    assert rep.problems_without_results == 2
    assert rep.pass_at_k[1] == pytest.approx(0.5 / 3)


def test_different_programs_in_same_out_dir_refused(problems, tmp_path):
    evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=FakePool()
    )
    changed = [ProgramRow("add", 0, "something else"), *PROGRAMS[1:]]
    with pytest.raises(ValueError, match="different program"):
        evaluate(
            problems,
            programs=changed,
            out_dir=tmp_path,
            n=2,
            ks=[1],
            dataset=DATASET,
            pool=FakePool(),
        )


def test_different_settings_in_same_out_dir_refused(problems, tmp_path):
    evaluate(
        problems, programs=PROGRAMS, out_dir=tmp_path, n=2, ks=[1], dataset=DATASET, pool=FakePool()
    )
    with pytest.raises(ValueError, match="seed"):
        evaluate(
            problems,
            programs=PROGRAMS,
            out_dir=tmp_path,
            n=2,
            ks=[1],
            dataset=DATASET,
            seed=7,
            pool=FakePool(),
        )


def test_programs_fixture_file_is_valid(problems):
    assert len(read_programs(FIXTURES / "programs.jsonl", [p.id for p in problems])) == 6


@pytest.mark.parametrize(
    ("programs", "message"),
    [
        (rows(("ghost", 0, "PASS")), "unknown problem id 'ghost'"),
        (rows(("add", 0, "PASS"), ("add", 0, "x")), "two programs"),
    ],
)
def test_bad_program_lists_are_refused(problems, tmp_path, programs, message):
    with pytest.raises(ValueError, match=message):
        evaluate(
            problems,
            programs=programs,
            out_dir=tmp_path,
            n=1,
            ks=[1],
            dataset=DATASET,
            pool=FakePool(),
        )


def test_a_model_directory_named_relative_or_absolute_is_one_run(problems, tmp_path, monkeypatch):
    """A resumed run names its model directory as it likes (``runs/m`` from the repository,
    ``/abs/runs/m`` from a script); a different directory is still refused."""
    for name in ("m", "other"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "eval"
    common = {"programs": PROGRAMS, "out_dir": out, "n": 2, "ks": [1], "dataset": DATASET}
    evaluate(problems, model="m", pool=FakePool(), **common)
    evaluate(problems, model=str(tmp_path / "m"), pool=FakePool(), **common)
    with pytest.raises(ValueError, match="model"):
        evaluate(problems, model="other", pool=FakePool(), **common)
