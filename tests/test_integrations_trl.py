"""rltf.integrations.trl: CodeReward against rltf's own verdicts, reward hacks, TRL end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rltf.execution import ExecutionPool
from rltf.feedback import RewardConfig, coarse_reward
from rltf.integrations.trl import AsyncCodeReward, CodeReward, to_dataset
from rltf.records import ErrorInfo, Problem, RecordError, TestResult, Verdict
from rltf.tasks import load_dataset

pytest.importorskip("trl", reason="the 'trl' extra is not installed (pip install 'rltf[trl]')")


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    ps = load_dataset("builtin:basic")
    return [ps[0], ps[3], ps[7]]  # call (scale_shift), assert (linear), stdio (weighted)


@pytest.fixture(scope="module")
def pool() -> Iterator[ExecutionPool]:
    with ExecutionPool(workers=2) as p:
        yield p


def columns(dataset: Any, rows: list[int]) -> dict[str, list[Any]]:
    """What GRPOTrainer passes a reward: every column but ``prompt``, one value per completion."""
    return {k: [dataset[k][r] for r in rows] for k in dataset.column_names if k != "prompt"}


CALL_PASS = "    return value * 5 + 5\n"
CALL_FAIL = "    return value * 5 + 4 if value else 5\n"  # passes 1 of 7 cases
CALL_RUNTIME = "    return [][value]\n"
CALL_COMPILE = "    return (value\n"


def test_to_dataset_columns(problems: list[Problem]) -> None:
    ds = to_dataset(problems)
    assert ds.column_names == [
        "prompt",
        "problem",
        "problem_id",
        "program_prefix",
        "stop",
        "extract_code",
    ]
    assert Problem.from_dict(json.loads(ds["problem"][1])) == problems[1]
    assert ds["prompt"][0].endswith(problems[0].starter_code)  # completion style: continue it
    assert ds["program_prefix"][0] == problems[0].starter_code
    chat = to_dataset(problems, prompt_style="chat")
    assert chat["prompt"][0][0]["role"] == "user" and chat["extract_code"][0] is True
    with pytest.raises(ValueError, match="prompt_style"):
        to_dataset(problems, prompt_style="nope")


def test_kinds_match_the_rltf_reward_table(problems: list[Problem], pool: ExecutionPool) -> None:
    ds = to_dataset(problems)
    completions = [CALL_PASS, CALL_FAIL, CALL_RUNTIME, CALL_COMPILE]
    cols = columns(ds, [0, 0, 0, 0])
    prompts = [ds["prompt"][0]] * 4
    got = {
        kind: CodeReward(kind, pool=pool)(prompts, completions, **cols)
        for kind in ("pass", "coarse", "adaptive")
    }
    assert got["pass"] == [1.0, 0.0, 0.0, 0.0]
    assert got["coarse"] == [1.0, -0.3, -0.6, -1.0]
    assert got["adaptive"][0] == 1.0 and got["adaptive"][2:] == [-0.6, -1.0]
    assert got["adaptive"][1] == pytest.approx(-0.3 + 1.3 * 1 / 7)  # ρ = 1/7


def test_conversational_completions_use_the_fenced_block(
    problems: list[Problem], pool: ExecutionPool
) -> None:
    ds = to_dataset(problems, prompt_style="chat")
    answer = "Here:\n```python\ndef linear(value):\n    return value * 3 - 7\n```\nDone."
    completions = [[{"role": "assistant", "content": answer}]]
    cols = columns(ds, [1])
    assert CodeReward("pass", pool=pool)([ds["prompt"][1]], completions, **cols) == [1.0]


# Hacks that must never pass (docs/execution.md threat model): leave before the tests run, or
# return an object that claims to equal anything.
HACKS = [
    (1, "    return 0\nimport sys\nsys.exit(0)\n"),
    (1, "    return 0\nimport os\nos._exit(0)\n"),
    (
        0,
        "    class Any:\n        def __eq__(self, other):\n            return True\n    return Any()\n",
    ),
    (2, "    return 0\nimport sys\nsys.exit(0)\n"),
]


@pytest.mark.parametrize(("row", "completion"), HACKS)
def test_reward_hacks_score_as_failures(
    problems: list[Problem], pool: ExecutionPool, row: int, completion: str
) -> None:
    ds = to_dataset(problems)
    cols = columns(ds, [row])
    assert CodeReward("pass", pool=pool)([ds["prompt"][row]], [completion], **cols) == [0.0]
    (coarse,) = CodeReward("coarse", pool=pool)([ds["prompt"][row]], [completion], **cols)
    assert coarse is not None and coarse < 0


def test_async_reward_equals_sync_and_trl_awaits_it(
    problems: list[Problem], pool: ExecutionPool
) -> None:
    from trl.trainer.utils import is_async_callable

    ds = to_dataset(problems)
    completions, cols = [CALL_PASS, CALL_RUNTIME], columns(ds, [0, 0])
    sync = CodeReward("coarse", pool=pool)
    async_ = AsyncCodeReward("coarse", pool=pool)
    assert is_async_callable(async_) and not is_async_callable(sync)
    expected = sync([""] * 2, completions, **cols)
    assert asyncio.run(async_([""] * 2, completions, **cols)) == expected == [1.0, -0.6]


class _BrokenPool:
    """Stands in for a pool whose sandbox failed on every program."""

    def run_batch(self, jobs: list[tuple[Problem, str]], mode: str = "train") -> list[Verdict]:
        err = ErrorInfo("SandboxError", "worker died twice", None, "global")
        return [Verdict("sandbox_error", (TestResult("sandbox_error"),), 0, 1, err) for _ in jobs]


def test_sandbox_errors_are_none_never_a_score(problems: list[Problem]) -> None:
    ds = to_dataset(problems)
    reward = CodeReward("coarse", pool=_BrokenPool())  # type: ignore[arg-type]
    assert reward([""], [CALL_PASS], **columns(ds, [0])) == [None]


def test_bad_input_names_the_row_or_argument(problems: list[Problem], pool: ExecutionPool) -> None:
    with pytest.raises(ValueError, match="kind must be one of 'pass', 'coarse', 'adaptive'"):
        CodeReward("exact")
    reward = CodeReward("coarse", pool=pool, problems=problems)
    with pytest.raises(KeyError, match="no 'problem' column"):
        reward([""], [CALL_PASS], problem_id=["x"])
    with pytest.raises(RecordError, match=r"row 1.*unknown problem 'nope'"):
        reward(["", ""], [CALL_PASS, CALL_PASS], problem=[problems[0].id, "nope"])
    # ids resolve against `problems`, and the program spec is derived from the prompt style
    assert reward([""], [CALL_PASS], problem=[problems[0].id]) == [1.0]
    with pytest.raises(ValueError, match="row 0: expected a completion string"):
        reward([""], [42], problem=[problems[0].id])


# -- a real GRPOTrainer ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warm_model(tmp_path_factory: pytest.TempPathFactory, problems: list[Problem]) -> Path:
    """A tiny GPT-2 fitted for a few seconds on the solutions, so sampled completions mix
    passes, wrong answers and errors (a random model only writes compile errors)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rltf.policy import build_tiny_model

    prompts = list(to_dataset(problems)["prompt"])
    bodies = [p.solutions[0][len(p.starter_code) :] for p in problems]
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"), prompts + bodies, n_layer=1, n_embd=32)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    # Prompt and completion tokenized apart, as GRPOTrainer does (a merged "\n    " token at the
    # seam would never be sampled after the prompt).
    seqs = [
        tok(pr)["input_ids"] + tok(b, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        for pr, b in zip(prompts, bodies, strict=True)
    ]
    width = max(map(len, seqs))
    ids = torch.tensor([s + [tok.pad_token_id] * (width - len(s)) for s in seqs])
    mask = (torch.arange(width)[None] < torch.tensor([len(s) for s in seqs])[:, None]).long()
    labels = ids.masked_fill(mask == 0, -100)
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(35):  # half-fitted: some samples pass, some do not
        opt.zero_grad()
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        opt.step()
    model.save_pretrained(path)
    return Path(path)


def test_grpo_trainer_logs_the_rewards_rltf_execute_gives(
    warm_model: Path, problems: list[Problem], tmp_path: Path
) -> None:
    import pandas as pd
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from rltf.cli import main

    args = GRPOConfig(
        output_dir=str(tmp_path / "grpo"),
        per_device_train_batch_size=6,
        num_generations=3,
        max_completion_length=48,
        max_steps=2,
        logging_steps=1,
        log_completions=True,  # writes completions/completions_<step>.parquet
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        seed=0,
    )
    with CodeReward("coarse", workers=2) as reward:
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(warm_model),
            reward_funcs=reward,
            args=args,
            train_dataset=to_dataset(problems * 2),
            processing_class=AutoTokenizer.from_pretrained(warm_model),
        )
        trainer.train()
    logged = pd.concat(
        pd.read_parquet(f) for f in sorted((tmp_path / "grpo" / "completions").glob("*.parquet"))
    )
    assert len(logged) == 12 and trainer.state.global_step == 2
    assert len(set(logged["rltf_coarse_outcome"])) >= 2  # the check sees more than one outcome

    # The same completions through `rltf execute`, scored with rltf.feedback's own table.
    by_prompt = {to_dataset([p])["prompt"][0]: p for p in problems}
    (tmp_path / "problems.jsonl").write_text(
        "".join(json.dumps(p.to_dict()) + "\n" for p in problems)
    )
    rows = [
        {"problem_id": by_prompt[pr].id, "program": by_prompt[pr].starter_code + c}
        for pr, c in zip(logged["prompt"], logged["completion"], strict=True)
    ]
    (tmp_path / "programs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["execute", "--dataset", f"jsonl:{tmp_path / 'problems.jsonl'}",
                 "--programs", str(tmp_path / "programs.jsonl"),
                 "--out", str(tmp_path / "verdicts.jsonl"), "--workers", "2"]) == 0  # fmt: skip
    verdicts = [
        Verdict.from_dict(json.loads(line))
        for line in (tmp_path / "verdicts.jsonl").read_text().splitlines()
    ]
    expected = [coarse_reward(v, RewardConfig()) for v in verdicts]
    assert logged["rltf_coarse"].tolist() == pytest.approx(expected)
    assert logged["rltf_coarse_outcome"].tolist() == [v.outcome for v in verdicts]
    means = [h["rewards/rltf_coarse/mean"] for h in trainer.state.log_history if "reward" in h]
    assert means == pytest.approx([sum(expected[:6]) / 6, sum(expected[6:]) / 6])
