"""Family `dicts`: look-ups, aggregates over values, counting, merging, grouping.

Dictionary keys are always strings, so every value survives the JSON round trip of a Problem.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import (
    DICT_NAMES,
    WORDS,
    Arg,
    Draft,
    dict_cases,
    lines,
    lit,
    pick,
    rand_dict,
    template,
    uniq,
    word_list,
    words_cases,
)
from rltf.tasks.builtin._ops import MAPS, map_code, map_fn, map_text

GETS = (
    [("get", c) for c in (-1, 0, 1, 10, 100)] + [("scaled", c) for c in range(2, 7)] + [("in", 0)]
)


@template("dicts.get", "easy", GETS, (8, 3), group=lambda key: key[0])
def get(key: Any, r: random.Random) -> Draft:
    mode, c = key
    d, k = pick(r, DICT_NAMES), pick(r, ("key", "name", "item"))
    if mode == "get":
        core = f"returns the value stored under `{k}` in `{d}`, or {c} if `{k}` is missing"
        body, ret = f"return {d}.get({k}, {c})", "int"
        oracle: Any = lambda t, x: t.get(x, c)  # noqa: E731
    elif mode == "scaled":
        core = f"returns {c} times the value of `{k}` in `{d}` (a missing key counts as 0)"
        body, ret = f"return {d}.get({k}, 0) * {c}", "int"
        oracle = lambda t, x: t.get(x, 0) * c  # noqa: E731
    else:
        core = f"returns True if `{k}` is a key of `{d}`, otherwise False"
        body, ret = f"return {k} in {d}", "bool"
        oracle = lambda t, x: x in t  # noqa: E731
    cases = []
    for (t,) in dict_cases(r):
        present = next(iter(t)) if t else "cat"
        cases += [(t, present), (t, pick(r, WORDS))]
    return Draft(
        pick(r, ("lookup", "value_of", "find_value")),
        (Arg(d, "dict"), Arg(k, "str")),
        ret,
        core,
        lines(body),
        oracle,
        uniq(cases),
    )


VALUE_OPS = (
    [("sum", 0), ("max", 0), ("len", 0), ("keys", 0), ("vals", 0)]
    + [("above", t) for t in range(-2, 7)]
    + [("count_above", t) for t in range(-2, 7)]
)


@template("dicts.values", "easy", VALUE_OPS, (16, 4))
def values(key: Any, r: random.Random) -> Draft:
    op, t = key
    d = pick(r, DICT_NAMES)
    code, text, oracle, ret = {
        "sum": (f"sum({d}.values())", "the sum of all values", lambda x: sum(x.values()), "int"),
        "max": (
            f"max({d}.values(), default=0)",
            "the largest value (0 if it is empty)",
            lambda x: max(x.values(), default=0),
            "int",
        ),
        "len": (f"len({d})", "the number of keys", len, "int"),
        "keys": (
            f"sorted({d}.keys())",
            "its keys in alphabetical order",
            lambda x: sorted(x),
            "strs",
        ),
        "vals": (
            f"sorted({d}.values())",
            "its values in increasing order",
            lambda x: sorted(x.values()),
            "ints",
        ),
        "above": (
            f"sorted(k for k in {d} if {d}[k] > {t})",
            f"the keys whose value is greater than {t}, in alphabetical order",
            lambda x: sorted(k for k in x if x[k] > t),
            "strs",
        ),
        "count_above": (
            f"len([k for k in {d} if {d}[k] > {t}])",
            f"how many values are greater than {t}",
            lambda x: len([k for k in x if x[k] > t]),
            "int",
        ),
    }[op]
    return Draft(
        pick(r, ("summarize", "inspect", "dict_stat", "report")),
        (Arg(d, "dict"),),
        ret,
        f"takes a dictionary `{d}` from strings to integers and returns {text}",
        lines(f"return {code}"),
        oracle,
        (*dict_cases(r), ({"ant": t - 1, "bee": t, "cat": t + 1, "dog": t + 2},)),
    )


@template("dicts.map_values", "medium", MAPS, (16, 4), group=lambda key: key[0])
def map_values(key: Any, r: random.Random) -> Draft:
    d = pick(r, DICT_NAMES)
    f = map_fn(key)
    return Draft(
        pick(r, ("update_values", "map_values", "adjust")),
        (Arg(d, "dict"),),
        "dict",
        f"returns a new dictionary with the same keys as `{d}`, where each value v becomes {map_text(key, 'v')}",
        lines(f"return {{k: {map_code(key, 'v')} for k, v in {d}.items()}}"),
        lambda x: {k: f(v) for k, v in x.items()},
        dict_cases(r),
    )


COUNT_KEYS = {
    "word": ("w", "each word"),
    "first": ("w[0]", "the first letter of each word"),
    "last": ("w[-1]", "the last letter of each word"),
    "upper": ("w.upper()", "each word in upper case"),
    "len": ("str(len(w))", "the length of each word, written as a string"),
}


@template(
    "dicts.count",
    "medium",
    [(k, m) for k in COUNT_KEYS for m in (1, 2, 3)],
    (11, 3),
)
def count(key: Any, r: random.Random) -> Draft:
    kf, m = key
    ws = pick(r, ("words", "names", "tokens"))
    code, text = COUNT_KEYS[kf]
    keyfn = {
        "word": lambda w: w,
        "first": lambda w: w[0],
        "last": lambda w: w[-1],
        "upper": str.upper,
        "len": lambda w: str(len(w)),
    }[kf]

    def oracle(v: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for w in v:
            out[keyfn(w)] = out.get(keyfn(w), 0) + 1
        return {k: c for k, c in out.items() if c >= m}

    body = ["counts = {}", f"for w in {ws}:", f"    counts[{code}] = counts.get({code}, 0) + 1"]
    core = f"returns a dictionary that maps {text} in `{ws}` to how many times it occurs"
    if m > 1:
        body.append(f"return {{k: v for k, v in counts.items() if v >= {m}}}")
        core += f", keeping only the entries that occur at least {m} times"
    else:
        body.append("return counts")
    cases = [
        *words_cases(r, total=5),
        (word_list(r, 6, 9),),
        (["oak", "owl", "oak"],),
        (["oak", "owl", "ant", "oak", "tree", "oak", "owl", "eel", "toad"],),
    ]
    return Draft(
        pick(r, ("count_by", "tally", "histogram", "frequencies")),
        (Arg(ws, "strs"),),
        "dict",
        core,
        tuple(body),
        oracle,
        uniq(cases),
    )


MERGE = {
    "sum": ("result.get(k, 0) + {v}", "the value in `{a}` (0 if absent) plus the one in `{b}`"),
    "diff": ("result.get(k, 0) - {v}", "the value in `{a}` (0 if absent) minus the one in `{b}`"),
    "max": ("max(result.get(k, {v}), {v})", "the larger of the two values (or the one in `{b}`)"),
    "min": ("min(result.get(k, {v}), {v})", "the smaller of the two values (or the one in `{b}`)"),
    "second": ("{v}", "the value in `{b}`"),
}


@template("dicts.merge", "medium", [(op, c) for op in MERGE for c in (1, 2, 3)], (11, 3))
def merge(key: Any, r: random.Random) -> Draft:
    op, c = key
    a, b = r.sample(("a", "b", "first", "second", "old", "new"), 2)
    v = "v" if c == 1 else f"v * {c}"
    code, how = MERGE[op]
    scaled = "" if c == 1 else f" Values from `{b}` are first multiplied by {c}."
    table: dict[str, Callable[..., Any]] = {
        "sum": lambda x, y: x + y,
        "diff": lambda x, y: x - y,
        "max": max,
        "min": min,
        "second": lambda x, y: y,
    }
    fn = table[op]

    def oracle(p: dict[str, int], q: dict[str, int]) -> dict[str, int]:
        out = dict(p)
        for k, w in q.items():
            default = 0 if op in ("sum", "diff") else w * c
            out[k] = fn(out.get(k, default), w * c)
        return out

    core = (
        f"returns a new dictionary with every key of `{a}` and `{b}`: a key found only in `{a}` "
        f"keeps its value, and for every key of `{b}` the new value is {how.format(a=a, b=b)}"
    )
    left = dict_cases(r)
    right = [({**rand_dict(r, max_len=3), **{k: 1 for k in list(t)[:1]}},) for (t,) in left]
    return Draft(
        pick(r, ("merge", "combine_dicts", "join_tables")),
        (Arg(a, "dict"), Arg(b, "dict")),
        "dict",
        core,
        lines(
            f"result = dict({a})",
            f"for k, v in {b}.items():",
            f"    result[k] = {code.format(v=v)}",
            "return result",
        ),
        oracle,
        tuple(x + y for x, y in zip(left, right, strict=False)),
        note=scaled.strip(),
    )


GROUP_KEYS = {
    "first": ("w[0]", "first letter"),
    "last": ("w[-1]", "last letter"),
    "len": ("str(len(w))", "length (written as a string)"),
    "first2": ("w[:2]", "first two letters"),
}


@template(
    "dicts.group",
    "hard",
    [(k, srt) for k in GROUP_KEYS for srt in (False, True)],
    (6, 2),
)
def group(key: Any, r: random.Random) -> Draft:
    kf, srt = key
    ws = pick(r, ("words", "names", "tokens"))
    code, text = GROUP_KEYS[kf]
    keyfn = {
        "first": lambda w: w[0],
        "last": lambda w: w[-1],
        "len": lambda w: str(len(w)),
        "first2": lambda w: w[:2],
    }[kf]

    def oracle(v: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for w in v:
            out.setdefault(keyfn(w), []).append(w)
        return {k: sorted(g) for k, g in out.items()} if srt else out

    body = ["groups = {}", f"for w in {ws}:", f"    groups.setdefault({code}, []).append(w)"]
    order = "in alphabetical order" if srt else "in the order they appear"
    if srt:
        body.append("return {k: sorted(g) for k, g in groups.items()}")
    else:
        body.append("return groups")
    return Draft(
        pick(r, ("group_words", "bucket", "group_by")),
        (Arg(ws, "strs"),),
        "dict",
        f"groups the words of `{ws}` by their {text}: it returns a dictionary from each key to the list of words with that key, {order}",
        tuple(body),
        oracle,
        uniq(
            [
                *words_cases(r, total=5),
                (word_list(r, 6, 9),),
                (["bee", "ant", "bird", "ant"],),
                (["owl", "oak", "ow", "ant", "eel"],),
            ]
        ),
        note=f"The key of {lit('apple')} would be {lit(keyfn('apple'))}.",
    )


TEMPLATES = [get, values, map_values, count, merge, group]
