"""MBPP loader: full and sanitized variants, task-id splits, challenge tests, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rltf.records import AssertTests, RecordError
from rltf.tasks import load_dataset
from rltf.tasks.formats.mbpp import assert_function_name, load_mbpp, split_of

FIX = Path(__file__).parent / "fixtures" / "tasks"
MBPP = FIX / "mbpp.jsonl"


def test_full_variant_fields() -> None:
    problems = {p.id: p for p in load_dataset(f"mbpp:{MBPP}")}
    assert sorted(problems) == ["mbpp/11", "mbpp/12", "mbpp/2", "mbpp/520", "mbpp/601"]
    p = problems["mbpp/12"]
    assert isinstance(p.tests, AssertTests)
    assert p.tests.program_setup == "import math\n"
    assert p.tests.asserts[0] == "assert circle_area(1) == 3.14"
    assert p.solutions[0].startswith("import math\n")
    assert p.meta == {"source": "mbpp", "task_id": 12, "split": "test", "fn_name": "circle_area"}
    # the first call in the assert is a builtin (set); the function under test is found
    assert problems["mbpp/2"].meta["fn_name"] == "similar_elements"


@pytest.mark.parametrize(
    ("split", "ids"),
    [
        ("prompt", ["mbpp/2"]),
        ("test", ["mbpp/11", "mbpp/12"]),
        ("validation", ["mbpp/520"]),
        ("train", ["mbpp/601"]),
    ],
)
def test_standard_split_by_task_id(
    split: str, ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="rltf.tasks"):
        assert [p.id for p in load_dataset(f"mbpp:{MBPP}:{split}")] == ids
    assert f"excluded {5 - len(ids)}: not in split '{split}'" in caplog.text


def test_split_boundaries() -> None:
    assert [split_of(i) for i in (1, 10, 11, 510, 511, 600, 601, 974, 975)] == [
        "prompt", "prompt", "test", "test", "validation", "validation", "train", "train", "other",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_mbpp(MBPP, split="dev")


def test_challenge_tests_optional() -> None:
    plain = {p.id: p for p in load_mbpp(MBPP)}["mbpp/11"]
    both = {p.id: p for p in load_mbpp(MBPP, include_challenge=True)}["mbpp/11"]
    assert plain.num_tests == 3
    assert both.num_tests == 5
    assert plain.meta["challenge_test_list"] == list(both.tests.asserts[3:])  # type: ignore[union-attr]


def test_sanitized_variant_json_array() -> None:
    problems = load_dataset(f"mbpp:{FIX / 'mbpp_sanitized.json'}")
    assert [p.id for p in problems] == ["mbpp/12", "mbpp/602"]
    assert problems[0].prompt.startswith("Write a function to compute the area")
    assert problems[0].tests.program_setup == "import math\n"  # type: ignore[union-attr]
    assert problems[1].tests.program_setup == ""  # type: ignore[union-attr]
    assert [p.id for p in load_dataset(f"mbpp:{FIX / 'mbpp_sanitized.json'}:train")] == ["mbpp/602"]


def test_malformed_row_names_file_line_field() -> None:
    with pytest.raises(RecordError) as info:
        load_dataset(f"mbpp:{FIX / 'mbpp_bad.jsonl'}")
    assert info.value.where == f"{FIX / 'mbpp_bad.jsonl'}:2"
    assert info.value.field_name == "test_list[1]"
    assert [p.id for p in load_dataset(f"mbpp:{FIX / 'mbpp_bad.jsonl'}", skip_invalid=True)] == [
        "mbpp/601"
    ]


def test_assert_with_syntax_error_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "m.jsonl"
    f.write_text('{"task_id": 11, "text": "t", "code": "", "test_list": ["assert f(1) =="]}\n')
    with pytest.raises(RecordError, match=r"m.jsonl:1: field 'test_list\[0\]': not valid Python"):
        load_dataset(f"mbpp:{f}")


def test_assert_function_name() -> None:
    assert assert_function_name("assert math.isclose(area(2), 1.0)") == "area"
    assert assert_function_name("assert sorted(f(x)) == [1]") == "f"
    assert assert_function_name("assert len([1]) == 1") is None
