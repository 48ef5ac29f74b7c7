"""The RLTF loss, in one short file (DESIGN.md §3; Liu et al. 2023, eqs. 2–6).

    L = L_sl + L_coarse + L_fine + L_adaptive

    L_sl       = − Σ_t log p(w_t)                                     reference solution W
    L_coarse   = − (R_coarse(Ŵ)   − R_coarse(Ŵ_b))   · Σ_t        log p(ŵ_t)
    L_fine     = − α · R_fine(Ŵ)                     · Σ_{t=S..E} log p(ŵ_t)
    L_adaptive = − (R_adaptive(Ŵ) − R_adaptive(Ŵ_b)) · Σ_t        log p(ŵ_t)

The three RL terms share one shape: each sampled token ŵ_t carries a scalar reward
r_t = r_t^coarse + r_t^fine + r_t^adaptive (computed by :func:`rltf.feedback.token_rewards`), so

    L_rl = − Σ_i Σ_t r_{i,t} · log p(ŵ_{i,t})

Normalisation (``reduction``) is a choice the paper leaves open and the official code makes:

* ``"token_mean"`` — divide by the number of generated tokens in the micro-batch (official RLTF /
  CodeRL code: ``loss.sum() / (labels != -100).sum()``); the default, because it keeps the gradient
  scale independent of program length and batch size, which is what the paper's lr 2e-6 assumes.
* ``"sample_mean"`` — divide by the number of programs (the equations above, averaged over a batch).
* ``"sum"`` — the equations verbatim.

The SL term uses the same normalisation choices; prompt tokens never enter either loss because
:meth:`rltf.policy.Policy.token_logprobs` returns log-probabilities of the target tokens only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["token_mean", "sample_mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("token_mean", "sample_mean", "sum")


def _normaliser(lengths: Sequence[int], reduction: str) -> float:
    if reduction == "token_mean":
        return float(max(sum(lengths), 1))
    if reduction == "sample_mean":
        return float(max(len(lengths), 1))
    if reduction == "sum":
        return 1.0
    raise ValueError(f"unknown reduction {reduction!r} (expected one of {', '.join(REDUCTIONS)})")


def sl_loss(logprobs: Sequence[Tensor], reduction: Reduction = "token_mean") -> Tensor:
    """Cross-entropy of the reference solutions: ``− Σ_i Σ_t log p(w_{i,t}) / Z``.

    ``logprobs[i]`` holds log p(w_t | prompt, w_<t) for the target tokens of sequence i only
    (the prompt is masked by construction)."""
    if not logprobs:
        raise ValueError("sl_loss: empty batch")
    total = torch.stack([lp.sum() for lp in logprobs]).sum()
    return -total / _normaliser([lp.numel() for lp in logprobs], reduction)


@dataclass(frozen=True)
class RLLoss:
    """The differentiable RL loss and, for logging, each reward component's share of it
    (same normaliser; in the paper's mode the components sum to ``loss``)."""

    loss: Tensor
    terms: Mapping[str, float]
    num_tokens: int


def rl_loss(
    logprobs: Sequence[Tensor],
    rewards: Sequence[Sequence[float]],
    reduction: Reduction = "token_mean",
    components: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> RLLoss:
    """``L_rl = − Σ_i Σ_t r_{i,t} · log p(ŵ_{i,t}) / Z``.

    ``logprobs[i]``: differentiable log p(ŵ_t) of sample i under the current policy, one per
    generated token; ``rewards[i]``: its per-token rewards r_t (same length). ``components``
    (e.g. ``{"coarse": ..., "fine": ..., "adaptive": ...}``, same shapes) are only reported.
    """
    if not logprobs:
        raise ValueError("rl_loss: empty batch")
    if len(rewards) != len(logprobs):
        raise ValueError(f"rl_loss: {len(logprobs)} samples but {len(rewards)} reward rows")
    lengths = [lp.numel() for lp in logprobs]
    z = _normaliser(lengths, reduction)

    def weighted(rows: Sequence[Sequence[float]], name: str) -> Tensor:
        parts = []
        for i, (lp, r) in enumerate(zip(logprobs, rows, strict=True)):
            if len(r) != lp.numel():
                raise ValueError(
                    f"rl_loss: sample {i} has {lp.numel()} tokens but {len(r)} {name} rewards"
                )
            parts.append((torch.as_tensor(r, dtype=lp.dtype, device=lp.device) * lp).sum())
        return -torch.stack(parts).sum() / z

    loss = weighted(rewards, "token")
    terms: dict[str, float] = {}
    if components:
        with torch.no_grad():
            for name, rows in components.items():
                terms[name] = float(weighted(rows, name))
    return RLLoss(loss=loss, terms=terms, num_tokens=sum(lengths))


def approx_kl(new_logprobs: Sequence[Tensor], old_logprobs: Sequence[Sequence[float]]) -> float:
    """Mean of log p_old − log p_new over tokens: how far the learner has moved from the policy
    that generated the samples (the cost of staleness; k1 estimator, Schulman 2020)."""
    num, den = 0.0, 0
    with torch.no_grad():
        for new, old in zip(new_logprobs, old_logprobs, strict=True):
            if len(old) != new.numel():
                continue  # no behaviour log-probs recorded for this sample
            num += float((torch.as_tensor(old, dtype=new.dtype) - new.detach().cpu()).sum())
            den += new.numel()
    return num / den if den else 0.0
