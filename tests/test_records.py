import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltf.records import (
    AssertTests,
    CallCase,
    CallTests,
    ErrorInfo,
    Problem,
    RecordError,
    Sample,
    StdioCase,
    StdioTests,
    TestResult,
    Verdict,
    is_plain_data,
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
tests_strategy = st.one_of(
    st.builds(
        StdioTests,
        st.lists(st.builds(StdioCase, st.text(), st.text()), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(
        CallTests,
        st.sampled_from(["f", "add", "solve"]),
        st.lists(
            st.builds(CallCase, st.lists(json_values, max_size=3).map(tuple), json_values),
            min_size=1,
            max_size=3,
        ).map(tuple),
    ),
    st.builds(
        AssertTests,
        st.lists(st.text(min_size=1), min_size=1, max_size=3).map(tuple),
        st.text(),
        st.none() | st.just("candidate_fn"),
    ),
)


@given(
    pid=st.text(min_size=1),
    prompt=st.text(),
    tests=tests_strategy,
    starter=st.text(),
    difficulty=st.none() | st.sampled_from(["introductory", "interview"]),
    solutions=st.lists(st.text(), max_size=2).map(tuple),
)
def test_problem_json_round_trip(pid, prompt, tests, starter, difficulty, solutions):
    p = Problem(pid, prompt, tests, starter, difficulty, solutions)
    again = Problem.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"prompt": "x", "tests": {"type": "stdio", "cases": [{"input": "", "output": ""}]}}, "id"),
        ({"id": "a", "prompt": 3, "tests": {"type": "stdio", "cases": []}}, "prompt"),
        ({"id": "a", "prompt": "x", "tests": {"type": "wat"}}, "tests.type"),
        ({"id": "a", "prompt": "x", "tests": {"type": "stdio", "cases": []}}, "tests.cases"),
        (
            {
                "id": "a",
                "prompt": "x",
                "tests": {"type": "stdio", "cases": [{"input": 1, "output": ""}]},
            },
            "tests.cases[0].input",
        ),
        (
            {
                "id": "a",
                "prompt": "x",
                "tests": {"type": "call", "fn_name": "not valid", "cases": []},
            },
            "tests.fn_name",
        ),
        (
            {
                "id": "a",
                "prompt": "x",
                "tests": {"type": "call", "fn_name": "f", "cases": [{"args": 1}]},
            },
            "tests.cases[0].args",
        ),
        ({"id": "a", "prompt": "x", "tests": {"type": "assert", "asserts": [1]}}, "asserts[0]"),
        (
            {
                "id": "a",
                "prompt": "x",
                "tests": {"type": "assert", "asserts": ["assert 1"]},
                "colour": 1,
            },
            "colour",
        ),
        ({"id": "a", "prompt": "x"}, "tests"),
    ],
)
def test_problem_validation_names_field_and_place(row, field):
    with pytest.raises(RecordError) as err:
        Problem.from_dict(row, where="data.jsonl:7")
    assert err.value.field_name == field
    assert str(err.value).startswith("data.jsonl:7: field ")


def test_records_are_immutable():
    v = Verdict("passed", (TestResult("passed", 0.1),), 1, 1)
    with pytest.raises(AttributeError):
        v.outcome = "failed"  # type: ignore[misc]


def _sample(**kw):
    base = dict(
        problem_id="p",
        prompt_ids=(1, 2),
        token_ids=(5, 6, 7),
        text="abcdef",
        offsets=((0, 2), (2, 4), (4, 6)),
        logprobs=(-0.1, -0.2, -0.3),
        truncated=False,
        policy_version=3,
    )
    base.update(kw)
    return Sample(**base)


def test_sample_round_trip_and_program():
    s = _sample(program_prefix="def f():\n", code_start=2, code_end=5)
    assert Sample.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert s.program == "def f():\ncde"
    assert s.text_position(len("def f():\n")) == 2
    assert s.text_position(0) is None


def test_sample_rejects_misaligned_lengths():
    with pytest.raises(RecordError, match="3 tokens but 2 offsets"):
        _sample(offsets=((0, 2), (2, 4)))


def test_verdict_round_trip_and_ratio():
    v = Verdict(
        "runtime_error",
        (
            TestResult("passed", 0.01),
            TestResult("runtime_error", 0.02, "IndexError"),
            TestResult("not_run"),
        ),
        passed=1,
        total=3,
        error=ErrorInfo("IndexError", "list index out of range", 4, "line"),
        isolation=("rlimits", "setuid"),
    )
    assert v.pass_ratio == pytest.approx(1 / 3)
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict()))) == v


def test_verdict_rejects_bad_counts():
    with pytest.raises(RecordError):
        Verdict("passed", passed=2, total=1)
    with pytest.raises(RecordError, match="outcome"):
        Verdict.from_dict({"outcome": "great"})


def test_plain_data_rejects_subclasses():
    class Sneaky(int):
        def __eq__(self, other):
            return True

    assert is_plain_data([1, 2.5, "x", None, {"a": (1, {2})}])
    assert not is_plain_data(Sneaky(1))
    assert not is_plain_data([object()])
