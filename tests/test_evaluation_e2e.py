"""`rltf evaluate` end to end with the real sandbox pool on the tiny fixture dataset."""

import json
from pathlib import Path

import pytest

import rltf.execution
from rltf.cli import main
from rltf.evaluation import read_results

FIXTURES = Path(__file__).parent / "fixtures" / "evaluation"
DATASET = f"jsonl:{FIXTURES / 'tiny.jsonl'}"
PROGRAMS = FIXTURES / "programs.jsonl"


def evaluate_programs(out: Path) -> int:
    return main(
        [
            "evaluate", "-q", "--programs", str(PROGRAMS), "--dataset", DATASET,
            "--k", "1,2,5", "--out-dir", str(out), "--workers", "2", "--timeout", "1",
        ]
    )  # fmt: skip


def test_evaluate_programs_file_end_to_end_and_resume(tmp_path, pool_calls, capsys):
    out = tmp_path / "eval"
    assert evaluate_programs(out) == 0
    assert len(pool_calls["submitted"]) == 6
    [(workers, config)] = pool_calls["created"]
    assert workers == 2 and config.timeout_per_test == 1.0
    printed = capsys.readouterr()
    assert "pass@1 33.33%" in printed.out and "pass@5 not reported: k > n = 2" in printed.err

    report = json.loads((out / "report.json").read_text())
    assert report["n"] == 2 and report["num_samples"] == 6
    assert report["pass_at_k"] == {"pass@1": pytest.approx(1 / 3), "pass@2": pytest.approx(2 / 3)}
    levels = {g["name"]: g["pass_at_k"] for g in report["per_difficulty"]}
    assert levels == {
        "introductory": {"pass@1": 0.25, "pass@2": 0.5},
        "interview": {"pass@1": 0.5, "pass@2": 1.0},
    }
    assert report["outcomes"] == {
        "passed": 2,
        "failed": 1,
        "runtime_error": 1,
        "compile_error": 1,
        "timeout": 1,
        "sandbox_error": 0,
    }
    assert report["errors_by_type"].get("IndexError") == 1
    assert report["errors_by_type"].get("SyntaxError") == 1
    for name in ("report.md", "pass_at_k.png", "outcomes.png"):
        assert (out / name).stat().st_size > 0

    # rerun: nothing is executed again, same report
    before = (out / "results.jsonl").read_text()
    pool_calls["submitted"].clear()
    assert evaluate_programs(out) == 0
    assert pool_calls["submitted"] == []
    assert (out / "results.jsonl").read_text() == before
    again = json.loads((out / "report.json").read_text())
    assert again["pass_at_k"] == report["pass_at_k"] and again["outcomes"] == report["outcomes"]
    assert len(read_results(out / "results.jsonl")) == 6


@pytest.fixture(scope="module")
def shared_pool():
    # One real pool for the module: starting and closing a pool costs seconds, which every
    # `rltf evaluate` run would otherwise pay. Timeout 1 s, as the commands below ask for.
    config = rltf.execution.ExecutionConfig(timeout_per_test=1.0)
    with rltf.execution.ExecutionPool(workers=2, config=config) as pool:
        yield pool


@pytest.fixture
def pool_calls(monkeypatch, shared_pool):
    """Every `rltf evaluate` in the test uses the shared pool; returns the log of its creations
    (workers, config) and submissions (problem ids)."""
    calls: dict[str, list] = {"created": [], "submitted": []}

    class Shared:
        def __init__(self, workers=None, config=None):
            calls["created"].append((workers, config))

        def submit(self, problem, program, mode="train"):
            calls["submitted"].append(problem.id)
            return shared_pool.submit(problem, program, mode=mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setattr(rltf.execution, "ExecutionPool", Shared)
    return calls


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from rltf.policy import build_tiny_model
    from rltf.tasks import load_dataset

    problems = load_dataset(DATASET)
    corpus = [p.prompt for p in problems] + [s for p in problems for s in p.solutions]
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), corpus, n_layer=1, n_embd=32)


def test_generate_then_evaluate_and_evaluate_model(tiny_model, tmp_path, pool_calls):
    sampling = ["--n", "2", "--temperature", "1.0", "--max-new-tokens", "16", "--seed", "3"]
    progs = tmp_path / "progs.jsonl"
    assert (
        main(
            [
                "generate",
                "-q",
                "--model",
                str(tiny_model),
                "--dataset",
                DATASET,
                *sampling,
                "--out",
                str(progs),
            ]
        )
        == 0
    )
    # two machines: score the file ...
    assert main(
        ["evaluate", "-q", "--programs", str(progs), "--dataset", DATASET, "--k", "1,2",
         "--out-dir", str(tmp_path / "a"), "--timeout", "1", "--no-plots"]
    ) == 0  # fmt: skip
    # ... or one command with the model: same seed, same samples, same verdicts
    assert main(
        ["evaluate", "-q", "--model", str(tiny_model), "--dataset", DATASET, *sampling, "--k", "1,2",
         "--out-dir", str(tmp_path / "b"), "--timeout", "1"]
    ) == 0  # fmt: skip
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    for report in (a, b):
        assert report["num_samples"] == 6 and sum(report["outcomes"].values()) == 6
        assert set(report["pass_at_k"]) == {"pass@1", "pass@2"}
        assert {g["name"] for g in report["per_difficulty"]} == {"introductory", "interview"}
    assert b["model"] == str(tiny_model) and b["sampling"]["max_new_tokens"] == 16
    assert a["outcomes"] == b["outcomes"] and a["problems"] == b["problems"]
    assert (
        tmp_path / "b" / "programs.jsonl"
    ).read_text().splitlines() == progs.read_text().splitlines()
    assert (tmp_path / "b" / "pass_at_k.png").stat().st_size > 0
