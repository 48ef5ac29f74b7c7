"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` plus any number of ``--set key.sub=value`` overrides."""
    parser.add_argument("--config", metavar="FILE", help="YAML config file")
    add_overrides_arg(parser)


def add_overrides_arg(
    parser: argparse.ArgumentParser,
    help: str = "override a config key (dotted, YAML value), e.g. --set optim.lr=1e-5; repeatable",
) -> None:
    """``--set key.sub=value`` (repeatable) into ``args.overrides``."""
    parser.add_argument(
        "--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides", help=help
    )


def add_run_dir_args(parser: argparse.ArgumentParser) -> None:
    """``--resume`` / ``--overwrite`` for commands that write checkpoints into a run directory."""
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the latest checkpoint in the run dir (start fresh if there is none)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="discard the run dir's checkpoints and start again"
    )


def quiet_model_loading() -> None:
    """Hide transformers' per-tensor "Loading weights" bars: our own progress bars are the ones to
    watch. (This also hides hub download bars; HF_HUB_DISABLE_PROGRESS_BARS=0 does not undo it.)"""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
