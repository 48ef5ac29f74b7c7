"""PNG plots of an evaluation report and of a training run (matplotlib, Agg backend: no display).

Each function draws on its own ``Figure`` (not pyplot's global figure manager), so plotting is
safe from worker threads and never leaks figures across calls.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; a headless server has no display
from matplotlib.figure import Figure

from rltf.evaluation.report import EvalReport

log = logging.getLogger(__name__)

OUTCOME_COLORS = {
    "passed": "#2ca02c",
    "failed": "#ff7f0e",
    "runtime_error": "#d62728",
    "compile_error": "#9467bd",
    "timeout": "#8c564b",
    "sandbox_error": "#7f7f7f",
}


def _save(fig: Figure, out_png: str | Path) -> Path:
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    return out


def plot_pass_at_k(report: EvalReport, out_png: str | Path) -> Path:
    """Grouped bars: one group per k, one bar for all problems and one per difficulty level."""
    ks = sorted(report.pass_at_k)
    groups = [("all", report.pass_at_k)] + [(g.name, g.pass_at_k) for g in report.per_difficulty]
    fig = Figure(figsize=(max(4.0, 1.6 * max(1, len(ks)) + 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / len(groups)
    for gi, (name, values) in enumerate(groups):
        xs = [i + (gi - (len(groups) - 1) / 2) * width for i in range(len(ks))]
        ys = [100 * values.get(k, math.nan) for k in ks]
        bars = ax.bar(xs, ys, width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(ks)), [f"pass@{k}" for k in ks])
    ax.set_ylabel("%")
    # Scale to the data: pass rates of small models are often a few percent (paper: 1-4 % pass@1).
    top = max((100 * v for _, values in groups for v in values.values()), default=0.0)
    ax.set_ylim(0, min(105.0, max(5.0, 1.2 * top)))
    ax.set_title(f"{report.model or 'programs'} on {report.dataset} (n={report.n})", fontsize=9)
    if not ks:
        ax.text(0.5, 0.5, "no k reported", ha="center", va="center", transform=ax.transAxes)
    if len(groups) > 1:
        ax.legend(fontsize=8)
    return _save(fig, out_png)


def plot_outcomes(report: EvalReport, out_png: str | Path) -> Path:
    """Horizontal bar of the outcome mix (share of samples, %), as in the paper's error analysis."""
    shares = report.outcome_shares
    names = list(report.outcomes)
    fig = Figure(figsize=(6.0, 0.45 * len(names) + 1.2))
    ax = fig.add_subplot()
    ys = [100 * shares[o] for o in names]
    bars = ax.barh(names, ys, color=[OUTCOME_COLORS.get(o, "#1f77b4") for o in names])
    ax.bar_label(
        bars,
        labels=[f"{y:.1f}% ({report.outcomes[o]})" for o, y in zip(names, ys, strict=True)],
        fontsize=7,
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 115)
    ax.set_xlabel(f"% of {report.num_samples} samples")
    ax.set_title("outcomes", fontsize=9)
    return _save(fig, out_png)


def plot_report(report: EvalReport, out_dir: str | Path) -> list[Path]:
    """Write ``pass_at_k.png`` and ``outcomes.png`` into ``out_dir``."""
    out = Path(out_dir)
    return [
        plot_pass_at_k(report, out / "pass_at_k.png"),
        plot_outcomes(report, out / "outcomes.png"),
    ]


# ------------------------------------------------------------------------------------------------
# training curves

# Keys tried in order for the x axis; the row number is used when none is present.
STEP_KEYS = ("step", "global_step", "iteration", "train/step")
MAX_LINES = 8  # per panel, in order of first appearance; more is unreadable


def _numeric(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def read_metrics(metrics_jsonl: str | Path) -> list[dict[str, Any]]:
    """Rows of a metrics JSONL file (nested objects flattened to ``a/b`` keys). Unparsable lines
    are skipped with one warning: a training run may be writing the file right now."""
    rows, bad = [], 0
    with open(metrics_jsonl, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(obj, dict):
                rows.append(_flatten(obj))
    if bad:
        log.warning("%s: skipped %d unparsable line(s)", metrics_jsonl, bad)
    return rows


def _series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, row in enumerate(rows):
        y = _numeric(row.get(key))
        if y is None:
            continue
        x = next(
            (_numeric(row.get(s)) for s in STEP_KEYS if _numeric(row.get(s)) is not None), None
        )
        xs.append(float(i) if x is None else x)
        ys.append(y)
    return xs, ys


def _matching_keys(rows: Sequence[dict[str, Any]], words: Sequence[str]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        for k, v in row.items():
            name = k.lower()
            if _numeric(v) is not None and any(w in name for w in words) and k not in STEP_KEYS:
                keys.setdefault(k)
    return list(keys)


def plot_training_curves(
    metrics_jsonl: str | Path,
    out_png: str | Path,
    panels: Sequence[tuple[str, Sequence[str]]] = (
        ("reward", ("reward",)),
        ("pass rate", ("pass_rate", "pass@", "pass_at", "passed", "pass/")),
        ("loss", ("loss",)),
    ),
) -> Path:
    """Plot training metrics over steps: one panel per ``(title, key substrings)``; every numeric
    key containing one of the substrings gets a line (at most ``MAX_LINES``). Tolerant by design: missing keys, rows that
    carry only some metrics (train vs eval rows), nested dicts and non-numeric values are fine; a
    panel with no matching key says so instead of failing. The x axis is ``step`` (or
    ``global_step``/``iteration``), else the row number."""
    rows = read_metrics(metrics_jsonl)
    fig = Figure(figsize=(5.0 * len(panels), 3.4))
    for pi, (title, words) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), pi + 1)
        keys = _matching_keys(rows, words)[:MAX_LINES]
        for key in keys:
            xs, ys = _series(rows, key)
            ax.plot(xs, ys, marker="." if len(xs) < 50 else None, label=key)
        if keys:
            ax.legend(fontsize=7)
        else:
            ax.text(
                0.5, 0.5, f"no {title} metrics", ha="center", va="center", transform=ax.transAxes
            )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    return _save(fig, out_png)
