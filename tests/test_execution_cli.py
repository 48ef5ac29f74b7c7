"""`rltf execute`: programs or reference solutions in, one Verdict row per program out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rltf.cli import main

DATA = Path(__file__).parent / "fixtures" / "execution" / "problems.jsonl"


def write_programs(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_execute_programs_in_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programs = write_programs(
        tmp_path / "programs.jsonl",
        [
            {"problem_id": "double", "program": "def double(x):\n    return x + x\n"},
            {"problem_id": "add", "program": "print(3)\n"},
            {"problem_id": "is_even", "program": "def is_even(n):\n    return n % 2\n"},
            {"problem_id": "add", "program": "print(\n"},
            {"problem_id": "add", "program": "while True: pass\n"},
        ],
    )
    out = tmp_path / "out" / "results.jsonl"
    args = ["execute", "--dataset", f"jsonl:{DATA}", "--programs", str(programs)]
    code = main([*args, "--out", str(out), "--workers", "2", "--timeout", "1", "--mode", "eval"])
    assert code == 0
    rows = read_rows(out)
    assert [(r["problem_id"], r["index"]) for r in rows] == [
        ("double", 0),
        ("add", 1),
        ("is_even", 2),
        ("add", 3),
        ("add", 4),
    ]
    assert [r["outcome"] for r in rows] == [
        "passed",
        "failed",
        "failed",
        "compile_error",
        "timeout",
    ]
    assert rows[1]["pass_ratio"] == 0.5 and rows[0]["isolation"]
    assert [t["outcome"] for t in rows[4]["tests"]] == ["timeout", "not_run"]  # eval mode
    summary = capsys.readouterr().out
    assert "passed" in summary and "programs/s" in summary and "pass rate 20.0%" in summary


def test_execute_reference_solutions(tmp_path: Path) -> None:
    out = tmp_path / "solutions.jsonl"
    code = main(["execute", "--dataset", f"jsonl:{DATA}", "--solutions", "--out", str(out)])
    assert code == 0
    rows = read_rows(out)
    assert [(r["problem_id"], r["index"], r["outcome"]) for r in rows] == [
        ("add", 0, "passed"),
        ("add", 1, "passed"),
        ("double", 0, "passed"),
        ("is_even", 0, "passed"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"problem_id": "nope", "program": "x"}', "programs.jsonl:2: field 'problem_id'"),
        ('{"problem_id": "add"}', "programs.jsonl:2: field 'program': missing"),
        ("[1, 2]", "programs.jsonl:2: field '<record>'"),
        ("{oops", "programs.jsonl:2: field '<record>': invalid JSON"),
    ],
)
def test_bad_program_rows_name_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    programs = tmp_path / "programs.jsonl"
    programs.write_text('{"problem_id": "add", "program": "print(3)"}\n' + line + "\n")
    out = tmp_path / "out.jsonl"
    args = ["execute", "--dataset", f"jsonl:{DATA}", "--programs", str(programs), "--out", str(out)]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_summary_lists_errors_by_type_and_category():
    from rltf.cli.execute import summary
    from rltf.records import ErrorInfo, Verdict

    verdicts = [
        Verdict("passed", passed=1, total=1),
        Verdict("runtime_error", total=1, error=ErrorInfo("IndexError", "out of range", 3, "line")),
        Verdict("runtime_error", total=1, error=ErrorInfo("IndexError", "out of range", 2, "line")),
        Verdict(
            "compile_error", total=1, error=ErrorInfo("SyntaxError", "never closed", 2, "global")
        ),
    ]
    text = summary(verdicts, 1.0)
    assert "IndexError" in text and "SyntaxError" in text
    index_row = next(line for line in text.splitlines() if line.startswith("IndexError"))
    assert index_row.split() == ["IndexError", "line", "2"]
