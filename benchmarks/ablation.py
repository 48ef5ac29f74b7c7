"""The RLTF ablation at small scale (paper Table 4 analogue) on builtin:basic.

From ONE warm start (the demo's supervised model), continue training with each reward variant
for the same number of learner steps and seeds, then evaluate every run on the held-out split with
the same sampling settings. Rows (rltf.feedback.ABLATIONS plus the official-code mode):

    sl                     continued SL only (the actor runs, every token reward is 0)
    coarse                 + coarse feedback (CodeRL-style reward with a baseline)
    coarse+fine            + fine-grained feedback (error-line penalties)
    coarse+fine+adaptive   + adaptive feedback: full RLTF (paper mode)
    official               the official code's variant of full RLTF

    python benchmarks/ablation.py --warm-start runs/demo/sft/final --out runs/ablation \
        --seeds 0 1 2

Prints a markdown table of held-out pass@1 / pass@k as mean ± std over seeds, with the compute
used, and writes it to <out>/ablation.md (and every run's report under <out>/<row>/seed<s>/).
Runs already finished are reused, so an interrupted ablation resumes (use a new --out when you
change --steps or --set). `--set key=value` overrides the preset's training config in every row:

    python benchmarks/ablation.py --warm-start runs/demo/sft/final --out runs/ablation-t1 \
        --rows sl coarse+fine+adaptive --set generation.temperature=1.0
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from rltf.cli._common import add_overrides_arg, quiet_model_loading
from rltf.config import from_dict, nested_overrides
from rltf.console import setup_logging
from rltf.demo import DATASET_TEST, PRESETS, deep_merge, evaluate_held_out
from rltf.evaluation.plots import read_metrics
from rltf.training.config import TrainConfig
from rltf.training.loop import run_train

ROWS: dict[str, dict[str, Any]] = {
    "sl": {"rewards": {"coarse": False, "fine": False, "adaptive": False}},
    "coarse": {"rewards": {"coarse": True, "fine": False, "adaptive": False}},
    "coarse+fine": {"rewards": {"coarse": True, "fine": True, "adaptive": False}},
    "coarse+fine+adaptive": {"rewards": {"coarse": True, "fine": True, "adaptive": True}},
    "official": {"rewards": {"coarse": True, "fine": True, "adaptive": True, "mode": "official"}},
}


def steps(args: argparse.Namespace) -> int:
    return int(args.steps or PRESETS[args.preset].train["loop"]["steps"])


def run_one(
    row: str, seed: int, args: argparse.Namespace
) -> tuple[dict[int, float], dict[str, float]]:
    """Train one (row, seed) from the warm start and evaluate it; returns pass@k and compute."""
    preset = PRESETS[args.preset]
    run_dir = Path(args.out) / row / f"seed{seed}"
    overrides = {
        "run_dir": str(run_dir / "train"),
        "seed": seed,
        "policy": {"model": args.warm_start},
        "loop": {"steps": steps(args), "warm_start_steps": 0},
        "checkpoint": {"every": 0},
        "metrics": {"tensorboard": False, "progress": False},
        **ROWS[row],
    }
    merged = deep_merge(deep_merge(preset.train, overrides), nested_overrides(args.overrides))
    cfg = from_dict(TrainConfig, merged, f"ablation row {row}")
    final = run_dir / "train" / "final"
    if not (final / "config.json").is_file() and run_train(cfg, resume=True) != 0:
        sys.exit(f"ablation: training {row} seed {seed} was interrupted")
    # the same evaluation draws for every row: one evaluation seed
    report = evaluate_held_out(
        final, run_dir / "eval", preset, args.eval_seed, n=args.n, quiet=True
    )
    return dict(report.pass_at_k), compute_used(run_dir / "train" / "metrics.jsonl")


def compute_used(metrics: Path) -> dict[str, float]:
    """Wall seconds and programs executed, from the run's own metrics (so a reused run reports
    what it cost when it ran, not 0)."""
    last: dict[str, Any] = {}
    for row in read_metrics(metrics):
        last.update(row)
    return {"seconds": last.get("time/wall_s", 0.0), "programs": last.get("total/programs", 0.0)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--warm-start", required=True, help="the supervised model every row starts from"
    )
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--steps", type=int, default=None, help="learner steps per run (default: the preset's)"
    )
    parser.add_argument(
        "--n", type=int, default=None, help="held-out samples per problem (default: the preset's)"
    )
    parser.add_argument("--eval-seed", type=int, default=1234)
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    add_overrides_arg(
        parser, "override a training config key of every row, e.g. --set optim.lr=2e-4; repeatable"
    )
    args = parser.parse_args()
    setup_logging(-1)
    quiet_model_loading()
    if not (Path(args.warm_start) / "config.json").is_file():
        sys.exit(
            f"ablation: --warm-start {args.warm_start!r} is not a model directory (run `rltf demo` first)"
        )

    results: dict[str, list[dict[int, float]]] = {}
    compute: dict[str, list[dict[str, float]]] = {}
    for row in args.rows:
        for seed in args.seeds:
            pass_at_k, used = run_one(row, seed, args)
            results.setdefault(row, []).append(pass_at_k)
            compute.setdefault(row, []).append(used)
            print(
                f"{row:22s} seed {seed}: "
                + ", ".join(f"pass@{k} {100 * v:.2f}%" for k, v in sorted(pass_at_k.items())),
                flush=True,
            )

    preset = PRESETS[args.preset]
    # The reference every row is read against: the warm start itself, same evaluation draws.
    reference = evaluate_held_out(
        Path(args.warm_start),
        Path(args.out) / "warm-start" / "eval",
        preset,
        args.eval_seed,
        n=args.n,
        quiet=True,
    )
    start, n, ks = reference.pass_at_k, reference.n, tuple(sorted(reference.pass_at_k))
    tier = "/".join(preset.eval_difficulties) or "all"
    lines = [
        f"Held-out {DATASET_TEST}, {tier} tier(s), n={n}, temperature {preset.eval_temperature}; "
        f"{steps(args)} learner steps per run from {args.warm_start}; seeds {args.seeds}; "
        "mean ± std over seeds. Compute per run: training wall time on this machine and "
        "programs the actor generated and executed."
        + (f" Overrides of the preset: {' '.join(args.overrides)}." if args.overrides else ""),
        "",
        "| row | "
        + " | ".join(f"pass@{k} (%)" for k in ks)
        + " | train s / run | programs / run |",
        "|---|" + "---:|" * (len(ks) + 2),
        "| warm start (no training) | "
        + " | ".join(f"{100 * start[k]:.2f}" for k in ks)
        + " | 0 | 0 |",
    ]
    for row, runs in results.items():
        cells = []
        for k in ks:
            values = [100 * r[k] for r in runs]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.2f} ± {std:.2f}")
        secs = statistics.mean(c["seconds"] for c in compute[row])
        programs = statistics.mean(c["programs"] for c in compute[row])
        lines.append(f"| {row} | " + " | ".join(cells) + f" | {secs:.0f} | {programs:.0f} |")
    table = "\n".join(lines)
    print("\n" + table)
    out = Path(args.out)
    (out / "ablation.md").write_text(table + "\n", encoding="utf-8")
    (out / "ablation.json").write_text(
        json.dumps(
            {
                "warm_start": {str(k): v for k, v in start.items()},
                "compute": compute,
                "results": {
                    r: [{str(k): v for k, v in x.items()} for x in runs]
                    for r, runs in results.items()
                },
                "args": vars(args),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
