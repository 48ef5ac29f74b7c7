"""`rltf datasets`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, not_implemented

HELP = "List the built-in datasets and formats, show a problem, or validate a dataset (schema, then reference solutions through the sandbox)."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("datasets", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    p.set_defaults(func=not_implemented("datasets"))
