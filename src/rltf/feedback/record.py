"""The plain records feedback produces: a Baseline and the TokenRewards of one sample.

Both are frozen dataclasses of floats, ints and strings with ``to_dict`` / ``from_dict``, so they
can be logged as JSON, kept in the replay buffer and written into checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from rltf.feedback.config import BaselineKind, Mode
from rltf.records import CATEGORIES, OUTCOMES, Category, Outcome, RecordError

BASELINE_KINDS: tuple[str, ...] = get_args(BaselineKind)
MODES: tuple[str, ...] = get_args(Mode)


@dataclass(frozen=True)
class Baseline:
    """Rewards of the baseline Ŵ_b of one problem (DESIGN.md §3).

    ``coarse`` = R_coarse(Ŵ_b), ``adaptive`` = R_adaptive(Ŵ_b), ``official`` = the official
    code's sample reward of Ŵ_b (R_adaptive for a failed program, else R_coarse). For a group
    baseline each is the mean over the ``n`` samples of the problem (sandbox errors excluded).
    ``fine`` = R_fine(Ŵ_b) (mean for group/loo), used only with ``fine_baseline`` in paper mode:
    the official code subtracts only the baseline's sample reward
    (``apps_dataset_online_v1.py``: ``relative_reward = curr_reward - baseline_reward``).
    ``loo`` (leave-one-out) baselines are per sample: the mean over the problem's other samples.
    """

    kind: BaselineKind
    coarse: float = 0.0
    adaptive: float = 0.0
    official: float = 0.0
    n: int = 0  # verdicts behind it: 1 for greedy, k for group, k-1 for loo, 0 for none
    fine: float = 0.0  # R_fine(Ŵ_b) (mean for group/loo): subtracted when fine_baseline is on

    @classmethod
    def none(cls) -> Baseline:
        return cls("none")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "coarse": self.coarse,
            "adaptive": self.adaptive,
            "official": self.official,
            "n": self.n,
            "fine": self.fine,
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> Baseline:
        if not isinstance(d, Mapping):
            raise RecordError(where, "baseline", "expected an object")
        kind = d.get("kind")
        if kind not in BASELINE_KINDS:
            raise RecordError(
                where, "baseline.kind", f"expected one of {', '.join(BASELINE_KINDS)}"
            )
        return cls(
            kind=kind,
            coarse=_float(d, "coarse", where, "baseline."),
            adaptive=_float(d, "adaptive", where, "baseline."),
            official=_float(d, "official", where, "baseline."),
            n=_int(d, "n", where, "baseline."),
            fine=_float(d, "fine", where, "baseline."),
        )


@dataclass(frozen=True)
class TokenRewards:
    """The reward r_t of every generated token of one sample, with its breakdown.

    The RL loss is ``-sum_t rewards[t] * log p(token_t)``. ``rewards[t] == coarse[t] + fine[t] +
    adaptive[t]`` in both modes (in official mode ``adaptive`` is the change that replacing the
    failed reward by R_adaptive makes, and every component is multiplied by the critic weight).
    The scalars say where the numbers came from: the sample's rewards before any baseline,
    the baseline, the category and token span of the fine term and its scale α.
    """

    rewards: tuple[float, ...]
    coarse: tuple[float, ...]
    fine: tuple[float, ...]
    adaptive: tuple[float, ...]
    mode: Mode
    outcome: Outcome
    category: Category
    span: tuple[int, int] | None  # inclusive (S, E) where the fine term applies; None: nowhere
    alpha: float  # scale of the fine term (0.0 where it does not apply)
    r_coarse: float  # R_coarse(Ŵ)
    r_adaptive: float  # R_adaptive(Ŵ)
    r_fine: float  # R_fine(Ŵ) from the category, before α (0 for ignore and non-errors)
    baseline: Baseline
    critic_weighted: bool = False
    outcome_scale: float = 1.0  # 1/std of the group's rewards when normalised (coarse, adaptive)

    def __post_init__(self) -> None:
        n = len(self.rewards)
        for name in ("coarse", "fine", "adaptive"):
            if len(getattr(self, name)) != n:
                raise RecordError("TokenRewards", name, f"{len(getattr(self, name))} != {n} tokens")
        if self.span is not None and not 0 <= self.span[0] <= self.span[1] < n:
            raise RecordError("TokenRewards", "span", f"{self.span} outside {n} tokens")

    def __len__(self) -> int:
        return len(self.rewards)

    @property
    def total(self) -> float:
        """Σ_t r_t."""
        return sum(self.rewards)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rewards": list(self.rewards),
            "coarse": list(self.coarse),
            "fine": list(self.fine),
            "adaptive": list(self.adaptive),
            "mode": self.mode,
            "outcome": self.outcome,
            "category": self.category,
            "span": None if self.span is None else list(self.span),
            "alpha": self.alpha,
            "r_coarse": self.r_coarse,
            "r_adaptive": self.r_adaptive,
            "r_fine": self.r_fine,
            "baseline": self.baseline.to_dict(),
            "critic_weighted": self.critic_weighted,
            "outcome_scale": self.outcome_scale,
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> TokenRewards:
        if not isinstance(d, Mapping):
            raise RecordError(where, "<record>", "expected a JSON object")
        for key, allowed in (("mode", MODES), ("outcome", OUTCOMES), ("category", CATEGORIES)):
            if d.get(key) not in allowed:
                raise RecordError(where, key, f"expected one of {', '.join(allowed)}")
        span = d.get("span")
        if span is not None and (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(i, int) for i in span)
        ):
            raise RecordError(where, "span", "expected [S, E] or null")
        return cls(
            rewards=_floats(d, "rewards", where),
            coarse=_floats(d, "coarse", where),
            fine=_floats(d, "fine", where),
            adaptive=_floats(d, "adaptive", where),
            mode=d["mode"],
            outcome=d["outcome"],
            category=d["category"],
            span=None if span is None else (span[0], span[1]),
            alpha=_float(d, "alpha", where),
            r_coarse=_float(d, "r_coarse", where),
            r_adaptive=_float(d, "r_adaptive", where),
            r_fine=_float(d, "r_fine", where),
            baseline=Baseline.from_dict(d.get("baseline"), where),
            critic_weighted=bool(d.get("critic_weighted", False)),
            outcome_scale=float(d.get("outcome_scale", 1.0)),
        )


def _float(d: Mapping[str, Any], key: str, where: str, prefix: str = "") -> float:
    value = d.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(where, prefix + key, f"expected a number, got {type(value).__name__}")
    return float(value)


def _int(d: Mapping[str, Any], key: str, where: str, prefix: str = "") -> int:
    value = d.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(where, prefix + key, f"expected a count, got {value!r}")
    return value


def _floats(d: Mapping[str, Any], key: str, where: str) -> tuple[float, ...]:
    values = d.get(key)
    if not isinstance(values, list):
        raise RecordError(where, key, "expected a list of numbers")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise RecordError(where, f"{key}[{i}]", f"expected a number, got {type(v).__name__}")
        out.append(float(v))
    return tuple(out)
