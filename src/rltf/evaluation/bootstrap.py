"""Confidence intervals for pass@k over seeds and problems (the ablation's statistics).

A learning claim compares training runs evaluated on the same problems with the same sampling
draws. Both sources of noise matter: which problems the benchmark happens to hold, and which seed
the run happened to get. :func:`bootstrap_mean` resamples both (problems and seeds with
replacement, Efron & Tibshirani 1993 ch. 13, the "two-stage" bootstrap) and returns the
percentile interval; :func:`paired_difference` does the same for the per-problem difference of
two rows, paired by seed and problem, which removes the problem-difficulty variance shared by
both rows (the paired design is why every row uses the same evaluation seed).

Hand-written (30 lines) because scipy.stats.bootstrap resamples one axis only.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Scores = Mapping[int, Mapping[str, float]]  # seed -> problem id -> per-problem score (e.g. c/n)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    seeds: int
    problems: int

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def fmt(self, scale: float = 100.0, digits: int = 2) -> str:
        return (
            f"{scale * self.mean:+.{digits}f} [{scale * self.low:+.{digits}f}, "
            f"{scale * self.high:+.{digits}f}]"
        )


def _matrix(scores: Scores, problems: Sequence[str]) -> list[list[float]]:
    return [[scores[s].get(p, 0.0) for p in problems] for s in sorted(scores)]


def _bootstrap(rows: list[list[float]], draws: int, seed: int, level: float) -> Interval:
    if not rows or not rows[0]:
        raise ValueError("bootstrap: no seeds or no problems")
    rng = random.Random(seed)
    n_seeds, n_problems = len(rows), len(rows[0])
    mean = statistics.fmean(v for row in rows for v in row)
    stats = []
    for _ in range(draws):
        picked = [rows[rng.randrange(n_seeds)] for _ in range(n_seeds)]
        idx = [rng.randrange(n_problems) for _ in range(n_problems)]
        stats.append(statistics.fmean(row[i] for row in picked for i in idx))
    stats.sort()
    lo = stats[int((1 - level) / 2 * (draws - 1))]
    hi = stats[int((1 + level) / 2 * (draws - 1))]
    return Interval(mean, lo, hi, n_seeds, n_problems)


def bootstrap_mean(
    scores: Scores, draws: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Mean over seeds and problems with a two-stage percentile bootstrap interval."""
    problems = sorted({p for per_seed in scores.values() for p in per_seed})
    return _bootstrap(_matrix(scores, problems), draws, seed, level)


def paired_difference(
    a: Scores, b: Scores, draws: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Mean of a − b over the seeds both rows ran and the problems either evaluated (a problem
    missing from one row counts 0 there, as pass@k does), with its bootstrap interval."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ValueError("paired_difference: the rows share no seed")
    problems = sorted({p for s in seeds for p in (*a[s], *b[s])})
    rows = [[a[s].get(p, 0.0) - b[s].get(p, 0.0) for p in problems] for s in seeds]
    return _bootstrap(rows, draws, seed, level)


__all__ = ["Interval", "Scores", "bootstrap_mean", "paired_difference"]
