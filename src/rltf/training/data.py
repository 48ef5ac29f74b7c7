"""What the learner and the actor read: problems in a seeded, resumable order; reference
solutions as (prompt ids, target ids) pairs; and the policy (including the tiny demo model)."""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from rltf.policy import Policy, load_policy
from rltf.policy.config import PolicyConfig
from rltf.records import Problem
from rltf.tasks import load_dataset
from rltf.tasks.prompts import Prompt, format_prompt
from rltf.training.config import TINY, DataConfig, TinyModelSettings

log = logging.getLogger("rltf.training")
T = TypeVar("T")


class EpochSampler(Generic[T]):
    """Items in a fresh random order each epoch. The order of epoch e is a pure function of
    (seed, e), so the position (epoch, index) is the sampler's whole state: checkpointable as two
    integers and exactly resumable."""

    def __init__(self, items: Sequence[T], seed: int) -> None:
        if not items:
            raise ValueError("EpochSampler: no items")
        self.items = list(items)
        self.seed = seed
        self.epoch = 0
        self.index = 0
        self._order = self._permutation(0)
        self._lock = threading.Lock()  # the actor thread draws while the learner checkpoints

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(len(self.items)))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        return order

    def next(self, n: int) -> list[T]:
        with self._lock:
            out = []
            for _ in range(n):
                if self.index >= len(self._order):
                    self.epoch, self.index = self.epoch + 1, 0
                    self._order = self._permutation(self.epoch)
                out.append(self.items[self._order[self.index]])
                self.index += 1
            return out

    def state_dict(self) -> dict[str, int]:
        with self._lock:
            return {"epoch": self.epoch, "index": self.index, "size": len(self.items)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state.get("size", len(self.items)) != len(self.items):
            log.warning(
                "resuming with %d items where the checkpoint had %s: the order differs",
                len(self.items),
                state.get("size"),
            )
        with self._lock:
            self.epoch, self.index = int(state["epoch"]), int(state["index"])
            self._order = self._permutation(self.epoch)


@dataclass(frozen=True)
class SLExample:
    """One reference solution, tokenised: the target tokens are the solution followed by EOS
    (the model must also learn to stop)."""

    problem_id: str
    prompt_ids: tuple[int, ...]
    target_ids: tuple[int, ...]


def load_problems(cfg: DataConfig) -> list[Problem]:
    problems = load_dataset(cfg.train, skip_invalid=cfg.skip_invalid)
    if cfg.difficulties:
        problems = [p for p in problems if p.difficulty in cfg.difficulties]
    if cfg.limit is not None:
        problems = problems[: cfg.limit]
    if not problems:
        raise ValueError(
            f"data.train {cfg.train!r}: no problems (difficulties: {cfg.difficulties})"
        )
    if cfg.reference_fraction < 1:
        problems = [
            p if keeps_reference(p.id, cfg.reference_fraction) else replace(p, solutions=())
            for p in problems
        ]
        kept = sum(bool(p.solutions) for p in problems)
        log.info(
            "data.reference_fraction %g: SL uses the solutions of %d of %d problems",
            cfg.reference_fraction,
            kept,
            len(problems),
        )
    return problems


def keeps_reference(problem_id: str, fraction: float) -> bool:
    """Whether ``problem_id`` is among the ``fraction`` of problems whose reference solutions
    SL uses: a hash of the id, so the choice is the same in every run, seed and stage."""
    digest = hashlib.sha256(problem_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2**64


def make_prompts(problems: Sequence[Problem], style: str, tokenizer: Any) -> dict[str, Prompt]:
    return {p.id: format_prompt(p, style, tokenizer) for p in problems}


def target_text(solution: str, prompt: Prompt) -> str:
    """What the model should generate for ``solution`` under ``prompt``: a chat model answers
    with a fenced block (the code is extracted from it); a completion prompt (HumanEval) already
    contains ``program_prefix``, so only the rest of the solution is the target."""
    if prompt.program_prefix and solution.startswith(prompt.program_prefix):
        solution = solution[len(prompt.program_prefix) :]
    if prompt.extract_code:
        return f"```python\n{solution.rstrip()}\n```"
    return solution


def sl_examples(
    problems: Sequence[Problem],
    prompts: dict[str, Prompt],
    policy: Policy,
    max_prompt_tokens: int | None,
    max_target_tokens: int,
) -> list[SLExample]:
    """Every (problem, reference solution) pair, tokenised once."""
    tok = policy.tokenizer
    eos = tok.eos_token_id if tok.eos_token_id is not None else min(policy.eos_ids)
    out = []
    for problem in problems:
        prompt = prompts[problem.id]
        prompt_ids = tuple(policy.encode_prompt(prompt, max_prompt_tokens))
        for solution in problem.solutions:
            ids = list(tok(target_text(solution, prompt), add_special_tokens=False)["input_ids"])
            ids = [*ids, int(eos)][:max_target_tokens]
            out.append(SLExample(problem.id, prompt_ids, tuple(ids)))
    return out


def tiny_corpus(problems: Sequence[Problem]) -> list[str]:
    return [text for p in problems for text in (p.prompt, p.starter_code, *p.solutions) if text]


def build_policy(
    cfg: PolicyConfig,
    tiny: TinyModelSettings,
    run_dir: Path,
    problems: Sequence[Problem],
    seed: int,
) -> Policy:
    """Load the policy; ``model: tiny`` first builds a tiny model from the training problems
    (once per run directory, so a resumed run reuses the same tokenizer)."""
    name = cfg.model
    if name == TINY:
        out = run_dir / "tiny-model"
        if not (out / "config.json").is_file():
            from rltf.policy import build_tiny_model

            log.info("building a tiny %s model in %s", tiny.arch, out)
            build_tiny_model(
                out,
                tiny_corpus(problems),
                arch=tiny.arch,
                vocab_size=tiny.vocab_size,
                n_layer=tiny.n_layer,
                n_embd=tiny.n_embd,
                n_head=tiny.n_head,
                seed=seed,
            )
        name = str(out)
    return load_policy(
        name,
        dtype=cfg.dtype,
        device=cfg.device,
        lora=cfg.lora,
        trust_remote_code=cfg.trust_remote_code,
    )
