"""Programs / results files: validation errors name file:line, interrupted appends are tolerated."""

import json

import pytest

from rltf.evaluation.records import (
    JsonlAppender,
    ProgramRow,
    ResultRow,
    read_programs,
    read_results,
    write_programs,
)
from rltf.records import RecordError, Verdict


def test_programs_round_trip(tmp_path):
    rows = [
        ProgramRow("a", 0, "x"),
        ProgramRow("a", 1, "y", text="```y```", policy_version=3, truncated=True),
    ]
    write_programs(tmp_path / "p.jsonl", rows)
    assert read_programs(tmp_path / "p.jsonl", ["a"]) == rows


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"problem_id": "zz", "index": 0, "program": "x"}', "problem_id"),
        ('{"problem_id": "a", "index": -1, "program": "x"}', "index"),
        ('{"problem_id": "a", "index": "0", "program": "x"}', "index"),
        ('{"problem_id": "a", "index": 0}', "program"),
        ('{"problem_id": "a", "index": 0, "program": "x"}', "index"),  # duplicate of line 1
        ("[1, 2]", "<record>"),
        ("{broken", "<line>"),
    ],
)
def test_bad_program_rows_name_file_line_and_field(tmp_path, line, field):
    path = tmp_path / "p.jsonl"
    path.write_text('{"problem_id": "a", "index": 0, "program": "x"}\n' + line + "\n")
    with pytest.raises(RecordError) as e:
        read_programs(path, ["a"])
    assert e.value.where == f"{path}:2" and e.value.field_name == field


def test_missing_programs_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="programs file not found"):
        read_programs(tmp_path / "nope.jsonl")


def test_interrupted_append_is_dropped_then_cut(tmp_path):
    path = tmp_path / "r.jsonl"
    good = ResultRow(ProgramRow("a", 0, "x"), Verdict("passed", passed=1, total=1))
    path.write_text(json.dumps(good.to_dict()) + "\n" + '{"problem_id": "a", "ind')
    assert list(read_results(path)) == [("a", 0)]
    with JsonlAppender(path) as sink:  # cuts the broken tail before appending
        sink.write(ResultRow(ProgramRow("a", 1, "y"), Verdict("failed", total=1)).to_dict())
    assert sorted(read_results(path)) == [("a", 0), ("a", 1)]


def test_appender_keeps_a_complete_last_line_without_newline(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"problem_id": "a", "index": 0, "program": "x"}')
    with JsonlAppender(path) as sink:
        sink.write(ProgramRow("a", 1, "y").to_dict())
    assert [r.index for r in read_programs(path)] == [0, 1]


def test_results_for_unknown_problem_are_an_error(tmp_path):
    path = tmp_path / "r.jsonl"
    row = ResultRow(ProgramRow("zz", 0, "x"), Verdict("failed", total=1))
    path.write_text(json.dumps(row.to_dict()) + "\n")
    with pytest.raises(RecordError, match="another dataset"):
        read_results(path, ["a"])
