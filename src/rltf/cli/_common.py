"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
from typing import Any


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


def not_implemented(what: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        raise NotImplementedError(what)

    return run
