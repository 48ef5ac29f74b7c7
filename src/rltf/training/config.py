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
class LearnerConfig:
    """One optimizer step per iteration on L = L_sl + λ·L_rl (training/losses.py has the
    equations). Defaults follow the field's current practice (PPO/GRPO clipped surrogate, TRL's
    ``epsilon=0.2``); ``clip_eps: null`` is the paper's loss verbatim."""

    rl_weight: float = 1.0  # λ (paper: 1); 0: the actor runs (metrics) but RL trains nothing
    clip_eps: float | None = 0.2  # ε of the clipped importance ratio; null: plain REINFORCE
    epochs: int = 1  # optimizer steps per RL batch (each on a fresh SL batch); >1 reuses samples
    kl_coef: float = 0.0  # β: KL(p ‖ p_start) penalty per token (k3); needs a reference pass
    micro_batch_size: int = 16  # sequences per forward/backward (memory only: same gradient)
    sl_loss_reduction: Reduction = "token_mean"
    rl_loss_reduction: Reduction = "token_mean"  # official code: mean over valid tokens

    def validate(self) -> None:
        if not self.rl_weight >= 0:
            raise ValueError(f"rl_weight must be >= 0, got {self.rl_weight}")
        if self.clip_eps is not None and not self.clip_eps > 0:
            raise ValueError(f"clip_eps must be > 0 or null, got {self.clip_eps}")
        if self.epochs < 1 or self.micro_batch_size < 1:
            raise ValueError("epochs and micro_batch_size must be >= 1")
        if not self.kl_coef >= 0:
            raise ValueError(f"kl_coef must be >= 0, got {self.kl_coef}")


@dataclass(frozen=True)
class LoopConfig:
    """The online loop (DESIGN.md §3). One learner *step* is one optimizer update on an SL batch
    and an RL batch together."""

    steps: int = 100
    # actor
    samples_per_problem: int = 4  # k (paper: 20)
    problems_per_round: int = 2  # problems sampled per actor round
    rounds_in_flight: int = 1  # rounds executing while the next one is generated (async only)
    exec_workers: int | None = None  # execution pool processes (default: CPU count)
    # learner batches: sl_batch_size reference solutions (0: no SL term) and rl_batch_size
    # buffer samples (async only: synchronous mode trains on every sample of the round, once)
    sl_batch_size: int = 8
    rl_batch_size: int = 8
    warm_start_steps: int = 0  # SL-only steps before the first RL step (the paper starts from SL)
    # buffer (async mode)
    buffer_capacity: int = 6400
    min_buffer: int | None = None  # samples needed before RL steps (default: rl_batch_size)
    sync_every: int = 1  # learner steps between weight pushes to the actor
    max_staleness: int | None = None  # drop samples more than this many versions (steps) old
    # synchronous: generate -> execute -> score -> one step on that round's samples, in the
    # learner's thread; deterministic adds fixed algorithms and makes a killed-and-resumed run
    # bit-identical to an uninterrupted one (requires synchronous).
    synchronous: bool = False
    deterministic: bool = False
    torch_threads: int | None = None  # torch.set_num_threads for the trainer process
    # A round (async: the run so far, after 50 programs) whose share of sandbox_error verdicts
    # exceeds this stops the run: training on the remainder would be biased (the failures are
    # not random), and it means the sandbox itself is broken.
    max_sandbox_error_share: float = 0.2

    def validate(self) -> None:
        positive = {
            "steps": self.steps,
            "samples_per_problem": self.samples_per_problem,
            "problems_per_round": self.problems_per_round,
            "rounds_in_flight": self.rounds_in_flight,
            "rl_batch_size": self.rl_batch_size,
            "buffer_capacity": self.buffer_capacity,
            "sync_every": self.sync_every,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.sl_batch_size < 0:
            raise ValueError(
                f"sl_batch_size must be >= 0 (0: no SL term), got {self.sl_batch_size}"
            )
        if self.warm_start_steps < 0:
            raise ValueError(f"warm_start_steps must be >= 0, got {self.warm_start_steps}")
        if self.warm_start_steps > 0 and self.sl_batch_size == 0:
            raise ValueError("warm_start_steps needs SL: set sl_batch_size >= 1")
        if self.max_staleness is not None and self.max_staleness < 0:
            raise ValueError(f"max_staleness must be >= 0 or null, got {self.max_staleness}")
        if self.min_buffer is not None and not 1 <= self.min_buffer <= self.buffer_capacity:
            raise ValueError(f"min_buffer must be in [1, buffer_capacity], got {self.min_buffer}")
        if self.deterministic and not self.synchronous:
            raise ValueError("deterministic: true requires synchronous: true")
        if self.exec_workers is not None and self.exec_workers < 1:
            raise ValueError(f"exec_workers must be >= 1, got {self.exec_workers}")
        if not 0 <= self.max_sandbox_error_share <= 1:
            raise ValueError(
                f"max_sandbox_error_share must be in [0, 1], got {self.max_sandbox_error_share}"
            )

    @property
    def min_samples(self) -> int:
        return self.min_buffer if self.min_buffer is not None else self.rl_batch_size


@dataclass(frozen=True)
class ClusterConfig:
    """Scale-out on Ray (docs/cluster.md). ``backend: local`` (default) runs everything in this
    process and its sandbox workers. ``backend: ray``: with ``rollout_actors >= 1`` rollouts run
    in that many Ray actors, each with its own policy copy and a local sandbox pool on its node,
    fed versioned weights through the object store (asynchronous mode only); with
    ``rollout_actors: 0`` the actor stays in this process and programs run on the distributed
    execution pool (one sandbox pool per node, ``execution_nodes`` of them at most)."""

    backend: Literal["local", "ray"] = "local"
    address: str | None = None  # HOST:PORT of the head, or "auto"; null: a private local Ray
    num_cpus: int | None = None  # CPUs of the private local Ray (default min(2, cpu count))
    rollout_actors: int = 2
    cpus_per_actor: float = 1.0  # Ray CPUs reserved per rollout actor (its generation threads)
    gpus_per_actor: float = 0.0  # e.g. 1 on GPU nodes: the actor's policy then runs on CUDA
    torch_threads_per_actor: int = 1
    exec_workers_per_actor: int = 1  # sandbox workers beside each rollout actor, on its node
    execution_nodes: int | None = None  # rollout_actors 0: nodes of the execution pool (null: all)
    start_timeout: float = 300.0  # seconds for the actors to start (a cluster too small: error)
    round_timeout: float = 900.0  # a round slower than this: its actor is killed and replaced
    max_restarts: int = 2  # replacements of lost rollout actors before the run fails
    # Data-parallel learner under torchrun: shard parameters, gradients and AdamW state across
    # the processes (FSDP2) instead of replicating them (training/distributed.py)
    fsdp: bool = False

    def validate(self) -> None:
        if self.rollout_actors < 0 or self.torch_threads_per_actor < 1:
            raise ValueError("rollout_actors must be >= 0 and torch_threads_per_actor >= 1")
        if self.exec_workers_per_actor < 1 or self.max_restarts < 0:
            raise ValueError("exec_workers_per_actor must be >= 1 and max_restarts >= 0")
        if self.cpus_per_actor < 0 or self.gpus_per_actor < 0:
            raise ValueError("cpus_per_actor and gpus_per_actor must be >= 0")
        if self.execution_nodes is not None and self.execution_nodes < 1:
            raise ValueError(f"execution_nodes must be >= 1 or null, got {self.execution_nodes}")
        if min(self.start_timeout, self.round_timeout) <= 0:
            raise ValueError("start_timeout and round_timeout must be > 0 (every wait is bounded)")
        if self.backend == "local" and self.address is not None:
            raise ValueError("address is set but backend is 'local': set backend: ray")

    @property
    def ray_rollouts(self) -> bool:
        return self.backend == "ray" and self.rollout_actors > 0


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
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    def validate(self) -> None:
        if self.cluster.ray_rollouts and self.loop.synchronous:
            raise ValueError(
                "cluster.rollout_actors: Ray rollout actors run asynchronously; set "
                "loop.synchronous: false (or cluster.rollout_actors: 0)"
            )
        if self.generation.seed is not None:
            # A private generator re-seeded per call would repeat the same random draws every
            # round; the loop uses the global RNG, which it seeds and checkpoints itself.
            raise ValueError("generation.seed must be null in training (set `seed` instead)")
        if not self.generation.do_sample and self.loop.samples_per_problem > 1:
            raise ValueError("generation.do_sample is false: k > 1 samples would be identical")
        if self.loop.sl_batch_size == 0 and (
            self.learner.rl_weight == 0 or not self.rewards.any_reward
        ):
            key = "learner.rl_weight" if self.learner.rl_weight == 0 else "rewards"
            raise ValueError(
                f"{key}: no SL term (loop.sl_batch_size: 0) and no RL reward: nothing to learn"
            )
