"""Family `recursion`: recurrences, digits, bases, strings, nested lists, counting paths."""

from __future__ import annotations

import itertools
import random
from typing import Any

from rltf.tasks.builtin._core import (
    STR_NAMES,
    Arg,
    Draft,
    int_cases,
    lines,
    lit,
    pick,
    signed,
    str_cases,
    template,
    uniq,
)


@template(
    "recursion.recurrence",
    "medium",
    [
        (a, b, c)
        for a in (1, 2, 3)
        for b in range(-2, 4)
        for c in range(0, 4)
        # a * c + b == c would make every term equal to c (a constant function).
        if (a, b) != (1, 0) and a * c + b != c
    ],
    (18, 5),
    group=lambda key: key[0],
)
def recurrence(key: Any, r: random.Random) -> Draft:
    a, b, c = key
    n = pick(r, ("n", "k", "steps"))
    fn = pick(r, ("seq", "term", "recur", "f"))
    prev = f"{fn}({n} - 1)"
    term = prev if a == 1 else f"{a} * {prev}"
    op, words = signed(b)
    step = term + (op if b else "")
    text = f"{fn}(n - 1)" if a == 1 else f"{a} * {fn}(n - 1)"
    text += f" {words}" if b else ""

    def oracle(m: int) -> int:
        v = c
        for _ in range(m):
            v = a * v + b
        return v

    return Draft(
        fn,
        (Arg(n, "int"),),
        "int",
        f"is defined recursively by {fn}(0) = {c} and {fn}(n) = {text} for n > 0, and returns {fn}(`{n}`)",
        lines(f"if {n} == 0:", f"    return {c}", f"return {step}"),
        oracle,
        int_cases(r, (0, 1, 2, 5), 3, 12),
    )


@template(
    "recursion.fib",
    "hard",
    [(p, q, k) for p in (0, 1, 2) for q in (1, 2, 3) for k in (1, 2, 3)],
    (10, 3),
)
def fib(key: Any, r: random.Random) -> Draft:
    p, q, k = key
    n = pick(r, ("n", "i", "index"))
    fn = pick(r, ("fib", "seq", "series", "lucas"))
    second = f"{fn}({n} - 2)" if k == 1 else f"{k} * {fn}({n} - 2)"
    text = "F(n - 2)" if k == 1 else f"{k} * F(n - 2)"

    def oracle(m: int) -> int:
        x, y = p, q
        for _ in range(m):
            x, y = y, y + k * x
        return x

    return Draft(
        fn,
        (Arg(n, "int"),),
        "int",
        f"returns F(`{n}`) where F(0) = {p}, F(1) = {q} and F(n) = F(n - 1) + {text} for n > 1",
        lines(
            f"if {n} == 0:",
            f"    return {p}",
            f"if {n} == 1:",
            f"    return {q}",
            f"return {fn}({n} - 1) + {second}",
        ),
        oracle,
        int_cases(r, (0, 1, 2, 3), 4, 14),
    )


@template(
    "recursion.digits",
    "medium",
    [(op, b) for op in ("sum", "count", "max") for b in range(2, 11)],
    (14, 4),
    group=lambda key: key[0],
)
def digits(key: Any, r: random.Random) -> Draft:
    op, b = key
    n = pick(r, ("n", "num", "value"))
    fn = pick(r, (f"digit_{op}", f"{op}_digits", "digits_rec"))
    base = "" if b == 10 else f" in base {b}"
    rec = f"{fn}({n} // {b})"
    body, text = {
        "sum": ((f"    return {n}", f"return {n} % {b} + {rec}"), "the sum of the digits"),
        "count": (("    return 1", f"return 1 + {rec}"), "the number of digits"),
        "max": ((f"    return {n}", f"return max({n} % {b}, {rec})"), "the largest digit"),
    }[op]

    def oracle(m: int) -> int:
        ds = []
        while True:
            ds.append(m % b)
            m //= b
            if m == 0:
                break
        return {"sum": sum(ds), "count": len(ds), "max": max(ds)}[op]

    return Draft(
        fn,
        (Arg(n, "int"),),
        "int",
        f"returns {text} of the non-negative integer `{n}` written{base}, using recursion",
        lines(f"if {n} < {b}:", *body),
        oracle,
        int_cases(r, (0, 1, b - 1, b, b * b), 2, 100000),
    )


@template(
    "recursion.to_base",
    "medium",
    [(b, sep) for b in range(2, 10) for sep in ("", "-", ".")],
    (10, 3),
    group=lambda key: key[1],
)
def to_base(key: Any, r: random.Random) -> Draft:
    b, sep = key
    n = pick(r, ("n", "num", "value"))
    fn = pick(r, (f"to_base_{b}", "convert_base", "in_base"))
    joined = (
        f"{fn}({n} // {b}) + str({n} % {b})"
        if not sep
        else f"{fn}({n} // {b}) + {lit(sep)} + str({n} % {b})"
    )
    how = "" if not sep else f", with the digits separated by {lit(sep)}"

    def oracle(m: int) -> str:
        ds = []
        while True:
            ds.append(str(m % b))
            m //= b
            if m == 0:
                break
        return sep.join(reversed(ds))

    return Draft(
        fn,
        (Arg(n, "int"),),
        "str",
        f"returns the non-negative integer `{n}` written in base {b} as a string{how}, using recursion",
        lines(f"if {n} < {b}:", f"    return str({n})", f"return {joined}"),
        oracle,
        int_cases(r, (0, 1, b - 1, b, b * b + 1), 2, 5000),
    )


NESTED = {
    "flatten": (
        "a flat list of all the integers, in order",
        "result = []",
        "result.extend({rec})",
        "result.append(item)",
        "result",
    ),
    "sum": ("the sum of all the integers", "total = 0", "total += {rec}", "total += item", "total"),
    "count": (
        "how many integers it contains",
        "total = 0",
        "total += {rec}",
        "total += 1",
        "total",
    ),
    "depth": (
        "its nesting depth (1 for a list without inner lists, one more per level of inner lists)",
        "depth = 1",
        "depth = max(depth, 1 + {rec})",
        "pass",
        "depth",
    ),
    "max": (
        "the largest integer in it (0 if there is none)",
        "best = 0",
        "best = max(best, {rec})",
        "best = max(best, item)",
        "best",
    ),
}


@template("recursion.nested", "hard", list(NESTED), (4, 1), kinds=("call", "assert"))
def nested(key: Any, r: random.Random) -> Draft:
    items = pick(r, ("items", "nested", "data"))
    fn = pick(r, (f"nested_{key}", f"{key}_all", "walk"))
    text, init, rec, leaf, result = NESTED[key]

    def oracle(v: list[Any]) -> Any:
        if key == "depth":
            return 1 + max([oracle(x) for x in v if isinstance(x, list)], default=0)
        flat = _flatten(v)
        return {"flatten": flat, "sum": sum(flat), "count": len(flat), "max": max(flat, default=0)}[
            key
        ]

    body = [
        init,
        f"for item in {items}:",
        "    if isinstance(item, list):",
        "        " + rec.format(rec=f"{fn}(item)"),
    ]
    if leaf != "pass":
        body += ["    else:", "        " + leaf]
    body.append(f"return {result}")
    cases = [
        ([],),
        ([5],),
        ([1, [2, 3]],),
        ([[[]]],),
        ([[1, [2, [3, 4]]], 5, [6]],),
        ([3, [-2, [7]], [], 4],),
    ]
    return Draft(
        fn,
        (Arg(items, "nested"),),
        "ints" if key == "flatten" else "int",
        f"takes a list `{items}` whose elements are integers or (nested) lists of the same kind and returns {text}",
        tuple(body),
        oracle,
        uniq(cases),
    )


def _flatten(v: list[Any]) -> list[int]:
    out: list[int] = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


@template(
    "recursion.stairs",
    "hard",
    [s for k in (2, 3) for s in itertools.combinations(range(1, 6), k)],
    (10, 3),
)
def stairs(key: Any, r: random.Random) -> Draft:
    steps = key
    n = pick(r, ("n", "stairs", "height"))
    fn = pick(r, ("ways", "count_ways", "climb"))
    sizes = ", ".join(map(str, steps[:-1])) + f" or {steps[-1]}"
    rec = " + ".join(f"{fn}({n} - {s})" for s in steps)

    def oracle(m: int) -> int:
        w = [1] + [0] * m
        for i in range(1, m + 1):
            w[i] = sum(w[i - s] for s in steps if i >= s)
        return w[m]

    return Draft(
        fn,
        (Arg(n, "int"),),
        "int",
        f"returns in how many ways one can climb `{n}` steps taking {sizes} steps at a time (order matters)",
        lines(f"if {n} == 0:", "    return 1", f"if {n} < 0:", "    return 0", f"return {rec}"),
        oracle,
        int_cases(r, (0, 1, 2, steps[-1]), 3, 14),
    )


STR_REC = [("rev", ""), ("double", "")] + [(op, c) for op in ("count", "remove") for c in "aeot"]


@template("recursion.strings", "medium", STR_REC, (7, 2), group=lambda key: key[0])
def strings_rec(key: Any, r: random.Random) -> Draft:
    op, c = key
    s = pick(r, STR_NAMES)
    fn = pick(r, (f"{op}_rec", "walk_string", "recursive"))
    rest = f"{fn}({s}[1:])"
    base, step, text, oracle = {
        "rev": ('""', f"{rest} + {s}[0]", f"returns `{s}` reversed", lambda v: v[::-1]),
        "double": (
            '""',
            f"{s}[0] * 2 + {rest}",
            f"returns `{s}` with every character doubled",
            lambda v: "".join(x * 2 for x in v),
        ),
        "count": (
            "0",
            f"(1 if {s}[0] == {lit(c)} else 0) + {rest}",
            f"returns how many times {lit(c)} occurs in `{s}`",
            lambda v: v.count(c),
        ),
        "remove": (
            '""',
            f'("" if {s}[0] == {lit(c)} else {s}[0]) + {rest}',
            f"returns `{s}` without any {lit(c)}",
            lambda v: v.replace(c, ""),
        ),
    }[op]
    return Draft(
        fn,
        (Arg(s, "str"),),
        "int" if op == "count" else "str",
        f"{text}, computed recursively (no loops)",
        lines(f"if not {s}:", f"    return {base}", f"return {step}"),
        oracle,
        str_cases(r, ("", c or "a", "abc"), total=6),
    )


@template("recursion.power", "medium", [0, 5, 7, 9, 10, 11, 13, 100, 1000], (6, 2))
def power(key: Any, r: random.Random) -> Draft:
    m = key
    b, e = pick(r, (("base", "exp"), ("x", "n"), ("b", "e")))
    fn = pick(r, ("power", "pow_rec", "mod_power"))
    step = f"{b} * {fn}({b}, {e} - 1)" + (f" % {m}" if m else "")
    how = f" modulo {m}" if m else ""
    return Draft(
        fn,
        (Arg(b, "int"), Arg(e, "int")),
        "int",
        f"returns `{b}` to the power `{e}`{how}, computed recursively by multiplying `{b}` by the power for `{e}` - 1",
        lines(f"if {e} == 0:", "    return 1", f"return {step}"),
        lambda x, y: (x**y) % m if m else x**y,
        uniq(
            [
                (2, 0),
                (0, 0),
                (3, 1),
                (0, 5),
                (2, 10),
                (-3, 3) if not m else (7, 3),
                (r.randint(2, 9), r.randint(2, 8)),
            ]
        ),
        note=f"`{e}` is not negative." if not m else f"`{b}` and `{e}` are not negative.",
    )


TEMPLATES = [recurrence, fib, digits, to_base, nested, stairs, strings_rec, power]
