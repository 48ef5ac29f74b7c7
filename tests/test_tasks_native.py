"""Native jsonl loader and the dataset-spec dispatch."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rltf.records import AssertTests, CallTests, RecordError, StdioTests
from rltf.tasks import load_dataset

FIX = Path(__file__).parent / "fixtures" / "tasks"


def test_native_reads_all_kinds_and_skips_blank_lines(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rltf.tasks"):
        problems = load_dataset(f"jsonl:{FIX / 'native.jsonl'}")
    assert [p.id for p in problems] == ["add", "mul", "rev"]
    assert isinstance(problems[0].tests, StdioTests)
    assert isinstance(problems[1].tests, CallTests)
    assert isinstance(problems[2].tests, AssertTests)
    assert problems[0].difficulty == "introductory"
    assert problems[2].meta == {"source": "fixture"}
    assert "3 problems (read 3 rows)" in caplog.text


def test_bare_jsonl_path_is_native() -> None:
    assert len(load_dataset(str(FIX / "native.jsonl"))) == 3


def test_malformed_json_names_file_and_line() -> None:
    path = FIX / "native_bad_json.jsonl"
    with pytest.raises(RecordError, match=rf"{path}:2: field '<json>': invalid JSON"):
        load_dataset(f"jsonl:{path}")


def test_schema_error_names_file_line_and_field() -> None:
    path = FIX / "native_bad_field.jsonl"
    with pytest.raises(RecordError) as info:
        load_dataset(f"jsonl:{path}")
    assert info.value.where == f"{path}:3"
    assert info.value.field_name == "tests.cases[0].output"


def test_duplicate_id_is_an_error() -> None:
    path = FIX / "native_duplicate.jsonl"
    with pytest.raises(
        RecordError, match=rf"{path}:2: field 'id': duplicate id 'a' \(first at .*:1\)"
    ):
        load_dataset(f"jsonl:{path}")


def test_skip_invalid_reports_what_it_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rltf.tasks"):
        problems = load_dataset(f"jsonl:{FIX / 'native_bad_field.jsonl'}", skip_invalid=True)
        bad_json = load_dataset(f"jsonl:{FIX / 'native_bad_json.jsonl'}", skip_invalid=True)
    assert [p.id for p in problems] == ["ok", "ok2"]
    assert [p.id for p in bad_json] == ["ok"]
    assert "native_bad_field.jsonl:3" in caplog.text
    assert "skipped 1 invalid rows" in caplog.text


def test_missing_file_and_bad_specs() -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        load_dataset("jsonl:/nonexistent/nope.jsonl")
    with pytest.raises(ValueError, match="unknown format"):
        load_dataset("csv:foo.csv")
    with pytest.raises(ValueError, match="missing the part after 'jsonl:'"):
        load_dataset("jsonl:")


def test_unknown_split_after_an_existing_path() -> None:
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_dataset(f"mbpp:{FIX / 'mbpp.jsonl'}:dev")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_dataset(f"apps:{FIX / 'apps'}:dev")


def test_builtin_dispatch() -> None:
    from rltf.tasks.builtin import load_builtin

    test = load_dataset("builtin:basic")  # default split: test (the held-out one)
    assert test == load_builtin("basic", "test")
    assert {p.id for p in test}.isdisjoint(p.id for p in load_dataset("builtin:basic:train"))
    with pytest.raises(ValueError, match="unknown built-in 'nope'"):
        load_dataset("builtin:nope")
