"""Family `arith`: one-line arithmetic on integers (the easy tier's backbone)."""

from __future__ import annotations

import itertools
import random
from typing import Any

from rltf.tasks.builtin._core import (
    INT_NAMES,
    Arg,
    Draft,
    int_cases,
    lines,
    names,
    pick,
    signed,
    template,
    uniq,
)

EDGES = (0, 1, -1, 10, -7)


@template(
    "arith.linear",
    "easy",
    [(a, b) for a in range(2, 10) for b in range(-9, 10) if b != 0],
    (24, 6),
)
def linear(key: Any, r: random.Random) -> Draft:
    a, b = key
    x = pick(r, INT_NAMES)
    op, words = signed(b)
    core = pick(
        r,
        (
            f"returns `{x}` multiplied by {a}, {words}",
            f"returns {a} times `{x}` {words}",
            f"multiplies `{x}` by {a}, then {'adds' if b > 0 else 'subtracts'} {abs(b)}, and returns the result",
        ),
    )
    fn = pick(r, ("scale_shift", "linear", "affine", "transform", "compute"))
    return Draft(
        fn,
        (Arg(x, "int"),),
        "int",
        core,
        lines(f"return {x} * {a}{op}"),
        lambda v: v * a + b,
        int_cases(r, EDGES, -50, 50),
    )


@template(
    "arith.two_args",
    "easy",
    [(p, q, op) for p in range(2, 7) for q in range(2, 7) for op in "+-"],
    (20, 5),
)
def two_args(key: Any, r: random.Random) -> Draft:
    p, q, op = key
    a, b = names(r, ("a", "b", "x", "y", "m", "n"), 2)
    left = a if p == 1 else f"{a} * {p}"
    right = b if q == 1 else f"{b} * {q}"
    word = "plus" if op == "+" else "minus"
    core = pick(
        r,
        (
            f"returns {p} times `{a}` {word} {q} times `{b}`",
            f"computes `{a}` * {p} {op} `{b}` * {q}",
        ),
    )
    fn = pick(r, ("combine", "weighted", "mix", "blend"))
    ints = int_cases(r, EDGES, -20, 20)
    others = int_cases(r, (0, 2, -3, 5, 1), -20, 20)
    return Draft(
        fn,
        (Arg(a, "int"), Arg(b, "int")),
        "int",
        core,
        lines(f"return {left} {op} {right}"),
        lambda u, v: u * p + v * q if op == "+" else u * p - v * q,
        tuple(i + o for i, o in zip(ints, others, strict=False)),
    )


@template(
    "arith.divmod",
    "easy",
    [(op, k) for op in ("//", "%", "both") for k in range(2, 13)],
    (20, 5),
    group=lambda key: key[0],
)
def div_mod(key: Any, r: random.Random) -> Draft:
    op, k = key
    x = pick(r, INT_NAMES)
    if op == "//":
        core, body, fn = f"returns `{x}` divided by {k}, rounded down", f"{x} // {k}", "quotient"
        oracle = lambda v: v // k  # noqa: E731
    elif op == "%":
        core, body, fn = f"returns the remainder of `{x}` divided by {k}", f"{x} % {k}", "remainder"
        oracle = lambda v: v % k  # noqa: E731
    else:
        core = f"returns the quotient of `{x}` by {k} (rounded down) plus the remainder"
        body, fn = f"{x} // {k} + {x} % {k}", "digit_mix"
        oracle = lambda v: v // k + v % k  # noqa: E731
    return Draft(
        pick(r, (fn, f"{fn}_by_{k}")),
        (Arg(x, "int"),),
        "int",
        core,
        lines(f"return {body}"),
        oracle,
        int_cases(r, (0, 1, k, k - 1, 100), 0, 200),
        note=f"`{x}` is a non-negative integer.",
    )


# One conversion per factor: two pairs with the same factor would be the same function.
UNITS = (
    ("hours", "minutes", 60),
    ("days", "hours", 24),
    ("weeks", "days", 7),
    ("feet", "inches", 12),
    ("dollars", "cents", 100),
    ("kilograms", "grams", 1000),
    ("yards", "feet", 3),
    ("gallons", "quarts", 4),
    ("hours", "seconds", 3600),
    ("fortnights", "days", 14),
)


@template("arith.units", "easy", [(u, e) for u in range(len(UNITS)) for e in (0, 1)], (12, 3))
def units(key: Any, r: random.Random) -> Draft:
    u, extra = key
    big, small, factor = UNITS[u]
    if extra:
        core = f"converts `{big}` {big} and `{small}` {small} into a total number of {small}"
        return Draft(
            f"to_{small}",
            (Arg(big, "int"), Arg(small, "int")),
            "int",
            core,
            lines(f"return {big} * {factor} + {small}"),
            lambda p, q: p * factor + q,
            ((0, 0), (1, 0), (0, 1), (2, 5), (13, 7), (r.randint(20, 90), r.randint(0, 9))),
        )
    core = pick(
        r,
        (f"converts `{big}` {big} into {small}", f"returns how many {small} are in `{big}` {big}"),
    )
    return Draft(
        pick(r, (f"{big}_to_{small}", f"in_{small}")),
        (Arg(big, "int"),),
        "int",
        core,
        lines(f"return {big} * {factor}"),
        lambda p: p * factor,
        int_cases(r, (0, 1, 2), 3, 500),
    )


@template(
    "arith.product",
    "easy",
    [(a, b) for a, b in itertools.product(range(-6, 7), repeat=2) if a < b and a and b],
    (16, 4),
)
def product(key: Any, r: random.Random) -> Draft:
    a, b = key
    x = pick(r, INT_NAMES)
    pa, wa = signed(a)
    pb, wb = signed(b)
    core = pick(
        r,
        (
            f"returns (`{x}` {wa}) times (`{x}` {wb})",
            f"multiplies `{x}`{pa} by `{x}`{pb} and returns the product",
        ),
    )
    return Draft(
        pick(r, ("shifted_product", "product_of_shifts", "poly")),
        (Arg(x, "int"),),
        "int",
        core,
        lines(f"return ({x}{pa}) * ({x}{pb})"),
        lambda v: (v + a) * (v + b),
        int_cases(r, (0, 1, -1, -a, -b), -20, 20),
    )


@template(
    "arith.average",
    "medium",
    [(k, rnd) for k in (2, 3, 4, 5) for rnd in ("down", "sum_div", "max_minus_min")],
    (8, 2),
    group=lambda key: key[1],
)
def average(key: Any, r: random.Random) -> Draft:
    k, mode = key
    args = names(r, ("a", "b", "c", "d", "e", "p", "q"), k)
    total = " + ".join(args)
    listed = ", ".join(f"`{a}`" for a in args)
    if mode == "down":
        core = f"returns the average of {listed}, rounded down to an integer"
        body = f"return ({total}) // {k}"
        oracle = lambda *v: sum(v) // k  # noqa: E731
    elif mode == "sum_div":
        core = f"returns the sum of {listed} modulo {k + 5}"
        body = f"return ({total}) % {k + 5}"
        oracle = lambda *v: sum(v) % (k + 5)  # noqa: E731
    else:
        core = f"returns the largest of {listed} minus the smallest of them"
        body = f"return max({', '.join(args)}) - min({', '.join(args)})"
        oracle = lambda *v: max(v) - min(v)  # noqa: E731
    cases = [tuple([0] * k), tuple([-3] * k), tuple(range(1, k + 1)), tuple(range(k, 0, -1))]
    cases += [tuple(r.randint(-30, 30) for _ in range(k)) for _ in range(3)]
    return Draft(
        pick(r, ("stat", "combine_all", "aggregate")),
        tuple(Arg(a, "int") for a in args),
        "int",
        core,
        lines(body),
        oracle,
        uniq(cases),
    )


TEMPLATES = [linear, two_args, div_mod, units, product, average]
