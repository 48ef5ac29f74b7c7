"""rltf's sandboxed unit-test rewards for veRL (``pip install 'rltf[verl]'`` for the parquet writer).

Data: :func:`write_parquet` writes problems in veRL's layout (its ``examples/data_preprocess``
scripts and "Prepare Data for Post-Training" docs), one row per problem::

    data_source   str    "rltf/<source>" (veRL dispatches rewards on it; ours accepts any)
    prompt        list   chat messages [{"role": "user", "content": ...}] (veRL's RLHFDataset
                         applies the model's chat template)
    ability       str    "code"
    reward_model  {style: "rule", ground_truth: <the Problem record as JSON>}
    extra_info    {split, index, problem_id, program_prefix, stop, extract_code}

The tests travel in ``ground_truth`` and reach only the reward function, never the prompt.

Reward: :func:`compute_score` has veRL's ``custom_reward_function`` signature
``(data_source, solution_str, ground_truth, extra_info=None, **reward_kwargs)``, as its reward
managers call it (verl 0.9.1 ``NaiveRewardManager``: keywords; the same four per sample; ``dict``
results keep ``score`` as the reward and append every other key to ``reward_extra_info``).
:func:`compute_score_batch` is the ``BatchRewardManager`` form (lists in, a list out) and runs
the whole batch in parallel. In veRL's config::

    reward.custom_reward_function.path=<site-packages>/rltf/integrations/verl.py
    reward.custom_reward_function.name=compute_score      # or compute_score_batch
    reward.custom_reward_function.reward_kwargs.kind=coarse

veRL has no "skip this sample": a ``sandbox_error`` (the infrastructure failed, the program was not
judged) raises :class:`SandboxFailure` instead of being scored (the pool already retried once).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltf.feedback import RewardConfig
from rltf.integrations._common import (
    ProblemResolver,
    ProgramSpec,
    build_program,
    check_kind,
    problem_json,
    prompt_for,
    scalar_reward,
    verdict_details,
)
from rltf.records import Problem, Verdict
from rltf.tasks import STYLES

if TYPE_CHECKING:
    import torch

    from rltf.execution import ExecutionPool

ABILITY = "code"
_RESOLVE = ProblemResolver()
_POOL: ExecutionPool | None = None
_POOL_LOCK = threading.Lock()


class SandboxFailure(RuntimeError):
    """The sandbox failed on a program (``sandbox_error``): veRL cannot skip a sample, and an
    unjudged program must never be scored."""


def to_rows(
    problems: Sequence[Problem],
    split: str = "train",
    prompt_style: str = "chat",
    data_source: str | None = None,
) -> list[dict[str, Any]]:
    """veRL rows (see the module doc) for ``problems``. ``prompt_style`` other than ``chat``
    puts rltf's text prompt in a single user message (for a model whose chat template passes it
    through); ``data_source`` defaults to ``rltf/<problem source>``."""
    if prompt_style not in STYLES:
        raise ValueError(f"prompt_style must be one of {', '.join(STYLES)}, got {prompt_style!r}")
    if not problems:
        raise ValueError("to_rows: no problems given")
    rows = []
    for index, problem in enumerate(problems):
        prompt, spec = prompt_for(problem, prompt_style)
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        source = data_source or f"rltf/{problem.meta.get('source') or 'jsonl'}"
        extra = {"split": split, "index": index, "problem_id": problem.id}
        rows.append(
            {
                "data_source": source,
                "prompt": prompt,
                "ability": ABILITY,
                "reward_model": {"style": "rule", "ground_truth": problem_json(problem)},
                "extra_info": extra | spec.to_columns(),
            }
        )
    return rows


def write_parquet(problems: Sequence[Problem], path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`to_rows` (same keyword arguments) to a parquet file veRL's
    ``data.train_files`` / ``data.val_files`` can read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(to_rows(problems, **kwargs)), out)
    return out


def shared_pool(workers: int | None = None) -> ExecutionPool:
    """The process-wide pool all calls share (veRL calls the reward once per sample; starting
    workers each time would cost more than running the program). ``workers``: the first call's
    value, else ``$RLTF_WORKERS``, else the CPU count."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from rltf.execution import ExecutionPool

            env = os.environ.get("RLTF_WORKERS")
            _POOL = ExecutionPool(workers or (int(env) if env else None))
            atexit.register(close_pool)
        return _POOL


def close_pool() -> None:
    """Stop the shared pool's workers (a later call starts a new one)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.close()


def _job(
    solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None, where: str
) -> tuple[Problem, str]:
    if not isinstance(solution_str, str):
        raise TypeError(f"{where}: solution_str must be a str, got {type(solution_str).__name__}")
    problem = _RESOLVE(ground_truth, f"{where} ground_truth")
    extra = extra_info or {}
    if "program_prefix" in extra:
        stop = extra.get("stop")
        spec = ProgramSpec(
            str(extra["program_prefix"]),
            tuple(stop) if stop is not None else (),
            bool(extra.get("extract_code", True)),
        )
    else:  # a row not written by write_parquet: veRL prompts are chat messages
        spec = prompt_for(problem, "chat")[1]
    return problem, build_program(solution_str, spec)


def _result(verdict: Verdict, kind: str, details: bool, where: str) -> float | dict[str, Any]:
    score = scalar_reward(verdict, check_kind(kind), RewardConfig())
    if score is None:
        message = verdict.error.message if verdict.error else "sandbox error"
        raise SandboxFailure(f"{where}: the sandbox failed, the program was not judged: {message}")
    return {"score": score, **verdict_details(verdict)} if details else score


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    kind: str = "coarse",
    details: bool = False,
    workers: int | None = None,
    **_: Any,
) -> float | dict[str, Any]:
    """veRL ``custom_reward_function``: the response's program run against the problem's tests.

    ``kind``: ``pass`` (1/0), ``coarse`` (+1 / −0.3 / −0.6 / −1) or ``adaptive`` (−0.3 + 1.3·ρ
    for failed programs). ``details=True`` returns veRL's dict form: ``score`` plus the verdict's
    outcome, pass counts and error (same keys every sample). Extra keywords that veRL's managers
    add (``sandbox_fusion_url``, ...) are accepted and ignored.
    """
    check_kind(kind)
    where = f"compute_score({data_source!r})"
    problem, program = _job(solution_str, ground_truth, extra_info, where)
    verdict = shared_pool(workers).submit(problem, program, "train").result()
    return _result(verdict, kind, details, where)


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    kind: str = "coarse",
    details: bool = False,
    workers: int | None = None,
    **_: Any,
) -> list[float | dict[str, Any]]:
    """veRL ``BatchRewardManager`` form of :func:`compute_score`: all programs run in parallel."""
    check_kind(kind)
    n = len(solution_strs)
    extras = list(extra_infos) if extra_infos is not None else [None] * n
    if not len(data_sources) == len(ground_truths) == len(extras) == n:
        raise ValueError(
            f"compute_score_batch: {len(data_sources)} data_sources, {n} solution_strs, "
            f"{len(ground_truths)} ground_truths and {len(extras)} extra_infos (must be equal)"
        )
    wheres = [f"compute_score_batch row {i} ({data_sources[i]!r})" for i in range(n)]
    jobs = [_job(solution_strs[i], ground_truths[i], extras[i], wheres[i]) for i in range(n)]
    verdicts = shared_pool(workers).run_batch(jobs, mode="train")
    return [_result(v, kind, details, w) for v, w in zip(verdicts, wheres, strict=True)]


def rltf_advantage(
    token_level_rewards: torch.Tensor, response_mask: torch.Tensor, **_: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """A veRL advantage estimator that keeps RLTF's per-token rewards as the advantages.

    veRL's outcome estimators (GRPO, RLOO, ReMax, ...) start with
    ``token_level_rewards.sum(dim=-1)`` (verl 0.9.1 ``trainer/ppo/core_algos.py``), which folds
    the fine term's error-line penalty into one number for the whole response; GAE and
    REINFORCE++ turn them into returns-to-go. RLTF's rewards from
    :func:`rltf.integrations.token_rewards.completion_token_rewards` already hold their baseline,
    so they are the advantages of the paper's loss. Register it with
    ``verl.trainer.ppo.core_algos.register_adv_est("rltf")(rltf_advantage)`` and set
    ``algorithm.adv_estimator=rltf``. Returns ``(advantages, returns)``, both masked rewards.
    """
    advantages = token_level_rewards * response_mask
    return advantages, advantages


def token_reward_tensor(
    rewards: Sequence[Sequence[float] | None], response_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """veRL's ``reward_tensor`` (``[batch, response_length]``, zeros past each response) from
    per-token rewards, and a ``[batch]`` bool mask of the rows that may train (False for a
    sandbox error's None: drop those rows or zero their loss; a zero reward is still a score)."""
    import torch

    out = torch.zeros(len(rewards), response_length, dtype=torch.float32)
    ok = torch.ones(len(rewards), dtype=torch.bool)
    for i, row in enumerate(rewards):
        if row is None:
            ok[i] = False
            continue
        if len(row) > response_length:
            raise ValueError(f"row {i}: {len(row)} token rewards for {response_length} positions")
        out[i, : len(row)] = torch.tensor(list(row), dtype=torch.float32)
    return out, ok


__all__ = [
    "ABILITY",
    "SandboxFailure",
    "close_pool",
    "compute_score",
    "compute_score_batch",
    "rltf_advantage",
    "shared_pool",
    "to_rows",
    "token_reward_tensor",
    "write_parquet",
]
