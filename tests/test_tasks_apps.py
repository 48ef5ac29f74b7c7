"""APPS loader: directory layout and jsonl export."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rltf.records import CallCase, CallTests, RecordError, StdioCase, StdioTests
from rltf.tasks import load_dataset
from rltf.tasks.formats.apps import APPS_HEADER, apps_tests

FIX = Path(__file__).parent / "fixtures" / "tasks"


def test_directory_layout_all_splits(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rltf.tasks"):
        problems = load_dataset(f"apps:{FIX / 'apps'}")
    by_id = {p.id: p for p in problems}
    assert sorted(by_id) == ["apps/test/0000", "apps/test/0001", "apps/train/0000"]
    # the problem without input_output.json is counted and excluded, not an error
    assert "3 problems (read 4 rows; excluded 1: no tests" in caplog.text

    stdio = by_id["apps/train/0000"]
    assert stdio.difficulty == "introductory"
    assert stdio.meta == {
        "source": "apps",
        "split": "train",
        "url": "https://example.org/0",
        "program_header": APPS_HEADER,
    }
    assert stdio.tests == StdioTests((StdioCase("1 2\n", "3\n"), StdioCase("3 4\n", "7")))
    assert stdio.solutions == ("a, b = map(int, input().split())\nprint(a + b)\n",)

    cls = by_id["apps/test/0000"]
    assert cls.starter_code.startswith("class Solution:")
    # expected values are kept exactly as APPS gives them (list-wrapped); execution unwraps
    assert cls.tests == CallTests(
        "sortList", (CallCase(([3, 1, 2],), [[1, 2, 3]]), CallCase(([],), [[]]))
    )
    fn = by_id["apps/test/0001"]
    assert fn.tests == CallTests("add", (CallCase((1, 2), 3), CallCase((-1, 1), [0])))
    assert fn.difficulty == "competition"


def test_split_selection_and_single_split_dir() -> None:
    assert [p.id for p in load_dataset(f"apps:{FIX / 'apps'}:test")] == [
        "apps/test/0000",
        "apps/test/0001",
    ]
    assert [p.id for p in load_dataset(f"apps:{FIX / 'apps' / 'train'}")] == ["apps/train/0000"]
    with pytest.raises(FileNotFoundError, match="no such split directory"):
        load_dataset(f"apps:{FIX / 'apps_bad'}:train")


def test_jsonl_export(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rltf.tasks"):
        problems = load_dataset(f"apps:{FIX / 'apps_export' / 'test.jsonl'}")
    assert [p.id for p in problems] == ["apps/test/0000", "apps/test/0002"]
    assert "excluded 1: no tests" in caplog.text
    call = problems[1]
    assert call.tests == CallTests("double", (CallCase((2,), [4]), CallCase((5,), [10])))
    assert call.starter_code == "def double(x):\n    "
    assert call.solutions == ("def double(x):\n    return 2 * x\n",)


def test_malformed_rows_name_the_place() -> None:
    bad_jsonl = FIX / "apps_export_bad.jsonl"
    with pytest.raises(RecordError, match=rf"{bad_jsonl}:2: field 'input_output': 2 inputs but 1"):
        load_dataset(f"apps:{bad_jsonl}")
    # APPS-era Python reprs are rejected: fields are parsed with json, never eval
    with pytest.raises(RecordError, match=r"0000: field 'input_output': invalid JSON"):
        load_dataset(f"apps:{FIX / 'apps_bad'}")
    assert load_dataset(f"apps:{FIX / 'apps_bad'}", skip_invalid=True) == []
    assert len(load_dataset(f"apps:{bad_jsonl}", skip_invalid=True)) == 1


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"fn_name": "f", "inputs": [1], "outputs": [1]}', "input_output.inputs[0]"),
        ('{"fn_name": "not an id", "inputs": [[1]], "outputs": [1]}', "input_output.fn_name"),
        ('{"inputs": [1], "outputs": ["1"]}', "input_output.inputs[0]"),
        ('{"inputs": "1", "outputs": "1"}', "input_output"),
        ("[1, 2]", "input_output"),
    ],
)
def test_apps_tests_field_errors(raw: str, field: str) -> None:
    with pytest.raises(RecordError) as info:
        apps_tests(raw, "row")
    assert info.value.field_name == field


def test_missing_path() -> None:
    with pytest.raises(FileNotFoundError):
        load_dataset("apps:/nonexistent/apps")


def test_export_file_split_mismatch_is_an_error() -> None:
    with pytest.raises(RecordError, match="holds split 'test', not 'train'"):
        load_dataset(f"apps:{FIX / 'apps_export' / 'test.jsonl'}:train")
