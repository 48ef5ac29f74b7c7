"""Family `conditionals`: if/elif chains, ranges, piecewise functions, divisibility rules."""

from __future__ import annotations

import random
from typing import Any

from rltf.tasks.builtin._core import (
    INT_NAMES,
    Arg,
    Draft,
    int_cases,
    lines,
    lit,
    pick,
    signed,
    template,
)

SIGN_LABELS = (
    ("negative", "zero", "positive"),
    ("neg", "zero", "pos"),
    ("minus", "none", "plus"),
    ("down", "flat", "up"),
    ("below", "equal", "above"),
    ("low", "mid", "high"),
    (-1, 0, 1),
)


@template(
    "conditionals.sign",
    "easy",
    [(lab, p) for lab in range(len(SIGN_LABELS)) for p in range(-2, 4)],
    (16, 4),
    group=lambda key: key[0],
)
def sign(key: Any, r: random.Random) -> Draft:
    lab, p = key
    lo, eq, hi = SIGN_LABELS[lab]
    x = pick(r, INT_NAMES)
    core = f"returns {lit(lo)} if `{x}` is less than {p}, {lit(eq)} if it equals {p}, and {lit(hi)} otherwise"
    return Draft(
        pick(r, ("classify", "compare_to", "label", "sign_of")),
        (Arg(x, "int"),),
        "int" if isinstance(lo, int) else "str",
        core,
        lines(
            f"if {x} < {p}:",
            f"    return {lit(lo)}",
            f"if {x} == {p}:",
            f"    return {lit(eq)}",
            f"return {lit(hi)}",
        ),
        lambda v: lo if v < p else eq if v == p else hi,
        int_cases(r, (p, p - 1, p + 1, 0, -100), -50, 50),
    )


@template(
    "conditionals.clamp",
    "easy",
    [(lo, hi) for lo in range(-6, 4) for hi in range(lo + 2, 12, 2)],
    (18, 5),
)
def clamp(key: Any, r: random.Random) -> Draft:
    lo, hi = key
    x = pick(r, INT_NAMES)
    core = pick(
        r,
        (
            f"returns `{x}` limited to the range from {lo} to {hi}: {lo} if it is smaller, {hi} if it is larger",
            f"clamps `{x}` between {lo} and {hi} and returns the result",
        ),
    )
    return Draft(
        pick(r, ("clamp", "limit", "bound")),
        (Arg(x, "int"),),
        "int",
        core,
        lines(f"return max({lo}, min({hi}, {x}))"),
        lambda v: max(lo, min(hi, v)),
        int_cases(r, (lo, hi, lo - 1, hi + 1, 0), -30, 30),
    )


@template(
    "conditionals.between",
    "easy",
    [(lo, hi, out) for lo in range(-5, 5) for hi in range(lo + 1, lo + 9, 2) for out in (0, 1)],
    (16, 4),
    group=lambda key: key[2],
)
def between(key: Any, r: random.Random) -> Draft:
    lo, hi, out = key
    x = pick(r, INT_NAMES)
    if out:
        core = f"returns True if `{x}` is smaller than {lo} or larger than {hi}, otherwise False"
        code, oracle = f"{x} < {lo} or {x} > {hi}", (lambda v: v < lo or v > hi)
    else:
        core = f"returns True if `{x}` is between {lo} and {hi} (both included), otherwise False"
        code, oracle = f"{lo} <= {x} <= {hi}", (lambda v: lo <= v <= hi)
    return Draft(
        pick(r, ("in_range", "check_range", "within") if not out else ("outside", "out_of_range")),
        (Arg(x, "int"),),
        "bool",
        core,
        lines(f"return {code}"),
        oracle,
        int_cases(r, (lo, hi, lo - 1, hi + 1, 0), -20, 20),
    )


FIZZ_WORDS = (("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong"), ("Hi", "Ho"))


@template(
    "conditionals.fizzbuzz",
    "medium",
    [(a, b, w) for a in range(2, 7) for b in range(a + 1, 8) for w in range(len(FIZZ_WORDS))],
    (18, 5),
)
def fizzbuzz(key: Any, r: random.Random) -> Draft:
    a, b, w = key
    wa, wb = FIZZ_WORDS[w]
    x = pick(r, INT_NAMES)
    core = (
        f"returns {lit(wa + wb)} if `{x}` is divisible by both {a} and {b}, {lit(wa)} if only by {a}, "
        f"{lit(wb)} if only by {b}, and otherwise `{x}` as a string"
    )

    def oracle(v: int) -> str:
        if v % a == 0 and v % b == 0:
            return wa + wb
        return wa if v % a == 0 else wb if v % b == 0 else str(v)

    return Draft(
        pick(r, ("fizzbuzz", "say", "game_word")),
        (Arg(x, "int"),),
        "str",
        core,
        lines(
            f"if {x} % {a} == 0 and {x} % {b} == 0:",
            f"    return {lit(wa + wb)}",
            f"if {x} % {a} == 0:",
            f"    return {lit(wa)}",
            f"if {x} % {b} == 0:",
            f"    return {lit(wb)}",
            f"return str({x})",
        ),
        oracle,
        int_cases(r, (1, 2, 3, 5, 6, 10, a, b, a * b, a * b * 2, 7 * 11 * 13), 1, 100),
    )


GRADES = (
    ("A", "B", "C", "D"),
    ("gold", "silver", "bronze", "none"),
    ("high", "good", "low", "fail"),
)


@template(
    "conditionals.grade",
    "medium",
    [(t, gap, g) for t in (95, 90, 85, 80, 75) for gap in (5, 10, 15) for g in range(len(GRADES))],
    (12, 3),
)
def grade(key: Any, r: random.Random) -> Draft:
    t1, gap, g = key
    t2, t3 = t1 - gap, t1 - 2 * gap
    l1, l2, l3, l4 = GRADES[g]
    x = pick(r, ("score", "points", "mark"))
    core = (
        f"returns {lit(l1)} if `{x}` is at least {t1}, {lit(l2)} if it is at least {t2}, "
        f"{lit(l3)} if it is at least {t3}, and {lit(l4)} otherwise"
    )
    return Draft(
        pick(r, ("grade", "rank", "medal")),
        (Arg(x, "int"),),
        "str",
        core,
        lines(
            f"if {x} >= {t1}:",
            f"    return {lit(l1)}",
            f"if {x} >= {t2}:",
            f"    return {lit(l2)}",
            f"if {x} >= {t3}:",
            f"    return {lit(l3)}",
            f"return {lit(l4)}",
        ),
        lambda v: l1 if v >= t1 else l2 if v >= t2 else l3 if v >= t3 else l4,
        int_cases(r, (t1, t2, t3, t1 - 1, t2 - 1, t2 + 1, t3 - 1, t3 + 2, 100, 0), 0, 100),
    )


@template(
    "conditionals.piecewise",
    "medium",
    [(t, a, b) for t in range(-3, 4) for a in range(2, 6) for b in range(-4, 5) if b],
    (18, 5),
)
def piecewise(key: Any, r: random.Random) -> Draft:
    t, a, b = key
    x = pick(r, INT_NAMES)
    op, words = signed(b)
    core = f"returns `{x}` times {a} when `{x}` is less than {t}, and `{x}` {words} otherwise"
    return Draft(
        pick(r, ("piecewise", "step_function", "adjust")),
        (Arg(x, "int"),),
        "int",
        core,
        lines(f"if {x} < {t}:", f"    return {x} * {a}", f"return {x}{op}"),
        lambda v: v * a if v < t else v + b,
        int_cases(r, (t, t - 1, 0, -10, 10), -30, 30),
    )


@template(
    "conditionals.leap",
    "medium",
    [(a, m, k) for a in (2, 3, 4, 5) for m in (5, 10, 25) for k in (2, 3, 4)],
    (12, 3),
)
def leap(key: Any, r: random.Random) -> Draft:
    a, m, k = key
    b, c = a * m, a * m * k
    x = pick(r, ("year", "n", "day"))
    core = (
        f"returns True if `{x}` is divisible by {a} but not by {b}, or if it is divisible by {c}; "
        "otherwise it returns False"
    )
    return Draft(
        pick(r, ("is_special", "is_leap", "rule")),
        (Arg(x, "int"),),
        "bool",
        core,
        lines(f"return {x} % {a} == 0 and {x} % {b} != 0 or {x} % {c} == 0"),
        lambda v: (v % a == 0 and v % b != 0) or v % c == 0,
        int_cases(
            r,
            (
                1,
                2,
                3,
                4,
                6,
                9,
                10,
                25,
                50,
                a,
                b,
                c,
                c // 2,
                c // 3,
                2 * b,
                a * 5,
                a * 15,
                a * 25,
                c * 3 + b,
                0,
            ),
            1,
            3000,
        ),
    )


TEMPLATES = [sign, clamp, between, fizzbuzz, grade, piecewise, leap]
