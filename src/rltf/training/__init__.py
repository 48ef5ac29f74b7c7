"""Supervised warm start and the online RLTF actor/learner loop (DESIGN.md §3, docs/training.md).

    run_sft(load_config(SFTConfig, "configs/apps-codet5-770m-sft.yaml"))
    run_train(load_config(TrainConfig, "configs/demo-tiny.yaml"), resume=True)

The whole loss is in :mod:`rltf.training.losses`; the CLI imports this package only when a
training command runs (it pulls in torch).
"""

from rltf.training.buffer import ReplayBuffer, ScoredSample
from rltf.training.checkpoint import Checkpoint, CheckpointManager
from rltf.training.config import (
    CheckpointConfig,
    DataConfig,
    LoopConfig,
    MetricsConfig,
    OptimConfig,
    SFTConfig,
    SFTSettings,
    TinyModelSettings,
    TrainConfig,
)
from rltf.training.loop import run_train, step_kind
from rltf.training.losses import RLLoss, approx_kl, rl_loss, sl_loss
from rltf.training.sft import run_sft

__all__ = [
    "Checkpoint",
    "CheckpointConfig",
    "CheckpointManager",
    "DataConfig",
    "LoopConfig",
    "MetricsConfig",
    "OptimConfig",
    "RLLoss",
    "ReplayBuffer",
    "SFTConfig",
    "SFTSettings",
    "ScoredSample",
    "TinyModelSettings",
    "TrainConfig",
    "approx_kl",
    "rl_loss",
    "run_sft",
    "run_train",
    "sl_loss",
    "step_kind",
]
