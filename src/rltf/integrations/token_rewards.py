"""RLTF's per-token rewards for other trainers, aligned to the completion's own token ids.

    results = completion_token_rewards(problem, [ids_1, ..., ids_k], tokenizer,
                                       config=RewardConfig(baseline="group"))
    results[i].rewards      # one float per id of ids_i (None: sandbox error, do not train on it)

A trainer that keeps per-token rewards (veRL's ``token_level_rewards``: a ``[batch, response
length]`` tensor; see docs/integrations/verl.md) hands over the ids it sampled. This module
decodes them the way rltf's own sampler does (:func:`rltf.policy.text.token_offsets`: exact
character spans per id, never a re-tokenisation), cuts at stop strings and extracts a chat answer's
fenced block as :meth:`rltf.policy.Policy.generate` does, runs the programs in the sandbox, and
scores them with :func:`rltf.feedback.advantages.score_round`: coarse + fine (error-line tokens) +
adaptive, paper or official mode, any baseline but ``greedy`` (which needs a greedy decode this
function does not have; use ``group`` or ``loo`` over the k completions of a problem, or ``none``).

The rewards already hold the baseline (they are advantages in the paper's loss
``−Σ_t r_t·log p(ŵ_t)``). Ids after a stop-string cut get 0: they are not part of the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltf.feedback import RewardConfig, TokenRewards
from rltf.feedback.advantages import score_round
from rltf.integrations._common import ProgramSpec, prompt_for
from rltf.policy.text import cut_tokens, fenced_code_span, find_stop, token_offsets
from rltf.records import Problem, Sample, Verdict

if TYPE_CHECKING:
    from rltf.execution import ExecutionPool


@dataclass(frozen=True)
class CompletionRewards:
    """Per completion: ``rewards`` (one per input id; None for a sandbox error, which must not
    train), the :class:`TokenRewards` record behind it (components, span, α), the Sample built
    from the ids and the Verdict."""

    rewards: list[float] | None
    record: TokenRewards | None
    sample: Sample
    verdict: Verdict


def completion_sample(
    problem_id: str,
    completion_ids: Sequence[int],
    tokenizer: Any,
    spec: ProgramSpec,
    truncated: bool = False,
    index: int = 0,
) -> Sample:
    """A :class:`Sample` for externally sampled ids (log-probs are not known here and are not
    needed for rewards: zeros). ``truncated``: the trainer stopped at its length limit (a syntax
    error at the end is then a ``global`` error, DESIGN.md §3)."""
    ids = [int(i) for i in completion_ids]
    text, offsets = token_offsets(tokenizer, ids)
    cut = find_stop(text, spec.stop)
    if cut is not None:
        offsets, text, truncated = cut_tokens(offsets, cut), text[:cut], False
        ids = ids[: len(offsets)]
    code_start, code_end = fenced_code_span(text) if spec.extract_code else (0, None)
    return Sample(
        problem_id=problem_id,
        prompt_ids=(),
        token_ids=tuple(ids),
        text=text,
        offsets=tuple(offsets),
        logprobs=(0.0,) * len(ids),
        truncated=truncated,
        policy_version=0,
        sample_index=index,
        program_prefix=spec.program_prefix,
        code_start=code_start,
        code_end=code_end,
    )


def completion_token_rewards(
    problems: Problem | Sequence[Problem],
    completions: Sequence[Sequence[int]],
    tokenizer: Any,
    *,
    config: RewardConfig | None = None,
    prompt_style: str = "auto",
    spec: ProgramSpec | None = None,
    truncated: Sequence[bool] | None = None,
    pool: ExecutionPool | None = None,
    workers: int | None = None,
) -> list[CompletionRewards]:
    """Per-token RLTF rewards for each completion (see the module doc).

    ``problems``: one Problem for all completions (a GRPO group) or one per completion; the
    baseline groups completions by problem id. ``spec`` (default: from ``prompt_style``, as in
    :func:`rltf.integrations.trl.to_dataset`) says how ids become a program. ``config`` defaults
    to full RLTF with a group baseline. ``pool``: an existing ExecutionPool, else one is started
    for this call with ``workers``.
    """
    config = config or RewardConfig(baseline="group")
    config.validate()
    if config.baseline == "greedy":
        raise ValueError(
            "config.baseline 'greedy' needs the greedy decode of each problem: use 'group', "
            "'loo' or 'none' with completion_token_rewards"
        )
    per = _per_completion(problems, len(completions))
    flags = list(truncated) if truncated is not None else [False] * len(completions)
    if len(flags) != len(completions):
        raise ValueError(f"truncated has {len(flags)} values for {len(completions)} completions")
    samples = [
        completion_sample(
            p.id, ids, tokenizer, spec or prompt_for(p, prompt_style, tokenizer)[1], t, i
        )
        for i, (p, ids, t) in enumerate(zip(per, completions, flags, strict=True))
    ]
    verdicts = _run(pool, workers, [(p, s.program) for p, s in zip(per, samples, strict=True)])
    scored = score_round(samples, verdicts, config)
    if scored.errors:
        index, message = scored.errors[0]
        raise ValueError(f"completion {index}: {message}")
    return [
        CompletionRewards(_aligned(rec, len(ids)), rec, s, v)
        for rec, ids, s, v in zip(scored.rewards, completions, samples, verdicts, strict=True)
    ]


def _per_completion(problems: Problem | Sequence[Problem], n: int) -> list[Problem]:
    if isinstance(problems, Problem):
        return [problems] * n
    if len(problems) != n:
        raise ValueError(f"{len(problems)} problems for {n} completions (one each, or one Problem)")
    return list(problems)


def _run(
    pool: ExecutionPool | None, workers: int | None, jobs: list[tuple[Problem, str]]
) -> list[Verdict]:
    if pool is not None:
        return pool.run_batch(jobs, mode="train")
    from rltf.execution import ExecutionPool

    with ExecutionPool(workers) as own:
        return own.run_batch(jobs, mode="train")


def _aligned(record: TokenRewards | None, length: int) -> list[float] | None:
    """The record's rewards padded with 0 to the input's length (ids cut by a stop string)."""
    if record is None:
        return None
    return list(record.rewards) + [0.0] * (length - len(record.rewards))


__all__ = ["CompletionRewards", "completion_sample", "completion_token_rewards"]
