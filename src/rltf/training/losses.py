"""The RLTF loss, in one short file (DESIGN.md §3; Liu et al. 2023, eqs. 2–6).

    L = L_sl + λ · L_rl                                  one optimizer step on both (official code)

    L_sl = − Σ_i Σ_t log p(w_{i,t}) / Z_sl               reference solutions W

    L_rl = − Σ_i Σ_t min(ρ_{i,t} A_{i,t}, clip(ρ_{i,t}, 1 − ε, 1 + ε) A_{i,t}) / Z_rl
           + β · Σ_i Σ_t KL_t(p ‖ p_ref) / Z_rl          (optional, kl_coef β)

    ρ_{i,t} = p(ŵ_{i,t}) / μ(ŵ_{i,t})                    μ: the behaviour policy that sampled ŵ

A_{i,t} is RLTF's per-token reward minus its baseline (:func:`rltf.feedback.score_round`: coarse +
fine + adaptive). p and μ are the distributions *sampled*, softmax(logits / T) at the actor's
temperature. On-policy (μ = p, one epoch) ρ = 1 and the gradient is exactly the paper's
−Σ A_t ∇log p(ŵ_t); the clipped surrogate (Schulman et al. 2017, PPO; GRPO) only differs for
stale or replayed samples and further epochs, where plain REINFORCE is biased and unbounded.
``clip_eps = None`` is the paper's loss verbatim (no ratio: −Σ A_t log p).

Normalisers Z (``reduction``) are taken over the WHOLE optimizer step, not per micro-batch, so
splitting a batch into micro-batches never changes the gradient (the official code's HF-Trainer
accumulation normalises each micro-batch by its own token count, which weights tokens unequally):

* ``"token_mean"`` — the number of generated (target) tokens in the step (official: mean over valid
  tokens); the default: the gradient scale is independent of program length and batch size.
* ``"sample_mean"`` — the number of sequences; ``"sum"`` — 1 (the equations verbatim).

KL_t uses the k3 estimator exp(q) − q − 1 with q = log p_ref − log p (Schulman 2020; GRPO).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["token_mean", "sample_mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("token_mean", "sample_mean", "sum")


def normaliser(lengths: Sequence[int], reduction: str) -> float:
    """Z for sequences of these lengths (all the sequences of one optimizer step)."""
    if reduction == "token_mean":
        return float(max(sum(lengths), 1))
    if reduction == "sample_mean":
        return float(max(len(lengths), 1))
    if reduction == "sum":
        return 1.0
    raise ValueError(f"unknown reduction {reduction!r} (expected one of {', '.join(REDUCTIONS)})")


def sl_loss(
    logprobs: Sequence[Tensor], reduction: Reduction = "token_mean", z: float | None = None
) -> Tensor:
    """Cross-entropy of reference solutions, ``− Σ_i Σ_t log p(w_{i,t}) / Z``. ``logprobs[i]``
    holds the target tokens' log-probs only (the prompt is masked by construction); ``z``: the
    step's normaliser when this is one micro-batch of it (default: this batch's own)."""
    if not logprobs:
        raise ValueError("sl_loss: empty batch")
    total = torch.stack([lp.sum() for lp in logprobs]).sum()
    return -total / (z if z is not None else normaliser([lp.numel() for lp in logprobs], reduction))


@dataclass(frozen=True)
class RLLoss:
    """The differentiable RL loss and what to log about it (sums over tokens: divide by
    ``num_tokens`` for means; ``terms``: each reward component's share of the surrogate)."""

    loss: Tensor
    num_tokens: int
    clipped_tokens: int = 0
    ratio_sum: float = 0.0
    kl_behaviour_sum: float = 0.0  # Σ (ρ − 1) − log ρ: how far p has moved from μ
    kl_ref_sum: float = 0.0
    terms: Mapping[str, float] = field(default_factory=dict)


def policy_loss(
    logprobs: Sequence[Tensor],
    behaviour: Sequence[Sequence[float]],
    advantages: Sequence[Sequence[float]],
    z: float,
    clip_eps: float | None = 0.2,
    ref_logprobs: Sequence[Tensor] | None = None,
    kl_coef: float = 0.0,
    components: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> RLLoss:
    """L_rl of the module doc for one micro-batch. ``logprobs[i]``: differentiable log p of
    sample i's tokens; ``behaviour[i]``: log μ recorded at sampling; ``advantages[i]``: A_t (same
    length); ``z``: the step's normaliser; ``components``: reward parts, reported only."""
    if not logprobs:
        raise ValueError("policy_loss: empty batch")
    if not len(behaviour) == len(advantages) == len(logprobs):
        raise ValueError(
            f"policy_loss: {len(logprobs)} samples, {len(behaviour)} behaviour rows, "
            f"{len(advantages)} advantage rows"
        )
    if clip_eps is not None and not clip_eps > 0:
        raise ValueError(f"clip_eps must be > 0 or None, got {clip_eps}")
    lp = torch.cat(list(logprobs))
    old = _flat(behaviour, logprobs, "behaviour log-probs")
    adv = _flat(advantages, logprobs, "advantages")
    log_ratio = lp - old
    if clip_eps is None:  # the paper's loss: −A · log p (its gradient is ρ-free REINFORCE)
        per_token = -adv * lp
        clipped = torch.zeros_like(lp, dtype=torch.bool)
    else:
        ratio = log_ratio.exp()
        unclipped = ratio * adv
        bounded = ratio.clamp(1 - clip_eps, 1 + clip_eps) * adv
        per_token = -torch.minimum(unclipped, bounded)
        clipped = (bounded < unclipped).detach()  # the bound, not the ratio, sets the value
    kl_ref = 0.0
    if ref_logprobs is not None and kl_coef > 0:
        q = torch.cat(list(ref_logprobs)).to(lp.device, lp.dtype).detach() - lp
        kl_tokens = q.exp() - q - 1
        per_token = per_token + kl_coef * kl_tokens
        kl_ref = float(kl_tokens.detach().sum())
    loss = per_token.sum() / z
    with torch.no_grad():
        r = log_ratio.detach()
        # each component's share of the unclipped surrogate (−Σ ρ·A_part; paper: −Σ A_part·log p)
        weight = lp.detach() if clip_eps is None else r.exp()
        terms = {
            name: float(-(_flat(rows, logprobs, name) * weight).sum() / z)
            for name, rows in (components or {}).items()
        }
        return RLLoss(
            loss=loss,
            num_tokens=int(lp.numel()),
            clipped_tokens=int(clipped.sum()),
            ratio_sum=float(r.exp().sum()),
            kl_behaviour_sum=float((r.exp() - 1 - r).sum()),
            kl_ref_sum=kl_ref,
            terms=terms,
        )


def _flat(rows: Sequence[Sequence[float]], logprobs: Sequence[Tensor], what: str) -> Tensor:
    """One value per token of every sample, as one tensor on the log-probs' device and dtype."""
    for i, (values, lp) in enumerate(zip(rows, logprobs, strict=True)):
        if len(values) != lp.numel():
            raise ValueError(
                f"policy_loss: sample {i} has {lp.numel()} tokens but {len(values)} {what}"
            )
    first = logprobs[0]
    flat = [float(x) for values in rows for x in values]
    return torch.tensor(flat, dtype=first.dtype, device=first.device)
