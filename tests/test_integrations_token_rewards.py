"""rltf.integrations.token_rewards: RLTF's per-token rewards aligned to externally sampled ids.

Expected values are computed by hand from the formulas in rltf.feedback.rewards (paper mode,
group baseline, fine term capped at α = 1 and baselined)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rltf.execution import ExecutionPool
from rltf.feedback import RewardConfig
from rltf.integrations._common import ProgramSpec
from rltf.integrations.token_rewards import completion_token_rewards
from rltf.policy import train_bpe_tokenizer
from rltf.records import ErrorInfo, Problem, TestResult, Verdict
from rltf.tasks import load_dataset

PASS = "    return value * 5 + 5\n"
RUNTIME = "    x = value\n    return [][x]\n"  # IndexError on program line 3


@pytest.fixture(scope="module")
def problem() -> Problem:
    return load_dataset("builtin:basic")[0]  # scale_shift(value), completion style


@pytest.fixture(scope="module")
def tok() -> Any:
    return train_bpe_tokenizer([PASS, RUNTIME, "print(value)\n```python\n```"] * 4, vocab_size=300)


@pytest.fixture(scope="module")
def pool() -> Iterator[ExecutionPool]:
    with ExecutionPool(workers=2) as p:
        yield p


def ids(tok: Any, text: str) -> list[int]:
    """Response ids as a trainer holds them: the text's tokens, then EOS."""
    return [*tok(text, add_special_tokens=False)["input_ids"], tok.eos_token_id]


def line_tokens(tok: Any, text: str, line: str) -> set[int]:
    """Indices of the tokens of ``text`` that overlap ``line`` (found once in ``text``)."""
    start = text.index(line)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    return {
        i for i, (a, b) in enumerate(enc["offset_mapping"]) if a < start + len(line) and b > start
    }


def test_group_rewards_by_hand(problem: Problem, tok: Any, pool: ExecutionPool) -> None:
    good, bad = ids(tok, PASS), ids(tok, RUNTIME)
    out = completion_token_rewards(problem, [good, bad], tok, pool=pool)
    assert [r.verdict.outcome for r in out] == ["passed", "runtime_error"]
    assert out[1].verdict.error is not None and out[1].verdict.error.line == 3
    # Group means: coarse (1 − 0.6)/2 = 0.2, adaptive (1 − 0.3)/2 = 0.35, fine (0 − 0.3)/2 = −0.15.
    assert out[0].rewards == pytest.approx([0.8 + 0.65] * len(good))
    span = line_tokens(tok, RUNTIME, "    return [][x]\n")
    outcome = (-0.6 - 0.2) + (-0.3 - 0.35)
    expected = [outcome + (-0.3 + 0.15 if t in span else 0.0) for t in range(len(bad))]
    assert out[1].rewards == pytest.approx(expected)
    assert out[1].record is not None and out[1].record.category == "line"
    assert len(out[1].rewards or []) == len(bad)  # aligned to the ids, EOS included


def test_ids_after_a_stop_string_get_zero(problem: Problem, tok: Any, pool: ExecutionPool) -> None:
    text = PASS + "print(value)\n"
    full = ids(tok, text)
    spec = ProgramSpec(problem.starter_code, ("\nprint",), False)
    (out,) = completion_token_rewards(
        problem, [full], tok, config=RewardConfig(baseline="none"), spec=spec, pool=pool
    )
    assert (
        out.verdict.outcome == "passed" and out.sample.program == problem.starter_code + PASS[:-1]
    )
    kept = len(out.sample.token_ids)
    assert 0 < kept < len(full) and out.rewards is not None and len(out.rewards) == len(full)
    assert out.rewards[:kept] == pytest.approx([2.0] * kept)  # coarse 1 + adaptive 1, no baseline
    assert out.rewards[kept:] == [0.0] * (len(full) - kept)


def test_chat_answer_fine_term_stays_inside_the_code(
    problem: Problem, tok: Any, pool: ExecutionPool
) -> None:
    text = "```python\ndef scale_shift(value):\n" + RUNTIME + "```\nprint(value)\n"
    spec = ProgramSpec("", (), True)
    config = RewardConfig(baseline="none", coarse=False, adaptive=False)  # the fine term alone
    (out,) = completion_token_rewards(
        problem, [ids(tok, text)], tok, config=config, spec=spec, pool=pool
    )
    assert out.verdict.error is not None and out.verdict.error.line == 3
    span = line_tokens(tok, text, "    return [][x]\n")
    assert out.rewards is not None
    assert {t for t, r in enumerate(out.rewards) if r != 0} == span
    assert set(out.rewards) == {0.0, -0.3}


class _BrokenPool:
    def run_batch(self, jobs: list[tuple[Problem, str]], mode: str = "train") -> list[Verdict]:
        err = ErrorInfo("SandboxError", "worker died twice", None, "global")
        return [Verdict("sandbox_error", (TestResult("sandbox_error"),), 0, 1, err) for _ in jobs]


def test_sandbox_error_gives_no_rewards(problem: Problem, tok: Any) -> None:
    broken: Any = _BrokenPool()
    (out,) = completion_token_rewards(problem, [ids(tok, PASS)], tok, pool=broken)
    assert out.rewards is None and out.record is None and out.verdict.outcome == "sandbox_error"


def test_bad_arguments(problem: Problem, tok: Any) -> None:
    with pytest.raises(ValueError, match="'greedy' needs the greedy decode"):
        completion_token_rewards(problem, [[1]], tok, config=RewardConfig(baseline="greedy"))
    with pytest.raises(ValueError, match="2 problems for 1 completions"):
        completion_token_rewards([problem, problem], [[1]], tok)
    with pytest.raises(ValueError, match="truncated has 2 values for 1 completions"):
        completion_token_rewards(problem, [[1]], tok, truncated=[True, False])
