"""The learner: SL and RL optimizer steps on the policy (AdamW, clipping, schedule, accumulation).

One call of :meth:`Learner.sl_step` / :meth:`Learner.rl_step` is one optimizer update made of
``len(micro_batches)`` forward/backward passes (gradient accumulation). The learner's step count
is the policy version stamped on the samples generated after the next weight push.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import torch

from rltf.policy import Policy
from rltf.training.buffer import ScoredSample
from rltf.training.config import OptimConfig
from rltf.training.data import SLExample
from rltf.training.losses import Reduction, approx_kl, rl_loss, sl_loss

log = logging.getLogger("rltf.training")


def lr_factor(step: int, cfg: OptimConfig, total_steps: int) -> float:
    """Multiplier of ``cfg.lr`` at optimizer step ``step`` (0-based): linear warmup over
    ``warmup_steps``, then constant, linear or cosine decay to ``min_lr_ratio`` at ``total_steps``."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return 1.0
    span = max(total_steps - cfg.warmup_steps, 1)
    progress = min(max(step - cfg.warmup_steps, 0) / span, 1.0)
    if cfg.schedule == "linear":
        shape = 1.0 - progress
    else:
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * shape


def make_optimizer(model: torch.nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW; as in nanoGPT, biases and norm weights (1-D parameters) get no weight decay."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    betas = (cfg.betas[0], cfg.betas[1])
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, eps=cfg.eps)


class Learner:
    def __init__(self, policy: Policy, cfg: OptimConfig, total_steps: int) -> None:
        self.policy = policy
        self.cfg = cfg
        self.optimizer = make_optimizer(policy.model, cfg)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, cfg, total_steps)
        )
        self.step = 0  # optimizer updates so far
        self.skipped_nonfinite = 0
        policy.model.train()

    # ------------------------------------------------------------------ steps

    def sl_step(
        self, micro_batches: Sequence[Sequence[SLExample]], reduction: Reduction = "token_mean"
    ) -> dict[str, float]:
        """L_sl on reference solutions, averaged over the micro-batches."""
        t0 = time.perf_counter()
        total, tokens = 0.0, 0
        for batch in micro_batches:
            lps = self.policy.token_logprobs(
                [ex.prompt_ids for ex in batch], [ex.target_ids for ex in batch]
            )
            loss = sl_loss(lps, reduction) / len(micro_batches)
            if not self._backward(loss):
                return self._skip(t0)
            total += loss.item()
            tokens += sum(len(ex.target_ids) for ex in batch)
        stats = self._apply()
        seconds = time.perf_counter() - t0
        return {"loss/sl": total, "learner/tokens": tokens, "learner/seconds": seconds, **stats}

    def rl_step(
        self,
        micro_batches: Sequence[Sequence[ScoredSample]],
        reduction: Reduction = "token_mean",
        weight: float = 1.0,
    ) -> dict[str, float]:
        """λ·L_rl, L_rl = −Σ r_t log p(ŵ_t), on buffer samples, averaged over the micro-batches
        (the logged ``loss/rl*`` values are L_rl itself, without λ)."""
        t0 = time.perf_counter()
        total, tokens, kl = 0.0, 0, 0.0
        terms = {"coarse": 0.0, "fine": 0.0, "adaptive": 0.0}
        for batch in micro_batches:
            samples = [s.sample for s in batch]
            lps = self.policy.token_logprobs(
                [s.prompt_ids for s in samples], [s.token_ids for s in samples]
            )
            out = rl_loss(
                lps,
                [s.rewards.rewards for s in batch],
                reduction,
                components={name: [getattr(s.rewards, name) for s in batch] for name in terms},
            )
            loss = out.loss / len(micro_batches)
            if not self._backward(weight * loss):
                return self._skip(t0)
            total += loss.item()
            tokens += out.num_tokens
            kl += approx_kl(lps, [s.logprobs for s in samples]) / len(micro_batches)
            for name in terms:
                terms[name] += out.terms[name] / len(micro_batches)
        stats = self._apply()
        return {
            "loss/rl": total,
            **{f"loss/rl_{k}": v for k, v in terms.items()},
            "learner/approx_kl": kl,
            "learner/tokens": tokens,
            "learner/seconds": time.perf_counter() - t0,
            **stats,
        }

    def _backward(self, loss: torch.Tensor) -> bool:
        if not torch.isfinite(loss):
            return False
        loss.backward()
        return True

    def _skip(self, t0: float) -> dict[str, float]:
        """A non-finite loss: drop the accumulated gradients, count it, do not step."""
        self.optimizer.zero_grad(set_to_none=True)
        self.skipped_nonfinite += 1
        log.warning("non-finite loss at step %d: update skipped", self.step)
        return {"learner/skipped_nonfinite": 1.0, "learner/seconds": time.perf_counter() - t0}

    def _apply(self) -> dict[str, float]:
        params = [p for p in self.policy.model.parameters() if p.requires_grad]
        max_norm = self.cfg.grad_clip if self.cfg.grad_clip is not None else math.inf
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        lr = float(self.scheduler.get_last_lr()[0])
        if not math.isfinite(norm):
            self.optimizer.zero_grad(set_to_none=True)
            self.skipped_nonfinite += 1
            log.warning("non-finite gradient norm at step %d: update skipped", self.step)
            return {"learner/grad_norm": norm, "learner/lr": lr, "learner/skipped_nonfinite": 1.0}
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return {"learner/grad_norm": norm, "learner/lr": lr}

    # ------------------------------------------------------------------ checkpointing

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any], step: int, skipped: int = 0) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = step
        self.skipped_nonfinite = skipped
