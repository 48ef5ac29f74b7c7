"""The RLTF ablation at small scale (paper Table 4 analogue) on builtin:basic, with statistics.

From ONE warm start, continue training with each row's rewards for the same number of learner
steps and seeds (same SL batches in every row: the seed fixes them), then evaluate every run on
the same problems with the same evaluation seed (the same sampling draws), and report mean, 95%
bootstrap CI over seeds and problems, and the paired difference against SL only:

    sl                     continued SL only (every reward off: no actor, the same SL steps)
    coarse                 + coarse feedback (CodeRL's outcome reward)
    coarse+fine            + fine-grained feedback (error-line penalties, capped and baselined)
    rltf                   + adaptive feedback (pass-ratio reward): full RLTF
    rltf-paper             full RLTF with the paper's loss verbatim: no ratio clip, uncapped α,
                           no fine baseline, no normalisation, group baseline (what changed)
    official               the official code's variant of full RLTF
    grpo                   scalar pass/fail reward, group-normalised (same loop)
    rltf-nostd             full RLTF without the group std normalisation (Dr. GRPO, Liu et al.
                           2025): an all-fail group's small graded differences stay small
    rltf-binary            full RLTF with a 0/1 coarse reward (no graded -0.3/-0.6/-1 for the
                           kind of failure); fine and adaptive terms unchanged
    grpo-loo               grpo with rltf's leave-one-out baseline instead of the group mean

    python benchmarks/ablation.py --warm-start runs/demo/sft/final --out runs/ablation \\
        --seeds 0 1 2 --rows sl rltf grpo coarse

RL from tests alone (``--from-tests``): a fixed, hashed half of the training problems has its
reference solutions withheld (``data.reference_fraction 0.5``) from the warm start AND from SL;
RL sees their unit tests. The script trains that warm start itself into <out>/warm-start and
evaluates every row on the held-out split and on the withheld training problems:

    python benchmarks/ablation.py --from-tests --out runs/ablation-tests --rows sl rltf

Transfer sets: ``--also humaneval --also mbpp:../shared/data/mbpp/mbpp.jsonl:validation``
evaluates every model on those problems too (all of them, the same n and seed).

Runs already finished are reused (an interrupted ablation resumes; use a new --out when you
change --steps or --set). Writes <out>/ablation.md and ablation.json.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

from rltf.cli._common import add_overrides_arg, quiet_model_loading
from rltf.config import from_dict, nested_overrides
from rltf.console import setup_logging
from rltf.demo import DATASET_TEST, DATASET_TRAIN, PRESETS, deep_merge, evaluate_held_out
from rltf.evaluation.bootstrap import Scores, bootstrap_mean, paired_difference
from rltf.evaluation.passk import pass_at_k
from rltf.evaluation.plots import read_metrics
from rltf.evaluation.report import EvalReport, ProblemResult
from rltf.feedback import GRPO
from rltf.records import Problem
from rltf.tasks import load_dataset
from rltf.training.config import SFTConfig, TrainConfig
from rltf.training.data import keeps_reference
from rltf.training.loop import run_train
from rltf.training.sft import run_sft

OFF = {"coarse": False, "fine": False, "adaptive": False}
GRPO_ROW: dict[str, Any] = {
    "rewards": {
        "coarse": True,
        "fine": False,
        "adaptive": False,
        "baseline": GRPO.baseline,
        "normalize": GRPO.normalize,
        "reward_pass": GRPO.reward_pass,
        "reward_fail": GRPO.reward_fail,
        "reward_runtime": GRPO.reward_runtime,
        "reward_compile": GRPO.reward_compile,
    }
}
ROWS: dict[str, dict[str, Any]] = {
    "sl": {"rewards": OFF},
    "coarse": {"rewards": {"coarse": True, "fine": False, "adaptive": False}},
    "coarse+fine": {"rewards": {"coarse": True, "fine": True, "adaptive": False}},
    "rltf": {"rewards": {"coarse": True, "fine": True, "adaptive": True}},
    "rltf-paper": {
        "rewards": {
            "coarse": True,
            "fine": True,
            "adaptive": True,
            "baseline": "group",
            "normalize": "none",
            "fine_alpha_cap": None,
            "fine_baseline": False,
        },
        "learner": {"clip_eps": None},
    },
    "official": {"rewards": {"coarse": True, "fine": True, "adaptive": True, "mode": "official"}},
    "grpo": GRPO_ROW,
    # Diagnostic rows, one change each (to "rltf", or to "grpo" for grpo-loo): what costs full
    # RLTF its gap to the scalar pass/fail reward? Std normalisation of all-fail groups (whose
    # graded rewards differ only in the kind of failure), the graded failure reward, or the
    # leave-one-out baseline?
    "rltf-nostd": {
        "rewards": {"coarse": True, "fine": True, "adaptive": True, "normalize": "none"}
    },
    "grpo-loo": deep_merge(GRPO_ROW, {"rewards": {"baseline": "loo"}}),
    "rltf-binary": {
        "rewards": {
            "coarse": True,
            "fine": True,
            "adaptive": True,
            "reward_fail": 0.0,
            "reward_runtime": 0.0,
            "reward_compile": 0.0,
        }
    },
}
WITHHELD = 0.5  # --from-tests: share of training problems that keep their references


def steps(args: argparse.Namespace) -> int:
    return int(args.steps or PRESETS[args.preset].train["loop"]["steps"])


def data_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"data": {"reference_fraction": WITHHELD}} if args.from_tests else {}


def warm_start(args: argparse.Namespace) -> Path:
    """The given warm start, or (--from-tests) one trained here without the withheld refs."""
    if not args.from_tests:
        return Path(args.warm_start)
    run_dir = Path(args.out) / "warm-start"
    preset = PRESETS[args.preset]
    merged = deep_merge(preset.sft, {"run_dir": str(run_dir), "seed": 0, **data_overrides(args)})
    final = run_dir / "final"
    cfg = from_dict(SFTConfig, merged, "ablation warm start")
    if not (final / "config.json").is_file() and run_sft(cfg, resume=True) != 0:
        sys.exit("ablation: the warm start was interrupted")
    return final


@functools.cache
def problems_of(spec: str) -> tuple[Problem, ...]:
    """The problems of ``spec``, loaded once: every model of the ablation is evaluated on them."""
    return tuple(load_dataset(spec))


def withheld_problems(args: argparse.Namespace) -> list[Problem]:
    """The training problems of the preset's tier whose references SL never saw."""
    preset = PRESETS[args.preset]
    tiers = preset.eval_difficulties
    train = [p for p in problems_of(DATASET_TRAIN) if not tiers or p.difficulty in tiers]
    train = train[: preset.train["data"].get("limit")]  # the problems RL actually trains on
    withheld = [p for p in train if not keeps_reference(p.id, WITHHELD)]
    return withheld[: args.eval_limit]


def evaluate(model: Path, out: Path, args: argparse.Namespace) -> dict[str, EvalReport]:
    """The evaluation sets of this ablation, same draws (evaluation seed) for every model.
    Serialised per model directory by a lock file, so several drivers sharing one --out (one per
    row set, as docs/results.md runs them) do not both write the warm start's evaluation."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "eval.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _evaluate(model, out, args)


def _evaluate(model: Path, out: Path, args: argparse.Namespace) -> dict[str, EvalReport]:
    preset = PRESETS[args.preset]
    tiers = preset.eval_difficulties if args.eval_tier_only else ()
    held_out = [p for p in problems_of(DATASET_TEST) if not tiers or p.difficulty in tiers]
    held_out = held_out[: args.eval_limit]  # --eval-limit, not the preset's own eval_limit
    eval_dir = out / ("eval" if args.eval_tier_only else "eval-all")
    sets = {
        "held-out": evaluate_held_out(
            model, eval_dir, preset, args.eval_seed, args.n, True, problems=held_out
        )
    }
    if args.from_tests:
        sets["withheld"] = evaluate_held_out(
            model, out / "eval-withheld", preset, args.eval_seed, args.n, True,
            problems=withheld_problems(args), dataset=f"{DATASET_TRAIN} (references withheld)",
        )  # fmt: skip
    for spec in args.also:  # transfer sets (HumanEval, MBPP): every problem, the same settings
        sets[spec] = evaluate_held_out(
            model, out / ("eval-" + re.sub(r"[^A-Za-z0-9]+", "-", spec).strip("-")), preset,
            args.eval_seed, args.n, True, problems=list(problems_of(spec)), dataset=spec,
        )  # fmt: skip
    return sets


def run_one(row: str, seed: int, start: Path, args: argparse.Namespace) -> Path:
    """Train one (row, seed) from the warm start (reused when finished); returns its model."""
    run_dir = Path(args.out) / row / f"seed{seed}" / "train"
    overrides = {
        "run_dir": str(run_dir),
        "seed": seed,
        "policy": {"model": str(start)},
        "loop": {"steps": steps(args), "warm_start_steps": 0},
        "checkpoint": {"every": 25},
        "metrics": {"tensorboard": False, "progress": False},
        **data_overrides(args),
    }
    merged = deep_merge(PRESETS[args.preset].train, overrides)
    merged = deep_merge(deep_merge(merged, ROWS[row]), nested_overrides(args.overrides))
    cfg = from_dict(TrainConfig, merged, f"ablation row {row}")
    final = run_dir / "final"
    if not (final / "config.json").is_file() and run_train(cfg, resume=True) != 0:
        sys.exit(f"ablation: training {row} seed {seed} was interrupted")
    return final


def compute_used(metrics: Path) -> dict[str, float]:
    """Wall seconds and programs executed, from the run's own metrics (a reused run reports
    what it cost when it ran)."""
    last: dict[str, Any] = {}
    for row in read_metrics(metrics):
        last.update(row)
    return {"seconds": last.get("time/wall_s", 0.0), "programs": last.get("total/programs", 0.0)}


def per_problem(report: EvalReport) -> dict[str, float]:
    """pass@1 of each problem (c / n): the unit the bootstrap resamples."""
    return {p.problem_id: p.c / p.n if p.n else 0.0 for p in report.problems}


CONTROLS = ("sl", "grpo")  # the rows every other row is paired against


Runs = dict[str, dict[int, EvalReport]]  # row -> training seed -> its evaluation


def table(name: str, runs: Runs, tier: str | None = None) -> str:
    """Markdown: each row's pass@1 mean [95% CI], the paired differences against SL only and
    scalar GRPO, and pass@k (mean over seeds) for the report's other ks; ``tier``: only the
    problems of that difficulty."""
    results = {
        row: {
            seed: [p for p in r.problems if tier in (None, p.difficulty)] for seed, r in rs.items()
        }
        for row, rs in runs.items()
    }
    scores: dict[str, Scores] = {
        row: {
            seed: {p.problem_id: p.c / p.n if p.n else 0.0 for p in ps} for seed, ps in rs.items()
        }
        for row, rs in results.items()
    }
    first = next(iter(next(iter(runs.values())).values()))
    ks = sorted(k for k in first.pass_at_k if k != 1)
    controls = [c for c in CONTROLS if c in scores]
    lines = [
        f"**{name}** ({len(next(iter(scores['warm start'].values())))} problems, n={first.n})",
        "",
        "| row | seeds | pass@1 (%) [95% CI] | "
        + "".join(f"Δ vs {c} (points) [95% CI] | " for c in controls)
        + " | ".join(f"pass@{k} (%)" for k in ks)
        + " |",
        "|---|---:|---:|" + "---:|" * (len(controls) + len(ks)),
    ]
    for row, by_seed in scores.items():
        iv = bootstrap_mean(by_seed)
        ci = f"{100 * iv.mean:.2f} [{100 * iv.low:.2f}, {100 * iv.high:.2f}]"
        deltas = [
            "—" if row in (c, "warm start") else paired_difference(by_seed, scores[c]).fmt()
            for c in controls
        ]
        cells = [f"{100 * mean_pass_at_k(list(results[row].values()), k):.2f}" for k in ks]
        lines.append(f"| {row} | {len(by_seed)} | {ci} | " + " | ".join(deltas + cells) + " |")
    return "\n".join(lines)


def mean_pass_at_k(runs: list[list[ProblemResult]], k: int) -> float:
    """pass@k over each run's problems (unbiased estimator), averaged over runs (seeds)."""
    per_run = [sum(pass_at_k(p.n, p.c, k) for p in probs) / len(probs) for probs in runs]
    return sum(per_run) / len(per_run)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warm-start", help="the supervised model every row starts from")
    parser.add_argument("--from-tests", action="store_true", help="RL from tests alone")
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--n", type=int, default=None, help="samples a problem (preset's)")
    parser.add_argument("--eval-seed", type=int, default=1234)
    parser.add_argument(
        "--eval-tier-only",
        action="store_true",
        help="evaluate held-out on the preset's tier only (default: all 265 problems)",
    )
    parser.add_argument(
        "--eval-limit",
        type=int,
        default=None,
        help="evaluate the first N problems of each set (default: all of them, the preset's "
        "eval_limit ignored; SmolLM2 on a CPU)",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="DATASET",
        help="also evaluate every model on this dataset spec, e.g. humaneval or "
        "mbpp:../shared/data/mbpp/mbpp.jsonl:validation; repeatable",
    )
    parser.add_argument("--rows", nargs="+", default=["sl", "rltf", "grpo"], choices=list(ROWS))
    add_overrides_arg(parser, "override a training config key of every row; repeatable")
    args = parser.parse_args()
    if args.from_tests == bool(args.warm_start):
        parser.error("give exactly one of --warm-start DIR and --from-tests")
    if args.warm_start and not (Path(args.warm_start) / "config.json").is_file():
        parser.error(f"--warm-start {args.warm_start!r} is not a model directory")
    for spec in args.also:  # before any training: a typo must not cost a run
        try:
            problems_of(spec)
        except (OSError, ValueError) as e:
            parser.error(f"--also {spec!r}: {e}")
    return args


def main() -> int:
    args = parse_args()
    setup_logging(-1)
    quiet_model_loading()
    start = warm_start(args)
    out = Path(args.out)
    reports: dict[str, Runs] = {}  # evaluation set -> row -> seed -> report
    compute: dict[str, list[dict[str, float]]] = {}

    def record(row: str, seed: int, sets: dict[str, EvalReport]) -> None:
        for name, report in sets.items():
            reports.setdefault(name, {}).setdefault(row, {})[seed] = report

    record("warm start", 0, evaluate(start, out / "warm-start", args))
    for row in args.rows:
        for seed in args.seeds:
            final = run_one(row, seed, start, args)
            sets = evaluate(final, final.parents[1], args)
            record(row, seed, sets)
            compute.setdefault(row, []).append(compute_used(final.parent / "metrics.jsonl"))
            summary = ", ".join(f"{n} {100 * r.pass_at_k[1]:.2f}%" for n, r in sets.items())
            print(f"{row:12s} seed {seed}: pass@1 {summary}", flush=True)

    preset = PRESETS[args.preset]
    intro = (
        f"{steps(args)} learner steps per run from {start}; seeds {args.seeds}; temperature "
        f"{preset.eval_temperature}, evaluation seed {args.eval_seed} (the same draws in every "
        "row); 95% CIs: two-stage bootstrap over seeds and problems; Δ: paired by seed and "
        "problem." + (f" Overrides: {' '.join(args.overrides)}." if args.overrides else "")
    )
    labels = {"held-out": f"held-out {DATASET_TEST}", "withheld": "withheld training problems"}
    parts = [intro] + [table(labels.get(n, n), reports[n]) for n in reports]
    if not args.eval_tier_only:
        for tier in preset.eval_difficulties:  # the demo's tier: where the model scores at all
            label = f"held-out {DATASET_TEST}, {tier} tier"
            parts.insert(2, table(label, reports["held-out"], tier))
    cost = ["| row | train s / run | programs / run |", "|---|---:|---:|"]
    for row, runs in compute.items():
        secs = sum(c["seconds"] for c in runs) / len(runs)
        programs = sum(c["programs"] for c in runs) / len(runs)
        cost.append(f"| {row} | {secs:.0f} | {programs:.0f} |")
    text = "\n\n".join([*parts, "\n".join(cost)])
    print("\n" + text)
    (out / "ablation.md").write_text(text + "\n", encoding="utf-8")
    scores = {
        name: {row: {seed: per_problem(r) for seed, r in rs.items()} for row, rs in runs.items()}
        for name, runs in reports.items()
    }
    saved = {"args": vars(args), "compute": compute, "scores": scores}
    (out / "ablation.json").write_text(json.dumps(saved, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
