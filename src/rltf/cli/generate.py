"""`rltf generate`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_config_args, not_implemented

HELP = "Sample n programs per problem from a model and write them as JSONL (problem_id, index, program), so generation and execution can run on different machines."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("generate", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    p.set_defaults(func=not_implemented("generate"))
