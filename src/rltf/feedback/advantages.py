"""Advantages of a round: every sample's per-token rewards minus its problem's baseline, scaled.

One function, :func:`score_round`, turns the samples and verdicts of an actor round into
:class:`TokenRewards` for every baseline kind (``RewardConfig.baseline``):

* ``greedy`` — Ŵ_b is the greedy decode of the same problem (official RLTF/CodeRL code); when its
  verdict is missing or a sandbox error, the group mean stands in (counted as a fallback);
* ``group``  — the mean reward of the problem's k samples, the sample itself included (GRPO);
* ``loo``    — the mean over the problem's *other* k−1 samples (RLOO, Ahmadian et al. 2024): the
  baseline does not depend on the sample, so the estimate stays unbiased. A problem with a single
  judged sample has no other sample: its advantage is 0 (baseline = its own reward);
* ``none``   — a zero baseline.

With ``normalize: group`` the outcome terms (coarse, adaptive) of a problem are divided by
``max(std_k(R), normalize_min_std)``, R = the sample-level outcome reward (R_coarse + R_adaptive
for the terms that are on; population std over the k samples, as GRPO). The fine term is bounded
by ``fine_alpha_cap`` instead and is not scaled.

Sandbox errors never become rewards: their entries are None and they count in no baseline.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rltf.feedback.config import RewardConfig
from rltf.feedback.record import Baseline, TokenRewards
from rltf.feedback.rewards import (
    baseline_from_verdict,
    is_trainable,
    mean_baseline,
    reward_values,
    token_rewards,
)
from rltf.records import Sample, Verdict


@dataclass(frozen=True)
class ScoredRound:
    """Per sample (input order): its TokenRewards, or None when it must not train (sandbox
    error, or no verdict). ``fallbacks``: problems whose greedy baseline was replaced by the
    group mean; ``errors``: (index, message) of samples that could not be scored."""

    rewards: list[TokenRewards | None]
    fallbacks: int = 0
    errors: tuple[tuple[int, str], ...] = ()


def outcome_return(values: tuple[float, float, float, float], config: RewardConfig) -> float:
    """The sample-level outcome reward whose group std normalises the advantages."""
    coarse, adaptive, official, _ = values
    if config.mode == "official":
        return official if config.adaptive else coarse
    return (coarse if config.coarse else 0.0) + (adaptive if config.adaptive else 0.0)


def problem_baselines(
    samples: Sequence[Sample],
    verdicts: Sequence[Verdict],
    config: RewardConfig,
    greedy: tuple[Sample, Verdict | None] | None = None,
) -> tuple[list[Baseline | None], bool]:
    """The baseline of each judged sample of ONE problem, and whether the greedy baseline fell
    back to the group mean."""
    values = [reward_values(v, s, config) for s, v in zip(samples, verdicts, strict=True)]
    kind = config.baseline
    if kind == "none":
        return [None] * len(samples), False
    if kind == "greedy":
        if greedy is not None and greedy[1] is not None and is_trainable(greedy[1]):
            base = baseline_from_verdict(greedy[1], greedy[0], config)
            return [base] * len(samples), False
        return [replace(mean_baseline("greedy", values), n=0)] * len(samples), True
    if kind == "group" or len(values) < 2:
        group = replace(mean_baseline("group", values), kind=kind)
        return [group] * len(samples), False
    return [mean_baseline("loo", values[:i] + values[i + 1 :]) for i in range(len(values))], False


def outcome_scale(
    samples: Sequence[Sample], verdicts: Sequence[Verdict], config: RewardConfig
) -> float:
    """1 / max(std of the group's outcome rewards, normalize_min_std) under ``normalize: group``,
    else 1."""
    if config.normalize != "group" or len(samples) < 2:
        return 1.0
    returns = [
        outcome_return(reward_values(v, s, config), config)
        for s, v in zip(samples, verdicts, strict=True)
    ]
    return 1.0 / max(statistics.pstdev(returns), config.normalize_min_std)


def score_round(
    samples: Sequence[Sample],
    verdicts: Sequence[Verdict | None],
    config: RewardConfig,
    greedy: Mapping[str, tuple[Sample, Verdict | None]] | None = None,
) -> ScoredRound:
    """TokenRewards for every sample of a round (see the module doc). ``greedy``: problem id ->
    (greedy Sample, its Verdict or None) when ``config.baseline == "greedy"``."""
    if len(samples) != len(verdicts):
        raise ValueError(f"{len(samples)} samples but {len(verdicts)} verdicts")
    groups: dict[str, list[int]] = {}
    for i, (s, v) in enumerate(zip(samples, verdicts, strict=True)):
        if v is not None and is_trainable(v):
            groups.setdefault(s.problem_id, []).append(i)
    out: list[TokenRewards | None] = [None] * len(samples)
    fallbacks, errors = 0, []
    for pid, idx in groups.items():
        group_s = [samples[i] for i in idx]
        group_v = [verdicts[i] for i in idx]
        judged: list[Verdict] = [v for v in group_v if v is not None]
        bases, fell_back = problem_baselines(group_s, judged, config, (greedy or {}).get(pid))
        fallbacks += fell_back
        scale = outcome_scale(group_s, judged, config)
        for i, s, v, base in zip(idx, group_s, judged, bases, strict=True):
            try:
                out[i] = token_rewards(s, v, base, config, outcome_scale=scale)
            except ValueError as e:  # e.g. a sample whose offsets do not cover its program
                errors.append((i, str(e)))
    return ScoredRound(out, fallbacks, tuple(errors))


__all__ = ["ScoredRound", "outcome_return", "outcome_scale", "problem_baselines", "score_round"]
