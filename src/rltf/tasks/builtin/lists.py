"""Family `lists`: map, filter, slices, reductions, neighbours, two lists, pipelines."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import (
    LIST_NAMES,
    Arg,
    Draft,
    combine,
    lines,
    list_cases,
    names,
    ordinal,
    pick,
    plural,
    template,
)
from rltf.tasks.builtin._ops import (
    MAPS,
    PREDS,
    map_code,
    map_fn,
    map_text,
    pred_code,
    pred_fn,
    pred_text,
    probe,
)


@template("lists.map", "easy", MAPS, (24, 6))
def map_each(key: Any, r: random.Random) -> Draft:
    xs = pick(r, LIST_NAMES)
    f = map_fn(key)
    core = pick(
        r,
        (
            f"returns a new list with {map_text(key, 'x')} for each element x of `{xs}`",
            f"replaces every element x of `{xs}` by {map_text(key, 'x')} and returns the new list",
        ),
    )
    return Draft(
        pick(r, ("map_all", "transform_all", "apply_each", "convert")),
        (Arg(xs, "ints"),),
        "ints",
        core,
        lines(f"return [{map_code(key, 'x')} for x in {xs}]"),
        lambda v: [f(x) for x in v],
        list_cases(r, extra=[probe(key)]),
    )


@template("lists.filter", "easy", PREDS, (22, 6), group=lambda key: key[0])
def keep(key: Any, r: random.Random) -> Draft:
    xs = pick(r, LIST_NAMES)
    p = pred_fn(key)
    core = pick(
        r,
        (
            f"returns the elements of `{xs}` that are {pred_text(key)}, in their original order",
            f"keeps only the values in `{xs}` {pred_text(key)} and returns them as a list",
        ),
    )
    return Draft(
        pick(r, ("keep", "select", "filter_values", "only")),
        (Arg(xs, "ints"),),
        "ints",
        core,
        lines(f"return [x for x in {xs} if {pred_code(key, 'x')}]"),
        lambda v: [x for x in v if p(x)],
        list_cases(r, extra=[probe(key)]),
    )


REDUCE: dict[str, tuple[str, str, Callable[[list[int]], int]]] = {
    "sum": ("sum({g})", "the sum of", sum),
    "count": ("len([{g}])", "how many there are of", len),
    "max": ("max([{g}], default=0)", "the largest of", lambda v: max(v, default=0)),
    "min": ("min([{g}], default=0)", "the smallest of", lambda v: min(v, default=0)),
}


@template(
    "lists.reduce_filter",
    "medium",
    [(red, p) for red in REDUCE for p in PREDS],
    (26, 7),
    group=lambda key: (key[0], key[1][0]),
)
def reduce_filter(key: Any, r: random.Random) -> Draft:
    red, p = key
    xs = pick(r, LIST_NAMES)
    code, words, agg = REDUCE[red]
    pf = pred_fn(p)
    gen = f"x for x in {xs} if {pred_code(p, 'x')}"
    note = "If there is no such element, return 0." if red in ("max", "min") else ""
    return Draft(
        pick(r, (f"{red}_of_selected", f"{red}_where", "aggregate")),
        (Arg(xs, "ints"),),
        "int",
        f"returns {words} the elements of `{xs}` that are {pred_text(p)}",
        lines("return " + code.format(g=gen)),
        lambda v: agg([x for x in v if pf(x)]),
        list_cases(r, extra=[probe(p), r.sample(probe(p), 4)]),
        note=note,
    )


SLICES = (
    [("head", k) for k in range(1, 5)]
    + [("drop", k) for k in range(1, 5)]
    + [("last", k) for k in range(1, 5)]
    + [("step", k) for k in range(2, 5)]
    + [("revstep", 2), ("ends", 0)]
)


@template("lists.slice", "easy", SLICES, (13, 4))
def slices(key: Any, r: random.Random) -> Draft:
    kind, k = key
    xs = pick(r, LIST_NAMES)
    code, text = {
        "head": (
            f"{xs}[:{k}]",
            f"the first {plural(k, 'element')} of `{xs}` (all of them if it is shorter)",
        ),
        "drop": (f"{xs}[{k}:]", f"`{xs}` without its first {plural(k, 'element')}"),
        "last": (
            f"{xs}[-{k}:]",
            f"the last {plural(k, 'element')} of `{xs}` (all of them if it is shorter)",
        ),
        "step": (f"{xs}[::{k}]", f"every {ordinal(k)} element of `{xs}`, starting with the first"),
        "rev": (f"{xs}[::-1]", f"the elements of `{xs}` in reverse order"),
        "revstep": (f"{xs}[::-2]", f"every second element of `{xs}`, starting from the last"),
        "ends": (f"{xs}[:1] + {xs}[-1:]", f"a list with the first and the last element of `{xs}`"),
    }[kind]
    oracle = {
        "head": lambda v: v[:k],
        "drop": lambda v: v[k:],
        "last": lambda v: v[-k:] if v else [],
        "step": lambda v: v[::k],
        "rev": lambda v: list(reversed(v)),
        "revstep": lambda v: v[::-2],
        "ends": lambda v: v[:1] + v[-1:],
    }[kind]
    return Draft(
        pick(r, ("part", "take", "slice_of", "pick_elements")),
        (Arg(xs, "ints"),),
        "ints",
        f"returns {text}",
        lines(f"return {code}"),
        oracle,
        list_cases(r, min_len=1, extra=[list(range(1, 9))]),
        note=f"`{xs}` has at least one element.",
    )


PAIR_OPS = {
    "diff": ("b - a", "the next element minus the current one"),
    "sum": ("a + b", "the sum of the two neighbours"),
    "prod": ("a * b", "the product of the two neighbours"),
    "max": ("max(a, b)", "the larger of the two neighbours"),
    "min": ("min(a, b)", "the smaller of the two neighbours"),
    "gap": ("abs(b - a)", "the distance between the two neighbours"),
}


@template(
    "lists.pairwise",
    "medium",
    [(op, mode) for op in PAIR_OPS for mode in ("list", "sum", "max")],
    (13, 3),
    group=lambda key: key[1],
)
def pairwise(key: Any, r: random.Random) -> Draft:
    op, mode = key
    xs = pick(r, LIST_NAMES)
    code, text = PAIR_OPS[op]
    table: dict[str, Callable[..., Any]] = {
        "diff": lambda a, b: b - a,
        "sum": lambda a, b: a + b,
        "prod": lambda a, b: a * b,
        "max": max,
        "min": min,
        "gap": lambda a, b: abs(b - a),
    }
    fn = table[op]
    each = f"{code} for a, b in zip({xs}, {xs}[1:])"
    if mode == "list":
        core = f"returns, for every pair of neighbouring elements of `{xs}`, {text}, as a list"
        body, ret = f"return [{each}]", "ints"
        oracle: Any = lambda v: [fn(v[i], v[i + 1]) for i in range(len(v) - 1)]  # noqa: E731
    else:
        agg: Callable[..., Any] = sum if mode == "sum" else (lambda w: max(w, default=0))
        word = "sum" if mode == "sum" else "largest value"
        core = f"looks at every pair of neighbouring elements of `{xs}` and returns the {word} of {text}"
        body = f"return {mode}([{each}]" + (", default=0)" if mode == "max" else ")")
        oracle, ret = (lambda v: agg([fn(v[i], v[i + 1]) for i in range(len(v) - 1)])), "int"
    return Draft(
        pick(r, ("neighbours", "adjacent", "pairwise", "steps")),
        (Arg(xs, "ints"),),
        ret,
        core,
        lines(body),
        oracle,
        list_cases(r),
        note="" if mode != "max" else "Return 0 if there are fewer than two elements.",
    )


ZIP_OPS = ("+", "-", "*", "max", "min")


@template(
    "lists.zip2",
    "medium",
    [(op, c) for op in ZIP_OPS for c in range(1, 5)],
    (12, 3),
    group=lambda key: key[0],
)
def zip2(key: Any, r: random.Random) -> Draft:
    op, c = key
    a, b = names(r, ("a", "b", "xs", "ys", "left", "right"), 2)
    y = "y" if c == 1 else f"y * {c}"
    expr = f"max(x, {y})" if op == "max" else f"min(x, {y})" if op == "min" else f"x {op} {y}"
    scaled = f"`{b}`'s element" + ("" if c == 1 else f" times {c}")
    word = {"+": "the sum of", "-": "the difference of", "*": "the product of"}.get(
        op, f"the {op} of"
    )
    f = {
        "+": lambda x, v: x + v * c,
        "-": lambda x, v: x - v * c,
        "*": lambda x, v: x * v * c,
        "max": lambda x, v: max(x, v * c),
        "min": lambda x, v: min(x, v * c),
    }[op]
    left = list_cases(r, min_len=0)
    right = [(r.choices(range(-9, 10), k=len(v[0])),) for v in left]
    return Draft(
        pick(r, ("combine_lists", "pairwise_combine", "merge_values", "zip_with")),
        (Arg(a, "ints"), Arg(b, "ints")),
        "ints",
        f"returns a list where position i holds {word} `{a}`'s element and {scaled} at position i",
        lines(f"return [{expr} for x, y in zip({a}, {b})]"),
        lambda u, v: [f(x, y) for x, y in zip(u, v, strict=False)],
        combine(left, right),
        note=f"`{a}` and `{b}` have the same length.",
    )


@template(
    "lists.pipeline",
    "hard",
    [(p, m, red) for p in PREDS[::2] for m in MAPS[::3] for red in ("sum", "list")],
    (24, 6),
    group=lambda key: (key[0][0], key[1][0], key[2]),
)
def pipeline(key: Any, r: random.Random) -> Draft:
    p, m, red = key
    xs = pick(r, LIST_NAMES)
    pf, mf = pred_fn(p), map_fn(m)
    head = f"takes the elements x of `{xs}` that are {pred_text(p)}, computes {map_text(m, 'x')} for each"
    if red == "sum":
        core = f"{head}, and returns the sum of the results"
        body = lines(
            "total = 0",
            f"for x in {xs}:",
            f"    if {pred_code(p, 'x')}:",
            f"        total += {map_code(m, 'x')}",
            "return total",
        )
        oracle: Any = lambda v: sum(mf(x) for x in v if pf(x))  # noqa: E731
        ret = "int"
    else:
        core = f"{head}, and returns the results as a list"
        body = lines(
            "result = []",
            f"for x in {xs}:",
            f"    if {pred_code(p, 'x')}:",
            f"        result.append({map_code(m, 'x')})",
            "return result",
        )
        oracle, ret = (lambda v: [mf(x) for x in v if pf(x)]), "ints"
    return Draft(
        pick(r, ("process", "select_and_map", "pipeline", "crunch")),
        (Arg(xs, "ints"),),
        ret,
        core,
        body,
        oracle,
        list_cases(r, extra=[probe(p) + probe(m), r.sample(probe(p), 4)]),
    )


TEMPLATES = [map_each, keep, reduce_filter, slices, pairwise, zip2, pipeline]
