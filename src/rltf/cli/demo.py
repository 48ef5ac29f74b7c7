"""`rltf demo`."""

from __future__ import annotations

import argparse

from rltf.cli._common import add_overrides_arg

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
    add_overrides_arg(
        p,
        "override a key of the preset's SFT or RLTF config, e.g. --set train.optim.lr=1e-4 or "
        "--set sft.data.reference_fraction=0.5; repeatable (use a fresh --out)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rltf.cli._common import quiet_model_loading
    from rltf.config import nested_overrides
    from rltf.demo import run_demo

    overrides = nested_overrides(args.overrides)
    quiet_model_loading()
    return run_demo(args.preset, args.out, args.seed, overrides)
