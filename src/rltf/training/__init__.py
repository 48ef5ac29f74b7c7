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
    LearnerConfig,
    LoopConfig,
    MetricsConfig,
    OptimConfig,
    SFTConfig,
    SFTSettings,
    TinyModelSettings,
    TrainConfig,
)
from rltf.training.loop import rltf_step, run_train
from rltf.training.losses import RLLoss, normaliser, policy_loss, sl_loss
from rltf.training.sft import run_sft

__all__ = [
    "Checkpoint",
    "CheckpointConfig",
    "CheckpointManager",
    "DataConfig",
    "LearnerConfig",
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
    "normaliser",
    "policy_loss",
    "rltf_step",
    "run_sft",
    "run_train",
    "sl_loss",
]
