"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` plus any number of ``--set key.sub=value`` overrides."""
    parser.add_argument("--config", metavar="FILE", help="YAML config file")
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override a config key (dotted, YAML value), e.g. --set optim.lr=1e-5; repeatable",
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
