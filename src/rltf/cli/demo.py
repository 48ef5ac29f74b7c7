"""`rltf demo`."""

from __future__ import annotations

import argparse

HELP = (
    "The whole method on the embedded default: warm start, evaluation before, online RLTF, "
    "evaluation after, on held-out builtin:basic problems."
)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from rltf.demo import PRESETS

    presets = "; ".join(f"{name}: {p.description}" for name, p in PRESETS.items())
    p = sub.add_parser(
        "demo",
        parents=[common],
        help=HELP,
        description=f"{HELP} Stages are resumed or reused when run again. Presets: {presets}.",
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="default: tiny")
    p.add_argument("--out", default="runs/demo", help="output directory (default: runs/demo)")
    p.add_argument("--seed", type=int, default=0, help="seed of training and evaluation sampling")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rltf.cli._common import quiet_model_loading
    from rltf.demo import run_demo

    quiet_model_loading()
    return run_demo(args.preset, args.out, args.seed)
