"""`rltf train`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, add_run_dir_args, quiet_model_loading
from rltf.config import load_config

HELP = "Online RLTF: an actor samples and executes programs, feedback turns verdicts into token rewards, a learner alternates SL and RL batches."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    add_run_dir_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rltf.training.config import TrainConfig
    from rltf.training.loop import run_train

    cfg = load_config(TrainConfig, args.config, args.overrides)
    quiet_model_loading()
    return run_train(cfg, resume=args.resume, overwrite=args.overwrite)
