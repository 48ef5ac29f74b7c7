"""From a Verdict to one reward per generated token (RLTF, Liu et al. 2023; DESIGN.md §3).

Paper mode (the losses of the paper; every term switchable by RewardConfig):

    r_t = s · (R_coarse(Ŵ) − R_coarse(Ŵ_b))                   if coarse
        + α · (R_fine(Ŵ) − F_b) · 1[S ≤ t ≤ E]                 if fine
        + s · (R_adaptive(Ŵ) − R_adaptive(Ŵ_b))               if adaptive
    α = min(T / (E − S + 1), fine_alpha_cap)                  T = number of generated tokens

The paper writes α = T/(E − S); with inclusive token indices E − S is one less than the number of
penalised tokens and is 0 for a one-token line, so rltf divides by the token count E − S + 1
(a deliberate clarification: α·|span| = T, a line penalty carries the weight of a global one).
Two departures from the paper, both switchable (``fine_alpha_cap: null, fine_baseline: false``
is the paper verbatim): α is capped (default 1: the paper's α puts ~20x the coarse per-token value
on a short error line) and the fine reward is baselined, F_b = R_fine(Ŵ_b) (group/loo: the mean
over the problem's samples), so a problem whose samples all err alike is not pushed down on its
error lines regardless. s = 1, or 1/std of the group's rewards with ``normalize: group`` (GRPO);
a positive scale, so it never changes a sign.

Official-code mode (Zyq-scut/RLTF, ``datasets/apps_dataset_online_v1.py``, ``detailed_type 1``):

    R(W)  = R_adaptive(W) if W failed (and adaptive is on) else R_coarse(W)
    r_t   = c_t · ( R(Ŵ) + R_fine(Ŵ) · 1[S ≤ t ≤ E] − R(Ŵ_b) )   α = 1

where ``c_t`` is the frozen CodeRL critic's probability of the sample's outcome at token t (the
critic is unavailable: pass ``critic_weights``, else c_t = 1). The official α is
``len(mask) / len(mask == 1)`` — the length of a boolean array, i.e. 1. Timeouts are runtime
errors (−0.6) in both modes and ``global`` (the official code sends them to ``ignore``).

The RL loss is ``−Σ_t r_t · log p(ŵ_t)`` (rltf.training.losses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from rltf.feedback.categories import categorize_verdict
from rltf.feedback.config import BaselineKind, RewardConfig
from rltf.feedback.record import Baseline, TokenRewards
from rltf.feedback.spans import error_token_span, program_token_span
from rltf.records import Category, Sample, Verdict


class NotTrainableError(ValueError):
    """A Verdict that must never become a reward (``sandbox_error``: the infrastructure failed,
    the program was not judged)."""


def is_trainable(verdict: Verdict) -> bool:
    """False for ``sandbox_error`` verdicts, which are never turned into rewards."""
    return verdict.outcome != "sandbox_error"


def _check_trainable(verdict: Verdict, what: str) -> None:
    if not is_trainable(verdict):
        raise NotTrainableError(
            f"{what} has outcome 'sandbox_error' (the sandbox failed, the program was not "
            f"judged): it must not be turned into a reward; filter it with is_trainable()"
        )


@lru_cache(maxsize=64)
def _validated(config: RewardConfig) -> RewardConfig:
    config.validate()
    return config


def coarse_reward(verdict: Verdict, config: RewardConfig) -> float:
    """R_coarse: +1 passed, −0.3 failed, −0.6 runtime error or timeout, −1 compile error."""
    _check_trainable(verdict, "verdict")
    return {
        "passed": config.reward_pass,
        "failed": config.reward_fail,
        "runtime_error": config.reward_runtime,
        "timeout": config.reward_runtime,
        "compile_error": config.reward_compile,
    }[verdict.outcome]


def adaptive_reward(verdict: Verdict, config: RewardConfig) -> float:
    """R_adaptive = −0.3 + 1.3·ρ with ρ = passed/total (tests that did not run count as not
    passed): the failed reward moved linearly to the pass reward as ρ goes from 0 to 1."""
    _check_trainable(verdict, "verdict")
    return config.reward_fail + (config.reward_pass - config.reward_fail) * verdict.pass_ratio


def official_reward(verdict: Verdict, config: RewardConfig) -> float:
    """The official code's sample reward (``get_reward_from_error_type(e, pass_ratio)``):
    R_adaptive for a failed program when adaptive is on, else R_coarse."""
    if config.adaptive and verdict.outcome == "failed":
        return adaptive_reward(verdict, config)
    return coarse_reward(verdict, config)


def fine_reward(verdict: Verdict, sample: Sample | None, config: RewardConfig) -> float:
    """R_fine(Ŵ) before α: the fine penalty for an error of category global or line, else 0."""
    _check_trainable(verdict, "verdict")
    if verdict.outcome not in ("runtime_error", "compile_error", "timeout"):
        return 0.0
    return config.fine_penalty if categorize_verdict(verdict, sample) != "ignore" else 0.0


RewardValues = tuple[float, float, float, float]  # coarse, adaptive, official, fine


def reward_values(verdict: Verdict, sample: Sample | None, config: RewardConfig) -> RewardValues:
    """A program's sample-level rewards, as a baseline needs them."""
    replaced = (
        adaptive_reward(verdict, config)
        if verdict.outcome == "failed"
        else coarse_reward(verdict, config)
    )
    coarse, adaptive = coarse_reward(verdict, config), adaptive_reward(verdict, config)
    return coarse, adaptive, replaced, fine_reward(verdict, sample, config)


def mean_baseline(kind: BaselineKind, values: Sequence[RewardValues]) -> Baseline:
    """A baseline whose rewards are the means of ``values`` (zeros with n = 0 when empty)."""
    if not values:
        return Baseline(kind, n=0)
    k = len(values)
    means = [sum(v[i] for v in values) / k for i in range(4)]
    return Baseline(kind, means[0], means[1], means[2], n=k, fine=means[3])


def baseline_from_verdict(
    verdict: Verdict, sample: Sample | None = None, config: RewardConfig | None = None
) -> Baseline:
    """Greedy baseline: the rewards of the greedy decode Ŵ_b of the same problem (``sample``,
    the greedy Sample, refines the category of its fine reward: truncation). Raises
    :class:`NotTrainableError` for a ``sandbox_error`` verdict — fall back to a group baseline
    or drop the problem's samples."""
    config = _validated(config or RewardConfig())
    _check_trainable(verdict, "the greedy baseline's verdict")
    return replace(mean_baseline("greedy", [reward_values(verdict, sample, config)]), n=1)


def group_baseline(
    verdicts: Sequence[Verdict],
    config: RewardConfig | None = None,
    samples: Sequence[Sample] | None = None,
) -> Baseline:
    """Group baseline: mean rewards of the k samples of one problem (sandbox errors excluded;
    a group with none left gives zeros with ``n = 0``). ``samples`` (same order) refine the
    fine rewards' categories."""
    config = _validated(config or RewardConfig())
    pairs = zip(verdicts, samples if samples is not None else [None] * len(verdicts), strict=True)
    return mean_baseline(
        "group", [reward_values(v, s, config) for v, s in pairs if is_trainable(v)]
    )


def fine_span(sample: Sample, verdict: Verdict) -> tuple[Category, tuple[int, int] | None]:
    """The category of the sample's error and the token span its fine term covers:
    all of the program for ``global``, the error line's tokens for ``line`` (None when that
    line was not generated, e.g. it lies in the HumanEval prompt: no fine term), None for
    ``ignore``."""
    category = categorize_verdict(verdict, sample)
    if category == "global":
        return category, program_token_span(sample)
    if category == "line" and verdict.error is not None and verdict.error.line is not None:
        return category, error_token_span(sample, verdict.error.line)
    return category, None


def token_rewards(
    sample: Sample,
    verdict: Verdict,
    baseline: Baseline | None,
    config: RewardConfig,
    critic_weights: Sequence[float] | None = None,
    outcome_scale: float = 1.0,
) -> TokenRewards:
    """One reward per generated token of ``sample`` (see the module doc for the formulas).

    ``baseline`` is None exactly when ``config.baseline == "none"`` (a zero baseline); its kind
    must match the config otherwise, so a forgotten baseline is an error, not a silent change of
    algorithm. ``critic_weights`` (one per generated token) multiply every component: the hook
    for the official code's CodeRL critic. ``outcome_scale`` (s > 0) multiplies the coarse and
    adaptive terms (group normalisation, :mod:`rltf.feedback.advantages`). Raises
    :class:`NotTrainableError` for a ``sandbox_error`` verdict.
    """
    config = _validated(config)
    if not (outcome_scale > 0 and math.isfinite(outcome_scale)):
        raise ValueError(f"outcome_scale must be a finite number > 0, got {outcome_scale}")
    _check_trainable(verdict, f"sample {sample.problem_id}#{sample.sample_index}")
    base = _resolve_baseline(baseline, config)
    n = len(sample.token_ids)
    if critic_weights is not None and len(critic_weights) != n:
        raise ValueError(
            f"critic_weights has {len(critic_weights)} values for {n} generated tokens "
            f"(sample {sample.problem_id}#{sample.sample_index})"
        )

    r_coarse = coarse_reward(verdict, config)
    r_adaptive = adaptive_reward(verdict, config)
    category, span = fine_span(sample, verdict)
    r_fine = fine_reward(verdict, sample, config)
    if not (config.fine and r_fine != 0.0):
        span = None

    if config.mode == "paper":
        coarse = outcome_scale * (r_coarse - base.coarse) if config.coarse else 0.0
        adaptive = outcome_scale * (r_adaptive - base.adaptive) if config.adaptive else 0.0
        alpha = n / (span[1] - span[0] + 1) if span is not None else 0.0
        if config.fine_alpha_cap is not None:
            alpha = min(alpha, config.fine_alpha_cap)
        fine_value = alpha * (r_fine - (base.fine if config.fine_baseline else 0.0))
    else:  # official: adaptive replaces the failed reward; its effect is reported separately
        coarse = outcome_scale * (r_coarse - base.coarse)
        sample_delta = official_reward(verdict, config) - r_coarse
        base_delta = (base.official - base.coarse) if config.adaptive else 0.0
        adaptive = outcome_scale * (sample_delta - base_delta)
        alpha = 1.0 if span is not None else 0.0
        fine_value = alpha * r_fine
    weights = critic_weights if critic_weights is not None else (1.0,) * n
    c_list, f_list, a_list, r_list = [], [], [], []
    for t, w in enumerate(weights):
        w = float(w)
        f = fine_value if span is not None and span[0] <= t <= span[1] else 0.0
        c, f, a = w * coarse, w * f, w * adaptive
        c_list.append(c)
        f_list.append(f)
        a_list.append(a)
        r_list.append(c + f + a)
    return TokenRewards(
        rewards=tuple(r_list),
        coarse=tuple(c_list),
        fine=tuple(f_list),
        adaptive=tuple(a_list),
        mode=config.mode,
        outcome=verdict.outcome,
        category=category,
        span=span,
        alpha=alpha,
        r_coarse=r_coarse,
        r_adaptive=r_adaptive,
        r_fine=r_fine,
        baseline=base,
        critic_weighted=critic_weights is not None,
        outcome_scale=outcome_scale,
    )


def _resolve_baseline(baseline: Baseline | None, config: RewardConfig) -> Baseline:
    if config.baseline == "none":
        if baseline is not None and baseline.kind != "none":
            raise ValueError(
                f"config.baseline is 'none' but a {baseline.kind!r} baseline was passed"
            )
        return Baseline.none()
    if baseline is None:
        raise ValueError(
            f"config.baseline is {config.baseline!r} but no baseline was passed "
            f"(use baseline_from_verdict / group_baseline, or set baseline: none)"
        )
    if baseline.kind != config.baseline:
        raise ValueError(
            f"config.baseline is {config.baseline!r} but a {baseline.kind!r} baseline was passed"
        )
    return baseline
