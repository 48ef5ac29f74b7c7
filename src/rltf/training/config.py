"""Typed configs of ``rltf sft`` and ``rltf train`` (loaded with :func:`rltf.config.load_config`).

Sections are the other stages' own config classes where one exists (``policy``: PolicyConfig,
``generation``: GenerationConfig, ``rewards``: RewardConfig, ``execution``: ExecutionConfig), so a
YAML key means the same thing everywhere. Every field is documented in docs/training.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rltf.execution.config import ExecutionConfig
from rltf.feedback import RewardConfig
from rltf.policy.config import GenerationConfig, PolicyConfig
from rltf.training.losses import Reduction

TINY = "tiny"  # policy.model value that builds a tiny model from the training data (tests, demos)


@dataclass(frozen=True)
class TinyModelSettings:
    """Used when ``policy.model: tiny``: a tokenizer and a small random model are built from the
    training problems' prompts and reference solutions into ``<run_dir>/tiny-model``."""

    arch: Literal["gpt2", "t5"] = "gpt2"
    vocab_size: int = 512
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 4


@dataclass(frozen=True)
class DataConfig:
    train: str = "builtin:basic:train"  # a rltf.tasks.load_dataset spec
    prompt_style: str = "auto"  # rltf.tasks.format_prompt style
    skip_invalid: bool = False
    difficulties: tuple[str, ...] = ()  # keep only problems of these levels (empty: all)
    limit: int | None = None  # use only the first N problems (after the difficulty filter)
    # Share of problems whose reference solutions SL may use, picked by a stable hash of the
    # problem id; the others teach only through RL from their unit tests (the setting RLTF is
    # for: tests are cheaper to come by than solutions). 1.0: every solution is used.
    reference_fraction: float = 1.0
    max_target_tokens: int = 512  # SL: reference solutions are cut to this many tokens
    max_prompt_tokens: int | None = None  # SL: keep the last N prompt tokens (train: null =
    # generation.max_prompt_tokens, so both see the same prompt)

    def validate(self) -> None:
        if not self.train:
            raise ValueError("data.train must name a dataset (e.g. builtin:basic:train)")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        if not 0 <= self.reference_fraction <= 1:
            raise ValueError(f"reference_fraction must be in [0, 1], got {self.reference_fraction}")
        if self.max_target_tokens < 1:
            raise ValueError(f"max_target_tokens must be >= 1, got {self.max_target_tokens}")
        if self.max_prompt_tokens is not None and self.max_prompt_tokens < 1:
            raise ValueError(f"max_prompt_tokens must be >= 1, got {self.max_prompt_tokens}")


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warmup, then a constant, linear or cosine schedule to min_lr_ratio·lr."""

    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, ...] = (0.9, 0.999)
    eps: float = 1e-8
    warmup_steps: int = 0
    schedule: Literal["constant", "linear", "cosine"] = "constant"
    min_lr_ratio: float = 0.0
    grad_clip: float | None = 1.0  # max global grad norm; null: no clipping
    grad_accum: int = 1  # micro-batches per optimizer step

    def validate(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {list(self.betas)}")
        if self.weight_decay < 0 or self.warmup_steps < 0:
            raise ValueError("weight_decay and warmup_steps must be >= 0")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or null, got {self.grad_clip}")
        if self.grad_accum < 1:
            raise ValueError(f"grad_accum must be >= 1, got {self.grad_accum}")


@dataclass(frozen=True)
class CheckpointConfig:
    every: int = 50  # learner steps between checkpoints (0: only the final one)
    keep_last: int = 2
    dir: str | None = None  # default <run_dir>/checkpoints
    save_buffer: bool = True
    export_final: bool = True  # also write <run_dir>/final as a Hugging Face directory

    def validate(self) -> None:
        if self.every < 0 or self.keep_last < 1:
            raise ValueError("checkpoint.every must be >= 0 and keep_last >= 1")


@dataclass(frozen=True)
class MetricsConfig:
    log_every: int = 1  # learner steps between metric rows
    sample_log_every: int = 20  # learner steps between dumps of a few programs with verdicts
    samples_logged: int = 4
    tensorboard: bool = True
    progress: bool = True

    def validate(self) -> None:
        if self.log_every < 1 or self.sample_log_every < 1 or self.samples_logged < 0:
            raise ValueError("log_every and sample_log_every must be >= 1, samples_logged >= 0")


@dataclass(frozen=True)
class SFTSettings:
    steps: int = 100  # optimizer steps
    batch_size: int = 8  # reference solutions per micro-batch
    loss_reduction: Reduction = "token_mean"
    torch_threads: int | None = None  # torch.set_num_threads (null: torch's default)

    def validate(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(
                f"steps and batch_size must be >= 1, got {self.steps} and {self.batch_size}"
            )


@dataclass(frozen=True)
class LoopConfig:
    """The online loop (DESIGN.md §3). One learner *step* is one optimizer update, SL or RL."""

    steps: int = 100
    # actor
    samples_per_problem: int = 4  # k (paper: 20)
    problems_per_round: int = 2  # problems sampled per actor round
    rounds_in_flight: int = 1  # rounds executing while the next one is generated (async only)
    exec_workers: int | None = None  # execution pool processes (default: CPU count)
    # learner: the pattern `sl_batches` SL steps then `rl_batches` RL steps repeats (paper 1:1)
    sl_batches: int = 1
    rl_batches: int = 1
    sl_batch_size: int = 8  # sequences per micro-batch
    rl_batch_size: int = 8
    sl_loss_reduction: Reduction = "token_mean"
    rl_loss_reduction: Reduction = "token_mean"  # official code: mean over valid tokens
    # λ in L = L_sl + λ·L_rl on RL steps (paper: 1). Below 1 tames RL updates when the lr is far
    # above the paper's 2e-6, e.g. a tiny model trained from scratch; 0 keeps the actor running
    # (metrics) without RL updates.
    rl_loss_weight: float = 1.0
    warm_start_steps: int = 0  # SL-only steps before the first RL step (the paper starts from SL)
    # buffer
    buffer_capacity: int = 6400
    min_buffer: int | None = None  # samples needed before RL steps (default: rl_batch_size)
    sync_every: int = 1  # learner steps between weight pushes to the actor
    max_staleness: int | None = None  # drop samples more than this many versions (steps) old
    # synchronous: the actor runs in the learner's thread, one round per `rl_steps_per_round`
    # RL steps (and whenever the buffer is short); deterministic adds fixed algorithms and makes
    # a killed-and-resumed run bit-identical to an uninterrupted one (requires synchronous).
    synchronous: bool = False
    rl_steps_per_round: int = 1
    deterministic: bool = False
    torch_threads: int | None = None  # torch.set_num_threads for the trainer process

    def validate(self) -> None:
        positive = {
            "steps": self.steps,
            "samples_per_problem": self.samples_per_problem,
            "problems_per_round": self.problems_per_round,
            "rounds_in_flight": self.rounds_in_flight,
            "sl_batch_size": self.sl_batch_size,
            "rl_batch_size": self.rl_batch_size,
            "buffer_capacity": self.buffer_capacity,
            "sync_every": self.sync_every,
            "rl_steps_per_round": self.rl_steps_per_round,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.sl_batches < 0 or self.rl_batches < 0 or self.sl_batches + self.rl_batches == 0:
            raise ValueError("sl_batches and rl_batches must be >= 0 and not both 0")
        if not self.rl_loss_weight >= 0:
            raise ValueError(f"rl_loss_weight must be >= 0, got {self.rl_loss_weight}")
        if self.warm_start_steps < 0:
            raise ValueError(f"warm_start_steps must be >= 0, got {self.warm_start_steps}")
        if self.max_staleness is not None and self.max_staleness < 0:
            raise ValueError(f"max_staleness must be >= 0 or null, got {self.max_staleness}")
        if self.min_buffer is not None and not 1 <= self.min_buffer <= self.buffer_capacity:
            raise ValueError(f"min_buffer must be in [1, buffer_capacity], got {self.min_buffer}")
        if self.deterministic and not self.synchronous:
            raise ValueError("deterministic: true requires synchronous: true")
        if self.exec_workers is not None and self.exec_workers < 1:
            raise ValueError(f"exec_workers must be >= 1, got {self.exec_workers}")

    @property
    def min_samples(self) -> int:
        return self.min_buffer if self.min_buffer is not None else self.rl_batch_size


@dataclass(frozen=True)
class SFTConfig:
    """``rltf sft``: cross-entropy on reference solutions (the warm start RLTF begins from)."""

    run_dir: str = "runs/sft"
    seed: int = 0
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    tiny: TinyModelSettings = field(default_factory=TinyModelSettings)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    sft: SFTSettings = field(default_factory=SFTSettings)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    deterministic: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """``rltf train``: the online RLTF loop."""

    run_dir: str = "runs/train"
    seed: int = 0
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    tiny: TinyModelSettings = field(default_factory=TinyModelSettings)
    data: DataConfig = field(default_factory=DataConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    rewards: RewardConfig = field(default_factory=RewardConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def validate(self) -> None:
        if self.generation.seed is not None:
            # A private generator re-seeded per call would repeat the same random draws every
            # round; the loop uses the global RNG, which it seeds and checkpoints itself.
            raise ValueError("generation.seed must be null in training (set `seed` instead)")
        if not self.generation.do_sample and self.loop.samples_per_problem > 1:
            raise ValueError("generation.do_sample is false: k > 1 samples would be identical")
