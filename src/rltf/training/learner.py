"""The learner: one AdamW update per call on L = L_sl + λ·L_rl (losses.py has the equations).

:meth:`Learner.train_step` takes the step's reference solutions and scored samples, accumulates
their gradients over micro-batches (one normaliser per term for the whole step, so micro-batching
never changes the result), clips the global norm and applies the update once. The learner's step
count is the policy version stamped on the samples generated after the next weight push.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch

from rltf.policy import Policy
from rltf.policy.weights import full_tensor
from rltf.training.buffer import ScoredSample
from rltf.training.config import LearnerConfig, OptimConfig
from rltf.training.data import SLExample
from rltf.training.distributed import DataParallel, local
from rltf.training.losses import Reduction, normaliser, policy_loss, sl_loss

T = TypeVar("T")

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


TERMS = ("coarse", "fine", "adaptive")


def _full_state_options() -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True)


@dataclass
class _Accumulator:
    """Sums over the micro-batches of one step, for the metrics row."""

    sl_loss: float = 0.0
    rl_loss: float = 0.0
    sl_tokens: int = 0
    rl_tokens: int = 0
    clipped: int = 0
    ratio: float = 0.0
    kl_behaviour: float = 0.0
    kl_ref: float = 0.0
    terms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 0.0))


class Learner:
    """One optimizer step on L = L_sl + λ·L_rl (training/losses.py), accumulated over
    micro-batches of ``cfg.micro_batch_size`` sequences with one normaliser per term for the
    whole step, then clipped and applied once: SL and RL share every update, as in the official
    code's accumulation, rather than alternating (an RL step between SL steps would be mostly
    the SL steps' Adam momentum)."""

    def __init__(
        self,
        policy: Policy,
        cfg: OptimConfig,
        total_steps: int,
        learner: LearnerConfig | None = None,
        temperature: float = 1.0,
        dp: DataParallel | None = None,
    ) -> None:
        self.policy = policy
        self.dp = dp  # data-parallel: gradients averaged over processes before each update
        self.cfg = cfg
        self.lcfg = learner or LearnerConfig()
        self.temperature = temperature  # the actor's: RL log-probs are those of p_T
        self.reference: Policy | None = None
        if self.lcfg.kl_coef > 0 and not policy.is_lora:
            self.reference = copy.deepcopy(policy)  # the starting policy, frozen (unsharded)
            self.reference.model.requires_grad_(False).eval()
        self.sharded = dp is not None and dp.fsdp
        if self.sharded:
            assert dp is not None
            dp.shard(policy.model)  # before the optimizer: it must hold the sharded parameters
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
        """An SL-only step (``rltf sft``): the micro-batches given, one normaliser over all."""
        examples = [ex for batch in micro_batches for ex in batch]
        return self.train_step(examples, [], sl_reduction=reduction)

    def train_step(
        self,
        sl: Sequence[SLExample],
        rl: Sequence[ScoredSample],
        sl_reduction: Reduction | None = None,
    ) -> dict[str, float]:
        """One optimizer update on ``sl`` reference solutions and ``rl`` scored samples (either
        may be empty). Returns the metrics of the step; a non-finite loss or gradient skips it."""
        if not sl and not rl and self.dp is None:  # data-parallel: a rank may have nothing
            raise ValueError("train_step: an empty step (no SL examples and no RL samples)")
        t0 = time.perf_counter()
        acc = _Accumulator()
        trained = rl if self.lcfg.rl_weight > 0 else []
        n_sl, n_rl = self._micro_batch_counts(len(sl), len(trained))
        # Every micro-batch runs even after a non-finite loss (FSDP: every rank must join every
        # forward and backward); such a step is skipped below, on every rank.
        ok = self._sl_part(sl, sl_reduction or self.lcfg.sl_loss_reduction, acc, n_sl)
        sl_norm = self._grad_norm() if n_sl else 0.0
        sl_grads = self._grads() if n_sl and n_rl else None
        ok = self._rl_part(trained, acc, n_rl) and ok
        rl_norm = self._grad_norm(subtract=sl_grads) if n_rl else 0.0
        if self.dp is not None:
            ok = self.dp.all_true(ok)  # every rank skips the step, or none does
        if not ok:
            return self._skip(t0)
        # DDP: this rank's own gradient norms; FSDP: those of the mean gradient (its backward
        # has already averaged them)
        stats = self._stats(acc, rl, sl_norm, rl_norm)
        if self.dp is not None and not self.sharded:
            self.dp.average_gradients(self._params())  # one all-reduce: DDP's mean gradient
        stats.update(self._apply())
        stats["learner/seconds"] = time.perf_counter() - t0
        return stats

    def _micro_batch_counts(self, n_sl: int, n_rl: int) -> tuple[int, int]:
        """SL and RL micro-batches of this step; FSDP: the most of any rank, for every rank."""
        mb = self.lcfg.micro_batch_size
        counts = [-(-n_sl // mb), -(-n_rl // mb)]
        if self.sharded:
            assert self.dp is not None
            counts = self.dp.max(counts)
        return counts[0], counts[1]

    def _padding(self, count: int, real: int, rl: bool) -> None:
        """FSDP: zero-loss micro-batches up to ``count`` (the forwards and backwards of a rank
        with fewer samples than another, so their collectives pair up)."""
        for _ in range(count - real):
            prompts, tokens = [[self.policy.pad_id]], [[self.policy.pad_id]]
            if rl and self.lcfg.kl_coef > 0:
                self._reference_logprobs(prompts, tokens)  # LoRA: a forward of the base model
            lps = self.policy.token_logprobs(prompts, tokens, self.temperature if rl else 1.0)
            (lps[0].sum() * 0.0).backward()

    def _sl_part(
        self, sl: Sequence[SLExample], reduction: Reduction, acc: _Accumulator, count: int
    ) -> bool:
        ok = True
        z = normaliser([len(ex.target_ids) for ex in sl], reduction) if sl else 1.0
        batches = _chunks(sl, self.lcfg.micro_batch_size)
        for batch in batches:
            lps = self.policy.token_logprobs(
                [ex.prompt_ids for ex in batch], [ex.target_ids for ex in batch]
            )
            loss = sl_loss(lps, reduction, z)
            ok = self._backward(loss) and ok
            acc.sl_loss += loss.item()
            acc.sl_tokens += sum(len(ex.target_ids) for ex in batch)
        self._padding(count, len(batches), rl=False)
        return ok

    def _rl_part(self, rl: Sequence[ScoredSample], acc: _Accumulator, count: int) -> bool:
        lc = self.lcfg
        ok = True
        z = normaliser([len(s.sample.token_ids) for s in rl], lc.rl_loss_reduction) if rl else 1.0
        batches = _chunks(rl, lc.micro_batch_size)
        for batch in batches:
            samples = [s.sample for s in batch]
            prompts, tokens = [s.prompt_ids for s in samples], [s.token_ids for s in samples]
            lps = self.policy.token_logprobs(prompts, tokens, self.temperature)
            out = policy_loss(
                lps,
                [s.logprobs for s in samples],
                [s.rewards.rewards for s in batch],
                z,
                lc.clip_eps,
                self._reference_logprobs(prompts, tokens) if lc.kl_coef > 0 else None,
                lc.kl_coef,
                components={name: [getattr(s.rewards, name) for s in batch] for name in TERMS},
            )
            ok = self._backward(lc.rl_weight * out.loss) and ok
            acc.rl_loss += out.loss.item()
            acc.rl_tokens += out.num_tokens
            acc.clipped += out.clipped_tokens
            acc.ratio += out.ratio_sum
            acc.kl_behaviour += out.kl_behaviour_sum
            acc.kl_ref += out.kl_ref_sum
            for name in TERMS:
                acc.terms[name] += out.terms.get(name, 0.0)
        self._padding(count, len(batches), rl=True)
        return ok

    @torch.no_grad()
    def _reference_logprobs(
        self, prompts: Sequence[Sequence[int]], tokens: Sequence[Sequence[int]]
    ) -> list[torch.Tensor]:
        """log p_start: the frozen copy, or the base model with LoRA adapters switched off."""
        if self.reference is not None:
            return self.reference.token_logprobs(prompts, tokens, self.temperature)
        with self.policy.model.disable_adapter():  # type: ignore[operator]
            return [
                lp.detach() for lp in self.policy.token_logprobs(prompts, tokens, self.temperature)
            ]

    def _stats(
        self,
        acc: _Accumulator,
        rl: Sequence[ScoredSample],
        sl_norm: float,
        rl_norm: float,
    ) -> dict[str, float]:
        out: dict[str, float] = {"learner/tokens": float(acc.sl_tokens + acc.rl_tokens)}
        if acc.sl_tokens:
            out["loss/sl"] = acc.sl_loss
            out["learner/grad_norm_sl"] = sl_norm
        if rl:
            out.update(advantage_stats(rl))
        if acc.rl_tokens:
            n = acc.rl_tokens
            out["loss/rl"] = acc.rl_loss
            out.update({f"loss/rl_{k}": v for k, v in acc.terms.items()})
            out["learner/clip_fraction"] = acc.clipped / n
            out["learner/ratio_mean"] = acc.ratio / n
            out["learner/kl_behaviour"] = acc.kl_behaviour / n
            out["learner/kl_ref"] = acc.kl_ref / n
            out["learner/grad_norm_rl"] = rl_norm
        return out

    def _grads(self) -> list[torch.Tensor]:
        return [
            p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
            for p in self._params()
        ]

    def _grad_norm(self, subtract: list[torch.Tensor] | None = None) -> float:
        """Norm of the accumulated gradient (minus ``subtract``: the RL part alone); FSDP: over
        every rank's shard (a collective)."""
        total = 0.0
        for i, p in enumerate(self._params()):
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            if subtract is not None:
                g = g - subtract[i]
            total += float(local(g).double().pow(2).sum())
        if self.sharded:
            assert self.dp is not None
            total = self.dp.sum(total)
        return math.sqrt(total)

    def _params(self) -> list[torch.nn.Parameter]:
        return [p for p in self.policy.model.parameters() if p.requires_grad]

    def _backward(self, loss: torch.Tensor) -> bool:
        """Backward (always: FSDP's reduce-scatter runs in it); whether ``loss`` was finite."""
        loss.backward()
        return bool(torch.isfinite(loss))

    def _skip(self, t0: float) -> dict[str, float]:
        """A non-finite loss: drop the accumulated gradients, count it, do not step."""
        self.optimizer.zero_grad(set_to_none=True)
        self.skipped_nonfinite += 1
        log.warning("non-finite loss at step %d: update skipped", self.step)
        return {"learner/skipped_nonfinite": 1.0, "learner/seconds": time.perf_counter() - t0}

    def _apply(self) -> dict[str, float]:
        max_norm = self.cfg.grad_clip if self.cfg.grad_clip is not None else math.inf
        norm = float(full_tensor(torch.nn.utils.clip_grad_norm_(self._params(), max_norm)))
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
        """Optimizer and schedule state. FSDP: the whole AdamW state keyed by parameter name,
        gathered from every rank's shard (every rank calls this together)."""
        if self.sharded:
            from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

            optimizer = get_optimizer_state_dict(
                self.policy.model, self.optimizer, options=_full_state_options()
            )
        else:
            optimizer = self.optimizer.state_dict()
        return {
            "optimizer": optimizer,
            "scheduler": self.scheduler.state_dict(),
            "fsdp": self.sharded,
        }

    def load_state_dict(self, state: dict[str, Any], step: int, skipped: int = 0) -> None:
        if state.get("fsdp", False) != self.sharded:
            raise ValueError(
                f"--resume: the checkpoint was written with cluster.fsdp {state.get('fsdp', False)}"
                f", this run has {self.sharded}: resume with the same setting"
            )
        if self.sharded:
            from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

            set_optimizer_state_dict(
                self.policy.model, self.optimizer, state["optimizer"], options=_full_state_options()
            )
        else:
            self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = step
        self.skipped_nonfinite = skipped


def advantage_stats(rl: Sequence[ScoredSample]) -> dict[str, float]:
    """Advantage mean/std over tokens, the share of zero-advantage tokens, and the policy's
    entropy estimated from the samples themselves (−mean log μ of the sampled tokens: an
    unbiased Monte-Carlo estimate of the sampling distribution's entropy per token)."""
    values = [a for s in rl for a in s.rewards.rewards]
    logps = [lp for s in rl for lp in s.sample.logprobs]
    n = max(len(values), 1)
    mean = sum(values) / n
    var = sum((a - mean) ** 2 for a in values) / n
    return {
        "advantage/mean": mean,
        "advantage/std": math.sqrt(var),
        "advantage/zero_share": sum(a == 0.0 for a in values) / n,
        "policy/entropy": -sum(logps) / max(len(logps), 1),
        "learner/rl_samples": float(len(rl)),
    }


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
