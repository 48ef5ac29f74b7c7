"""Learning curves of an ablation (benchmarks/ablation.py), one panel per quantity people read:

    actor pass rate | mean sample reward (R_coarse) | policy entropy | KL to behaviour and clip
    fraction | held-out pass@1 with its 95% CI

Each row is the mean over its seeds of an exponentially smoothed curve (a shaded band spans the
seeds' min..max). The held-out panel is read from <out>/ablation.json.

    python benchmarks/plot_ablation.py runs/ablation --out docs/img/ablation-curves.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matplotlib.figure import Figure

from rltf.evaluation.bootstrap import bootstrap_mean
from rltf.evaluation.plots import read_metrics

CURVES = (
    ("actor pass rate (training problems)", "actor/pass_rate"),
    ("mean sample reward R_coarse", "reward/coarse"),
    ("policy entropy (nats / token)", "policy/entropy"),
    ("KL(behaviour ‖ current), clip fraction", ("learner/kl_behaviour", "learner/clip_fraction")),
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
    saved = json.loads((root / "ablation.json").read_text(encoding="utf-8"))
    rows = [r for r in saved["scores"]["held-out"] if r != "warm start"]
    fig = Figure(figsize=(4.2 * (len(CURVES) + 1), 3.6))
    for i, (title, keys) in enumerate(CURVES):
        ax = fig.add_subplot(1, len(CURVES) + 1, i + 1)
        for key in (keys,) if isinstance(keys, str) else keys:
            for row in rows:
                curves = [series(run / "train", key) for run in sorted((root / row).glob("seed*"))]
                curves = [c for c in curves if c[0]]
                if not curves:
                    continue
                n = min(len(c[0]) for c in curves)
                xs = curves[0][0][:n]
                stack = [c[1][:n] for c in curves]
                mean = [sum(col) / len(col) for col in zip(*stack, strict=True)]
                style = "--" if key.endswith("clip_fraction") else "-"
                ax.plot(
                    xs,
                    mean,
                    style,
                    label=f"{row} ({len(curves)} seeds)" + (" clip" if style == "--" else ""),
                )
                ax.fill_between(
                    xs,
                    [min(c) for c in zip(*stack, strict=True)],
                    [max(c) for c in zip(*stack, strict=True)],
                    alpha=0.15,
                )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("learner step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax = fig.add_subplot(1, len(CURVES) + 1, len(CURVES) + 1)
    labels = list(saved["scores"]["held-out"])
    for j, row in enumerate(labels):
        scores = {int(s): v for s, v in saved["scores"]["held-out"][row].items()}
        iv = bootstrap_mean(scores)
        ax.errorbar(
            [j],
            [100 * iv.mean],
            yerr=[[100 * (iv.mean - iv.low)], [100 * (iv.high - iv.mean)]],
            fmt="o",
            capsize=4,
        )
    ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
    ax.set_title("held-out pass@1 (%), 95% CI", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", help="the ablation's --out directory")
    parser.add_argument("--out", default=None, help="PNG path (default <root>/curves.png)")
    args = parser.parse_args()
    root = Path(args.root)
    if not (root / "ablation.json").is_file():
        sys.exit(f"plot_ablation: {root}/ablation.json not found (run benchmarks/ablation.py)")
    print(plot(root, Path(args.out) if args.out else root / "curves.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
