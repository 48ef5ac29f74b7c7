"""`rltf train`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, not_implemented

HELP = "Online RLTF: an actor samples and executes programs, feedback turns verdicts into token rewards, a learner alternates SL and RL batches."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    p.set_defaults(func=not_implemented("train"))
