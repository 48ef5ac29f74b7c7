"""Learning curves of an ablation (benchmarks/ablation.py), one panel per quantity people read:

    actor pass rate | mean sample reward (R_coarse) | policy entropy | KL to behaviour and clip
    fraction | SL loss | held-out (and withheld) pass@1 with its 95% CI

Each row is the mean over its seeds of an exponentially smoothed curve (a shaded band spans the
seeds' min..max). The held-out panel is read from <out>/ablation.json. It also prints each
row's training quantities (first and last ``--window`` steps, default 20, mean over seeds) as a
markdown table.

    python benchmarks/plot_ablation.py runs/ablation --out docs/img/ablation-curves.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from rltf.evaluation.bootstrap import bootstrap_mean
from rltf.evaluation.plots import read_metrics

CURVES = (
    ("actor pass rate (training problems)", "actor/pass_rate"),
    ("mean sample reward R_coarse", "reward/coarse"),
    ("policy entropy (nats / token)", "policy/entropy"),
    ("KL(behaviour ‖ current), clip fraction", ("learner/kl_behaviour", "learner/clip_fraction")),
    ("SL loss on the reference batches", "loss/sl"),  # where the RL term pulls against SL
)


def smooth(values: list[float], alpha: float = 0.1) -> list[float]:
    out, level = [], None
    for v in values:
        level = v if level is None else (1 - alpha) * level + alpha * v
        out.append(level)
    return out


def series(run: Path, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in read_metrics(run / "metrics.jsonl"):
        value = row.get(key)
        if isinstance(value, (int, float)):
            xs.append(float(row["step"]))
            ys.append(float(value))
    return xs, smooth(ys)


def plot(root: Path, out: Path) -> Path:
    """A 2-row grid: the training curves, then held-out (and, for --from-tests, withheld)
    pass@1 with CIs; one colour per row in every panel."""
    saved = json.loads((root / "ablation.json").read_text(encoding="utf-8"))
    labels = list(saved["scores"]["held-out"])
    colour = {row: f"C{i}" for i, row in enumerate(labels)}
    sets = [n for n in ("held-out", "withheld") if n in saved["scores"]]
    cols = math.ceil((len(CURVES) + len(sets)) / 2)
    fig = Figure(figsize=(4.7 * cols, 7.5))
    for i, (title, keys) in enumerate(CURVES):
        ax = fig.add_subplot(2, cols, i + 1)
        for key in (keys,) if isinstance(keys, str) else keys:
            for row in labels[1:]:
                curve_panel(ax, root, row, key, colour[row])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("learner step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for j, name in enumerate(sets):
        ax = fig.add_subplot(2, cols, len(CURVES) + 1 + j)
        ci_panel(ax, saved["scores"][name], colour)
        ax.set_title(f"{name} pass@1 (%), mean and 95% CI over seeds x problems", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return out


def curve_panel(ax: Any, root: Path, row: str, key: str, colour: str) -> None:
    """One row's smoothed curve of ``key``: the mean over seeds, the seeds' range shaded."""
    curves = [series(run / "train", key) for run in sorted((root / row).glob("seed*"))]
    curves = [c for c in curves if c[0]]
    if not curves:
        return  # e.g. the SL-only row has no actor
    n = min(len(c[0]) for c in curves)
    stack = [c[1][:n] for c in curves]
    columns = list(zip(*stack, strict=True))
    clip = key.endswith("clip_fraction")
    label = f"{row} ({len(curves)} seeds)" + (" clip fraction" if clip else "")
    ax.plot(curves[0][0][:n], [sum(c) / len(c) for c in columns], "--" if clip else "-",
            color=colour, label=label)  # fmt: skip
    ax.fill_between(curves[0][0][:n], [min(c) for c in columns], [max(c) for c in columns],
                    color=colour, alpha=0.15)  # fmt: skip


def ci_panel(
    ax: Any, scores: dict[str, dict[str, dict[str, float]]], colour: dict[str, str]
) -> None:
    for j, (row, by_seed) in enumerate(scores.items()):
        iv = bootstrap_mean({int(s): v for s, v in by_seed.items()})
        low, high = 100 * (iv.mean - iv.low), 100 * (iv.high - iv.mean)
        ax.errorbar([j], [100 * iv.mean], yerr=[[low], [high]], fmt="o", capsize=4,
                    color=colour[row])  # fmt: skip
    ax.set_xticks(range(len(scores)), list(scores), rotation=30, fontsize=8)
    ax.grid(alpha=0.3)


TRAINING_SUMMARY = (
    ("actor pass rate", "actor/pass_rate"),
    ("zero-advantage token share", "advantage/zero_share"),
    ("entropy", "policy/entropy"),
    ("SL loss", "loss/sl"),
)


def training_summary(root: Path, rows: list[str], window: int = 20) -> str:
    """Markdown: each row's mean over seeds of the first and last ``window`` steps of each
    training quantity (raw, unsmoothed), as 'first -> last'."""
    lines = [
        "| row | " + " | ".join(name for name, _ in TRAINING_SUMMARY) + " |",
        "|---|" + "---:|" * len(TRAINING_SUMMARY),
    ]
    for row in rows:
        runs = [
            list(read_metrics(r / "train" / "metrics.jsonl"))
            for r in sorted((root / row).glob("seed*"))
        ]
        cells = []
        for _, key in TRAINING_SUMMARY:
            ends = []
            for part in (slice(0, window), slice(-window, None)):
                values = [m[key] for run in runs for m in run[part] if key in m]
                ends.append(f"{sum(values) / len(values):.3f}" if values else "—")
            cells.append(" → ".join(ends) if ends[0] != "—" else "—")
        lines.append(f"| {row} ({len(runs)} seeds) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", help="the ablation's --out directory")
    parser.add_argument("--out", default=None, help="PNG path (default <root>/curves.png)")
    parser.add_argument(
        "--window", type=int, default=20, help="steps averaged at each end of the table (≤ steps/2)"
    )
    args = parser.parse_args()
    if args.window < 1:
        parser.error(f"--window must be >= 1, got {args.window}")
    root = Path(args.root)
    if not (root / "ablation.json").is_file():
        sys.exit(f"plot_ablation: {root}/ablation.json not found (run benchmarks/ablation.py)")
    print(plot(root, Path(args.out) if args.out else root / "curves.png"))
    rows = [r for r in json.loads((root / "ablation.json").read_text())["scores"]["held-out"]]
    print(training_summary(root, [r for r in rows if r != "warm start"], args.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
