"""`rltf sft`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, not_implemented

HELP = "Supervised warm start: cross-entropy on reference solutions (prompt tokens masked), with checkpoints and metrics."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("sft", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    p.set_defaults(func=not_implemented("sft"))
