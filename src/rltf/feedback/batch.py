"""The batch path used by the learner: rewards for many samples, padded into one tensor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from rltf.feedback.config import RewardConfig
from rltf.feedback.record import Baseline, TokenRewards
from rltf.feedback.rewards import token_rewards
from rltf.records import Sample, Verdict

if TYPE_CHECKING:  # torch is imported lazily: the execution workers import rltf.feedback
    import torch

Component = Literal["rewards", "coarse", "fine", "adaptive"]


def batch_token_rewards(
    samples: Sequence[Sample],
    verdicts: Sequence[Verdict],
    baselines: Sequence[Baseline | None],
    config: RewardConfig,
    critic_weights: Sequence[Sequence[float] | None] | None = None,
) -> list[TokenRewards]:
    """:func:`token_rewards` for each ``(sample, verdict, baseline)``, in order. Raises (naming
    the index) on the first sample that cannot be scored, e.g. a ``sandbox_error`` verdict."""
    n = len(samples)
    if len(verdicts) != n or len(baselines) != n:
        raise ValueError(
            f"{n} samples, {len(verdicts)} verdicts and {len(baselines)} baselines: one each"
        )
    if critic_weights is not None and len(critic_weights) != n:
        raise ValueError(f"{len(critic_weights)} critic weight rows for {n} samples")
    out = []
    for i in range(n):
        weights = critic_weights[i] if critic_weights is not None else None
        try:
            out.append(token_rewards(samples[i], verdicts[i], baselines[i], config, weights))
        except ValueError as e:
            raise type(e)(f"batch item {i}: {e}") from e
    return out


def pad_rewards(
    records: Sequence[TokenRewards],
    length: int | None = None,
    component: Component = "rewards",
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``[B, T]`` tensor of per-token rewards (or one component), right-padded with 0 to the
    longest record (or to ``length``, which must not cut a record)."""
    import torch

    longest = max((len(r) for r in records), default=0)
    width = longest if length is None else length
    if width < longest:
        raise ValueError(f"length {width} is shorter than the longest record ({longest} tokens)")
    out = torch.zeros(len(records), width, dtype=dtype or torch.float32)
    for i, r in enumerate(records):
        if len(r):
            out[i, : len(r)] = torch.tensor(getattr(r, component), dtype=out.dtype)
    return out
