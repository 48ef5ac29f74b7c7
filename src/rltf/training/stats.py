"""Run statistics of the online loop: cumulative counters (checkpointed), the window of actor
rounds since the last metrics row, and the metrics row itself (keys listed in docs/training.md)."""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from rltf.records import OUTCOMES
from rltf.training.actor import RoundReport
from rltf.training.buffer import ReplayBuffer, ScoredSample
from rltf.training.run import StageClock


class Totals:
    """Cumulative counters of the run (checkpointed) and a window since the last metrics row."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.window: list[RoundReport] = []
        self.recent: deque[dict[str, Any]] = deque(maxlen=16)

    def add_report(self, r: RoundReport) -> None:
        self.counts.update(
            rounds=1,
            programs=r.programs,
            generated_tokens=r.generated_tokens,
            exec_failures=r.exec_failures,
            bad_samples=r.bad_samples,
            baseline_fallbacks=r.baseline_fallbacks,
        )
        self.outcomes.update(r.outcomes)
        self.window.append(r)
        self.recent.extend(r.examples)

    def window_metrics(self) -> dict[str, float]:
        """Outcome mix, pass rate, error categories and mean rewards of the rounds finished since
        the last row (nothing when none finished)."""
        reports, self.window = self.window, []
        outcomes: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        scored: list[ScoredSample] = []
        for r in reports:
            outcomes.update(r.outcomes)
            categories.update(r.categories)
            errors.update(r.error_types)
            scored.extend(r.scored)
        judged = sum(outcomes.values())
        if not judged:
            return {}
        out: dict[str, float] = {f"outcome/{o}": outcomes[o] / judged for o in OUTCOMES}
        out["actor/pass_rate"] = outcomes["passed"] / judged
        out["actor/programs"] = float(sum(r.programs for r in reports))
        out.update({f"category/{c}": float(n) for c, n in categories.items()})
        out.update({f"error/{t}": float(n) for t, n in errors.most_common(8)})
        if scored:
            n = len(scored)
            out["reward/coarse"] = sum(s.rewards.r_coarse for s in scored) / n
            out["reward/adaptive"] = sum(s.rewards.r_adaptive for s in scored) / n
            out["reward/fine"] = sum(s.rewards.r_fine for s in scored) / n
            out["reward/baseline_coarse"] = sum(s.rewards.baseline.coarse for s in scored) / n
            tokens = sum(len(s.rewards) for s in scored)
            out["reward/token_mean"] = sum(s.rewards.total for s in scored) / max(tokens, 1)
            for name in ("coarse", "fine", "adaptive"):
                out[f"reward/token_{name}"] = sum(
                    sum(getattr(s.rewards, name)) for s in scored
                ) / max(tokens, 1)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "outcomes": dict(self.outcomes)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.counts = Counter(state["counts"])
        self.outcomes = Counter(state["outcomes"])


def metrics_row(
    stats: dict[str, Any],
    kind: str,
    totals: Totals,
    buffer: ReplayBuffer,
    clock: StageClock,
    actor_version: int,
    step: int,
) -> dict[str, float]:
    wall = max(clock.wall(), 1e-9)
    row = {k: float(v) for k, v in stats.items()}
    row["learner/is_rl"] = 1.0 if kind == "rl" else 0.0
    if stats.get("learner/seconds"):
        row["learner/tokens_per_s"] = stats.get("learner/tokens", 0) / stats["learner/seconds"]
    row.update(totals.window_metrics())
    judged = sum(totals.outcomes.values())
    row["total/pass_rate"] = totals.outcomes["passed"] / judged if judged else 0.0
    for key in ("programs", "rounds", "exec_failures", "bad_samples", "baseline_fallbacks"):
        row[f"total/{key}"] = float(totals.counts[key])
    row["actor/version_lag"] = float(step - actor_version)
    row["buffer/size"] = float(len(buffer))
    row["buffer/dropped_stale"] = float(buffer.dropped_stale)
    row["buffer/evicted"] = float(buffer.evicted)
    row["throughput/gen_tokens_per_s"] = totals.counts["generated_tokens"] / wall
    row["throughput/programs_per_s"] = totals.counts["programs"] / wall
    row["throughput/learner_tokens_per_s"] = totals.counts["learner_tokens"] / wall
    row.update({f"time/share_{k}": v for k, v in clock.shares().items()})
    row["time/wall_s"] = wall
    return row


def status_text(row: dict[str, float], buffer_size: int) -> str:
    parts = []
    if "loss/sl" in row:
        parts.append(f"sl {row['loss/sl']:.3f}")
    if "loss/rl" in row:
        parts.append(f"rl {row['loss/rl']:+.3f}")
    if "actor/pass_rate" in row:
        parts.append(f"pass {100 * row['actor/pass_rate']:.1f}%")
    parts.append(f"buf {buffer_size}")
    return " ".join(parts)


def summary(totals: Totals, clock: StageClock, step: int) -> dict[str, Any]:
    wall = clock.wall()
    return {
        "steps": step,
        "wall_s": round(wall, 3),
        "time_shares": {k: round(v, 4) for k, v in clock.shares().items()},
        "counts": dict(totals.counts),
        "outcomes": dict(totals.outcomes),
        "programs_per_s": totals.counts["programs"] / max(wall, 1e-9),
        "gen_tokens_per_s": totals.counts["generated_tokens"] / max(wall, 1e-9),
    }


def shares_text(shares: dict[str, float]) -> str:
    return ", ".join(f"{k} {100 * v:.0f}%" for k, v in shares.items())
