"""Family `loops`: sums over ranges, while loops, running aggregates, nested loops, patterns."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import (
    LIST_NAMES,
    Arg,
    Draft,
    int_cases,
    lines,
    list_cases,
    lit,
    pick,
    template,
)
from rltf.tasks.builtin._ops import MAPS, map_code, map_fn, map_text


@template("loops.sum_range", "easy", MAPS, (20, 5), group=lambda key: key[0])
def sum_range(key: Any, r: random.Random) -> Draft:
    n = pick(r, ("n", "limit", "count"))
    f = map_fn(key)
    core = pick(
        r,
        (
            f"returns the sum of {map_text(key, 'i')} for every integer i from 1 to `{n}`",
            f"adds up {map_text(key, 'i')} over all i in 1, 2, ..., `{n}` and returns the total",
        ),
    )
    return Draft(
        pick(r, ("series", "sum_terms", "total_of")),
        (Arg(n, "int"),),
        "int",
        core,
        lines(f"return sum({map_code(key, 'i')} for i in range(1, {n} + 1))"),
        lambda m: sum(f(i) for i in range(1, m + 1)),
        int_cases(r, (0, 1, 2, 10), 3, 40),
        note=f"The sum is 0 when `{n}` is 0.",
    )


def _thresholds(f: Any) -> list[int]:
    """Targets at and just above the first values of v, where the number of steps changes."""
    v, out = 1, []
    for _ in range(3):
        v = f(v)
        out += [v, v + 1]
    return out


GROW = [op for op in MAPS if op[0] == "lin" and op[2] >= 0]


@template("loops.grow_until", "medium", GROW, (14, 4), group=lambda key: key[1])
def grow_until(key: Any, r: random.Random) -> Draft:
    n = pick(r, ("n", "target", "goal"))
    f = map_fn(key)

    def oracle(m: int) -> int:
        value, steps = 1, 0
        while value < m:
            value, steps = f(value), steps + 1
        return steps

    core = (
        f"starts with v = 1 and repeatedly replaces v by {map_text(key, 'v')}; it returns how "
        f"many replacements are needed until v is at least `{n}`"
    )
    return Draft(
        pick(r, ("steps_to_reach", "count_steps", "grow")),
        (Arg(n, "int"),),
        "int",
        core,
        lines(
            "v = 1",
            "steps = 0",
            f"while v < {n}:",
            f"    v = {map_code(key, 'v')}",
            "    steps += 1",
            "return steps",
        ),
        oracle,
        int_cases(r, (0, 1, 2, 100, 5000, *_thresholds(f)), 3, 1000),
    )


@template(
    "loops.halving",
    "medium",
    [(k, lim) for k in range(2, 10) for lim in (0, 1, 5)],
    (12, 3),
)
def halving(key: Any, r: random.Random) -> Draft:
    k, lim = key
    n = pick(r, ("n", "x", "amount"))

    def oracle(m: int) -> int:
        steps = 0
        while m > lim:
            m, steps = m // k, steps + 1
        return steps

    core = (
        f"counts how many times `{n}` must be divided by {k} (rounding down) until it is at most "
        f"{lim}, and returns that count"
    )
    return Draft(
        pick(r, ("count_divisions", "shrink_steps", "halvings")),
        (Arg(n, "int"),),
        "int",
        core,
        lines(
            "steps = 0", f"while {n} > {lim}:", f"    {n} //= {k}", "    steps += 1", "return steps"
        ),
        oracle,
        # The count changes at (lim + 1) * k ** j: test on both sides of two such thresholds.
        int_cases(
            r, (0, 1, k, *[(lim + 1) * k**j - d for j in (1, 2) for d in (0, 1)], 1000), 2, 5000
        ),
        note=f"`{n}` is not negative.",
    )


RUNNING = {
    "sum": ("total += x", "total = 0", "the running sum (the sum of the elements up to it)"),
    "max": ("total = max(total, x)", "total = {first}", "the largest element up to it"),
    "min": ("total = min(total, x)", "total = {first}", "the smallest element up to it"),
    "count": (
        "total += 1 if x > 0 else 0",
        "total = 0",
        "the number of positive elements up to it",
    ),
}


@template(
    "loops.running",
    "medium",
    [(op, m) for op in RUNNING for m in (0, 3, 5, 7, 10) if op != "count" or m < 7],
    (14, 4),
    group=lambda key: key[0],
)
def running(key: Any, r: random.Random) -> Draft:
    op, m = key
    xs = pick(r, LIST_NAMES)
    step, init, text = RUNNING[op]
    init = init.format(first=f"{xs}[0] if {xs} else 0")
    table: dict[str, Callable[..., Any]] = {
        "sum": lambda t, x: t + x,
        "max": max,
        "min": min,
        "count": lambda t, x: t + (1 if x > 0 else 0),
    }
    fold = table[op]

    def oracle(v: list[int]) -> list[int]:
        out = []
        t = 0 if op in ("sum", "count") or not v else v[0]
        for x in v:
            t = fold(t, x)
            out.append(t % m if m else t)
        return out

    store = f"total % {m}" if m else "total"
    core = f"returns a list that holds, for each position of `{xs}`, {text}"
    if m:
        core += f", taken modulo {m}"
    return Draft(
        pick(r, ("running", "prefix_values", "cumulative")),
        (Arg(xs, "ints"),),
        "ints",
        core,
        lines(
            "result = []",
            init,
            f"for x in {xs}:",
            f"    {step}",
            f"    result.append({store})",
            "return result",
        ),
        oracle,
        list_cases(r, extra=[list(range(-2, 12)), [9, 8, 7, 1, 2, 3]]),
    )


PAIR_CONDS = [("eq", None)] + [("gt", k) for k in range(0, 6)] + [("div", k) for k in range(2, 6)]


@template(
    "loops.pairs",
    "hard",
    [(op, c) for op in ("+", "*") for c in PAIR_CONDS],
    (16, 4),
    group=lambda key: (key[0], key[1][0]),
)
def pairs(key: Any, r: random.Random) -> Draft:
    op, (cond, k) = key
    xs = pick(r, LIST_NAMES)
    word = "sum" if op == "+" else "product"
    expr = f"{xs}[i] {op} {xs}[j]"
    args = [Arg(xs, "ints")]
    if cond == "eq":
        args.append(Arg("target", "int"))
        test, text = f"{expr} == target", "equals `target`"
    elif cond == "gt":
        test, text = f"{expr} > {k}", f"is greater than {k}"
    else:
        test, text = f"({expr}) % {k} == 0", f"is divisible by {k}"
    combine = (lambda a, b: a + b) if op == "+" else (lambda a, b: a * b)

    def oracle(v: list[int], target: int = 0) -> int:
        vals = [combine(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v))]
        if cond == "eq":
            return sum(1 for s in vals if s == target)
        return sum(1 for s in vals if (s > k if cond == "gt" else s % k == 0))

    inputs = list_cases(r, lo=-5, hi=9, extra=[[-2, 0, 1, 2, 3, 5, 6], [k or 1, -(k or 1), 1, 4]])
    if cond == "eq":
        inputs = tuple((v, r.randint(-4, 10)) for (v,) in inputs)
    return Draft(
        pick(r, ("count_pairs", "pair_count", "matching_pairs")),
        tuple(args),
        "int",
        f"returns how many pairs of positions i < j of `{xs}` have a {word} of elements that {text}",
        lines(
            "count = 0",
            f"for i in range(len({xs})):",
            f"    for j in range(i + 1, len({xs})):",
            f"        if {test}:",
            "            count += 1",
            "return count",
        ),
        oracle,
        inputs,
    )


@template(
    "loops.pattern",
    "medium",
    [(c, g) for c in ("*", "#", "x", "ab", "+-") for g in ("up", "down", "odd")],
    (10, 3),
)
def pattern(key: Any, r: random.Random) -> Draft:
    c, g = key
    n = pick(r, ("n", "rows", "size"))
    reps, text = {
        "up": ("i", f"row i (counting from 1) is {lit(c)} repeated i times"),
        "down": (
            f"{n} - i + 1",
            f"row i (counting from 1) is {lit(c)} repeated `{n}` - i + 1 times",
        ),
        "odd": ("2 * i - 1", f"row i (counting from 1) is {lit(c)} repeated 2 * i - 1 times"),
    }[g]
    count = {"up": lambda m, i: i, "down": lambda m, i: m - i + 1, "odd": lambda m, i: 2 * i - 1}[g]
    return Draft(
        pick(r, ("triangle", "pattern_rows", "staircase")),
        (Arg(n, "int"),),
        "strs",
        f"returns a list of `{n}` strings where {text}",
        lines(
            f"return [{lit(c)} * {reps if g == 'up' else f'({reps})'} for i in range(1, {n} + 1)]"
        ),
        lambda m: [c * count(m, i) for i in range(1, m + 1)],
        int_cases(r, (0, 1, 2, 5), 3, 8),
    )


TEMPLATES = [sum_range, grow_until, halving, running, pairs, pattern]
