"""`rltf evaluate`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, not_implemented

HELP = "Sample n programs per problem (or read --programs), execute them in eval mode and report unbiased pass@k, the outcome mix and errors by type."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("evaluate", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    p.set_defaults(func=not_implemented("evaluate"))
