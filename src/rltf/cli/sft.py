"""`rltf sft`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, add_run_dir_args, quiet_model_loading
from rltf.config import load_config

HELP = "Supervised warm start: cross-entropy on reference solutions (prompt tokens masked), with checkpoints and metrics."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("sft", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    add_run_dir_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rltf.training.config import SFTConfig
    from rltf.training.sft import run_sft

    cfg = load_config(SFTConfig, args.config, args.overrides)
    quiet_model_loading()
    return run_sft(cfg, resume=args.resume, overwrite=args.overwrite)
