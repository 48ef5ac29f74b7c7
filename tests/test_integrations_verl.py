"""rltf.integrations.verl: veRL's parquet layout and reward-function signature, reward hacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rltf.integrations import verl as rv
from rltf.records import ErrorInfo, Problem, RecordError, TestResult, Verdict
from rltf.tasks import load_dataset


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    ps = load_dataset("builtin:basic")
    return [ps[0], ps[3], ps[7]]  # call (scale_shift), assert (linear), stdio (weighted)


@pytest.fixture(scope="module", autouse=True)
def small_pool() -> Iterator[None]:
    rv.shared_pool(workers=2)
    yield
    rv.close_pool()


def answer(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}```\nIt runs in O(1)."


SOLUTIONS = [
    "def scale_shift(value):\n    return value * 5 + 5\n",
    "def linear(value):\n    return value * 3 - 7\n",
    "n = int(input())\nm = int(input())\nprint(n * 3 - m * 5)\n",
]


def test_parquet_has_verls_layout(problems: list[Problem], tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = rv.write_parquet(problems, tmp_path / "train.parquet", split="train")
    table = pq.read_table(path)
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    schema = {f.name: str(f.type) for f in table.schema}
    assert schema["prompt"] == "list<element: struct<role: string, content: string>>"
    assert schema["reward_model"] == "struct<style: string, ground_truth: string>"
    rows = table.to_pylist()
    assert [r["data_source"] for r in rows] == ["rltf/builtin:basic"] * 3
    assert {r["ability"] for r in rows} == {"code"} and rows[0]["prompt"][0]["role"] == "user"
    assert rows[2]["extra_info"]["split"] == "train" and rows[2]["extra_info"]["index"] == 2
    assert Problem.from_dict(json.loads(rows[1]["reward_model"]["ground_truth"])) == problems[1]
    for row, problem in zip(rows, problems, strict=True):  # the tests never reach the prompt
        assert json.dumps(problem.tests.to_dict())[:40] not in row["prompt"][0]["content"]


def verl_call(row: dict[str, Any], response: str, **reward_kwargs: Any) -> Any:
    """What verl 0.9.1's NaiveRewardManager does per sample (keywords; it adds two keys to
    extra_info first), with the custom function's ``reward_kwargs`` bound as veRL binds them."""
    extra = dict(row["extra_info"], num_turns=None, rollout_reward_scores={})
    return rv.compute_score(
        data_source=row["data_source"],
        solution_str=response,
        ground_truth=row["reward_model"]["ground_truth"],
        extra_info=extra,
        **reward_kwargs,
    )


def test_compute_score_through_veRLs_calling_convention(problems: list[Problem]) -> None:
    rows = rv.to_rows(problems)
    assert [verl_call(r, answer(s)) for r, s in zip(rows, SOLUTIONS, strict=True)] == [1.0] * 3
    wrong = answer("def scale_shift(value):\n    return value * 5 + 4 if value else 5\n")
    assert verl_call(rows[0], wrong) == -0.3
    assert verl_call(rows[0], wrong, kind="pass") == 0.0
    assert verl_call(rows[0], wrong, kind="adaptive") == pytest.approx(-0.3 + 1.3 / 7)
    assert verl_call(rows[0], answer("def scale_shift(value):\n    return (\n")) == -1.0
    details = [verl_call(rows[0], answer(c), details=True) for c in (SOLUTIONS[0], "1/0\n")]
    assert details[0]["score"] == 1.0 and details[0]["outcome"] == "passed"
    assert details[1]["score"] == -0.6 and details[1]["error_type"] == "ZeroDivisionError"
    assert details[1]["error_line"] == 1 and details[1]["error_category"] == "line"
    assert details[0].keys() == details[1].keys()  # veRL appends every key per sample


HACKS = [
    (1, "def linear(value):\n    return 0\nimport sys\nsys.exit(0)\n"),
    (1, "def linear(value):\n    return 0\nimport os\nos._exit(0)\n"),
    (
        0,
        "class A:\n    def __eq__(self, o):\n        return True\ndef scale_shift(value):\n"
        "    return A()\n",
    ),
    (2, "import sys\nsys.exit(0)\n"),
]


def test_reward_hacks_score_as_failures_in_a_batch(problems: list[Problem]) -> None:
    rows = rv.to_rows(problems)
    picked = [rows[i] for i, _ in HACKS]
    scores = rv.compute_score_batch(
        data_sources=[r["data_source"] for r in picked],
        solution_strs=[answer(code) for _, code in HACKS],
        ground_truths=[r["reward_model"]["ground_truth"] for r in picked],
        extra_infos=[r["extra_info"] for r in picked],
        kind="pass",
    )
    assert scores == [0.0] * len(HACKS)


def test_rows_not_written_by_rltf_default_to_chat_answers(problems: list[Problem]) -> None:
    truth = json.dumps(problems[1].to_dict())
    assert rv.compute_score("mine", answer(SOLUTIONS[1]), truth) == 1.0  # no extra_info


class _BrokenPool:
    def submit(self, problem: Problem, program: str, mode: str = "train") -> Any:
        from concurrent.futures import Future

        f: Future[Verdict] = Future()
        err = ErrorInfo("SandboxError", "worker died twice", None, "global")
        f.set_result(Verdict("sandbox_error", (TestResult("sandbox_error"),), 0, 1, err))
        return f


def test_sandbox_error_is_never_a_score(
    problems: list[Problem], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rv, "_POOL", _BrokenPool())
    with pytest.raises(rv.SandboxFailure, match="not judged: worker died twice"):
        verl_call(rv.to_rows(problems)[0], answer(SOLUTIONS[0]))


def test_bad_input_is_named(problems: list[Problem]) -> None:
    row = rv.to_rows(problems)[0]
    with pytest.raises(ValueError, match="kind must be one of"):
        verl_call(row, answer(SOLUTIONS[0]), kind="exact")
    with pytest.raises(RecordError, match=r"compute_score\('x'\) ground_truth.*unknown problem"):
        rv.compute_score("x", "print(1)", "42")
    with pytest.raises(ValueError, match="2 data_sources, 1 solution_strs"):
        rv.compute_score_batch(["a", "b"], ["x"], ["y"])
    with pytest.raises(ValueError, match="prompt_style"):
        rv.to_rows(problems, prompt_style="nope")


def test_advantage_passthrough_and_reward_tensor() -> None:
    import torch

    rewards, ok = rv.token_reward_tensor([[0.5, -0.3], None, [1.0]], response_length=3)
    expected = [[0.5, -0.3, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    assert torch.allclose(rewards, torch.tensor(expected))
    assert ok.tolist() == [True, False, True]
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1]])
    adv, ret = rv.rltf_advantage(token_level_rewards=rewards, response_mask=mask, config=None)
    assert torch.equal(adv, rewards * mask) and torch.equal(ret, adv)
    with pytest.raises(ValueError, match="row 0: 4 token rewards for 3 positions"):
        rv.token_reward_tensor([[0.0] * 4], response_length=3)


def test_through_verls_own_reward_manager(problems: list[Problem], tmp_path: Path) -> None:
    """verl's NaiveRewardManager and BatchRewardManager on a DataProto, when verl is importable.

    verl 0.9.1 pins transformers 5.10 / tokenizers 0.22, so it is not in rltf's venv; to run
    this: ``pip install --target DIR --no-deps verl tensordict pyvers codetiming cloudpickle
    omegaconf`` and ``PYTHONPATH=DIR pytest tests/test_integrations_verl.py``."""
    pytest.importorskip("verl", reason="verl not importable (see this test's docstring)")
    import numpy as np
    import torch
    from verl import DataProto
    from verl.workers.reward_manager import BatchRewardManager, NaiveRewardManager

    from rltf.policy import build_tiny_model

    rows = rv.to_rows(problems)
    responses = [answer(SOLUTIONS[0]), answer("import sys\nsys.exit(0)\n"), answer("1/0\n")]
    path = build_tiny_model(tmp_path / "tok", responses + [r["prompt"][0]["content"] for r in rows])
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    ids = [tok(r, add_special_tokens=False)["input_ids"] for r in responses]
    width = max(map(len, ids))
    resp = torch.tensor([x + [tok.pad_token_id] * (width - len(x)) for x in ids])
    prompts = torch.ones(3, 2, dtype=torch.long)
    mask = torch.cat([torch.ones(3, 2), (resp != tok.pad_token_id).float()], dim=1).long()
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "attention_mask": mask},
        non_tensors={
            "data_source": np.array([rows[i]["data_source"] for i in (0, 1, 2)], dtype=object),
            "reward_model": np.array([rows[i]["reward_model"] for i in (0, 1, 2)], dtype=object),
            "extra_info": np.array([dict(rows[i]["extra_info"]) for i in (0, 1, 2)], dtype=object),
        },
    )
    naive = NaiveRewardManager(tok, num_examine=0, compute_score=rv.compute_score)
    out = naive(data, return_dict=True)
    lengths = [len(x) for x in ids]
    scores = [out["reward_tensor"][i, lengths[i] - 1].item() for i in range(3)]
    assert scores == pytest.approx([1.0, -0.6, -0.6])  # exiting before the asserts is an error
    batch = BatchRewardManager(tok, 0, rv.compute_score_batch, kind="pass")
    tensor = batch(data)
    assert [tensor[i, lengths[i] - 1].item() for i in range(3)] == [1.0, 0.0, 0.0]
