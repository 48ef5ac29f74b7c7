"""Family `searching`: sorting with keys, top-k, k-th element, first/last match, runs, binary search."""

from __future__ import annotations

import random
from typing import Any

from rltf.tasks.builtin._core import (
    LIST_NAMES,
    WORDS_NAMES,
    Arg,
    Draft,
    lines,
    list_cases,
    pick,
    plural,
    template,
    uniq,
    word_list,
    words_cases,
)
from rltf.tasks.builtin._ops import PREDS, pred_code, pred_fn, pred_text, probe

SORTS = (
    [("asc", 0), ("desc", 0), ("abs", 0)]
    + [("top", k) for k in range(1, 5)]
    + [("bottom", k) for k in range(1, 5)]
    + [("mod", k) for k in range(2, 6)]
)


def _most(k: int, word: str) -> str:
    return f"{word} value" if k == 1 else f"{k} {word} values"


@template("searching.sort", "easy", SORTS, (12, 3))
def sort(key: Any, r: random.Random) -> Draft:
    kind, k = key
    xs = pick(r, LIST_NAMES)
    code, text, oracle = {
        "asc": (f"sorted({xs})", "in increasing order", lambda v: sorted(v)),
        "desc": (f"sorted({xs}, reverse=True)", "in decreasing order", lambda v: sorted(v)[::-1]),
        "abs": (
            f"sorted({xs}, key=abs)",
            "sorted by absolute value (equal ones keep their order)",
            lambda v: sorted(v, key=lambda x: abs(x)),
        ),
        "top": (
            f"sorted({xs}, reverse=True)[:{k}]",
            f"with only the {_most(k, 'largest')}, largest first",
            lambda v: sorted(v)[::-1][:k],
        ),
        "bottom": (
            f"sorted({xs})[:{k}]",
            f"with only the {_most(k, 'smallest')}, smallest first",
            lambda v: sorted(v)[:k],
        ),
        "mod": (
            f"sorted({xs}, key=lambda x: x % {k})",
            f"sorted by their remainder modulo {k} (equal remainders keep their order)",
            lambda v: sorted(v, key=lambda x: x % k),
        ),
    }[kind]
    return Draft(
        pick(r, ("sort_values", "arrange", "ordered", "rank_values")),
        (Arg(xs, "ints"),),
        "ints",
        f"returns the elements of `{xs}` {text}",
        lines(f"return {code}"),
        oracle,
        list_cases(r),
    )


WORD_KEYS = {
    "len": ("len", "by length"),
    "last": ("lambda w: w[-1]", "by their last letter"),
    "lenalpha": ("lambda w: (len(w), w)", "by length, and alphabetically among equal lengths"),
    "count_a": ('lambda w: w.count("a")', 'by how many "a" letters they contain'),
}


@template(
    "searching.sort_words",
    "medium",
    [(k, rev) for k in WORD_KEYS for rev in (False, True)],
    (6, 2),
)
def sort_words(key: Any, r: random.Random) -> Draft:
    kf, rev = key
    ws = pick(r, WORDS_NAMES)
    code, text = WORD_KEYS[kf]
    fn = {
        "len": len,
        "last": lambda w: w[-1],
        "lenalpha": lambda w: (len(w), w),
        "count_a": lambda w: w.count("a"),
    }[kf]
    args = ([f"key={code}"] if code else []) + (["reverse=True"] if rev else [])
    order = " in reverse order" if rev else ""
    return Draft(
        pick(r, ("sort_words", "order_words", "arrange_names")),
        (Arg(ws, "strs"),),
        "strs",
        f"returns the words of `{ws}` sorted {text}{order}, keeping the original order of ties",
        lines(f"return sorted({', '.join([ws, *args])})"),
        lambda v: sorted(v, key=fn, reverse=rev),
        uniq([*words_cases(r, total=5), (word_list(r, 5, 8),), (["bee", "ant", "cat", "yak"],)]),
    )


@template(
    "searching.find",
    "medium",
    [(mode, p) for mode in ("first", "last") for p in PREDS],
    (18, 5),
    group=lambda key: (key[0], key[1][0]),
)
def find(key: Any, r: random.Random) -> Draft:
    mode, p = key
    xs = pick(r, LIST_NAMES)
    pf = pred_fn(p)
    if mode == "first":
        body = lines(
            f"for i, x in enumerate({xs}):",
            f"    if {pred_code(p, 'x')}:",
            "        return i",
            "return -1",
        )
    else:
        body = lines(
            "result = -1",
            f"for i, x in enumerate({xs}):",
            f"    if {pred_code(p, 'x')}:",
            "        result = i",
            "return result",
        )

    def oracle(v: list[int]) -> int:
        hits = [i for i, x in enumerate(v) if pf(x)]
        return (hits[0] if mode == "first" else hits[-1]) if hits else -1

    return Draft(
        pick(r, (f"{mode}_index", f"find_{mode}", "locate")),
        (Arg(xs, "ints"),),
        "int",
        f"returns the index of the {mode} element of `{xs}` that is {pred_text(p)}, or -1 if there is none",
        body,
        oracle,
        list_cases(r, extra=[probe(p), probe(p)[::-1], r.sample(probe(p), 5)]),
    )


@template(
    "searching.kth",
    "medium",
    # k = 1 with and without "distinct" is the same function (min or max): only one of them.
    [
        (side, k, dist)
        for side in ("smallest", "largest")
        for k in range(1, 5)
        for dist in (0, 1)
        if k > 1 or not dist
    ],
    (11, 3),
    group=lambda key: (key[0], key[2]),
)
def kth(key: Any, r: random.Random) -> Draft:
    side, k, dist = key
    xs = pick(r, LIST_NAMES)
    src = f"set({xs})" if dist else xs
    rev = ", reverse=True" if side == "largest" else ""
    nth = {1: "", 2: "2nd ", 3: "3rd ", 4: "4th "}[k]
    what = "distinct value" if dist else "element (counting repeated values separately)"

    def oracle(v: list[int]) -> int:
        vals = sorted(set(v) if dist else v)
        return (vals[::-1] if side == "largest" else vals)[k - 1]

    inputs = [
        (list(range(k, 0, -1)),),
        ([5] * k + list(range(10, 10 + k)),),
        ([20] * k + list(range(k)),),
    ]
    while len(uniq(inputs)) < 6:
        v = [r.randint(-9, 9) for _ in range(r.randint(k + 1, k + 6))]
        if len(set(v)) >= k:
            inputs.append((v,))
    return Draft(
        pick(r, (f"kth_{side}", f"{nth_word(k)}_{side}", "select_rank")),
        (Arg(xs, "ints"),),
        "int",
        f"returns the {nth}{side} {what} of `{xs}`",
        lines(f"return sorted({src}{rev})[{k - 1}]"),
        oracle,
        uniq(inputs),
        note=f"`{xs}` has at least {plural(k, 'distinct value')}.",
    )


def nth_word(k: int) -> str:
    return ("first", "second", "third", "fourth")[k - 1]


RUNS = [("inc", None), ("nondec", None), ("same", None), ("step", None)] + [
    ("pred", p) for p in PREDS
]


@template(
    "searching.longest_run",
    "hard",
    RUNS,
    (16, 4),
    group=lambda key: key[1][0] if key[1] else key[0],
)
def longest_run(key: Any, r: random.Random) -> Draft:
    kind, p = key
    xs = pick(r, LIST_NAMES)
    if kind == "pred":
        pf = pred_fn(p)
        core = f"returns the length of the longest stretch of consecutive elements of `{xs}` that are all {pred_text(p)}"
        body = lines(
            "best = 0",
            "current = 0",
            f"for x in {xs}:",
            f"    if {pred_code(p, 'x')}:",
            "        current += 1",
            "        best = max(best, current)",
            "    else:",
            "        current = 0",
            "return best",
        )
        ok: Any = lambda a, b: pf(b)  # noqa: E731
    else:
        cmp, text, ok = {
            "inc": ("b > a", "strictly increasing", lambda a, b: b > a),
            "nondec": ("b >= a", "never decreasing", lambda a, b: b >= a),
            "same": ("b == a", "all equal", lambda a, b: b == a),
            "step": (
                "b == a + 1",
                "each one larger than the previous by exactly 1",
                lambda a, b: b == a + 1,
            ),
        }[kind]
        core = f"returns the length of the longest stretch of consecutive elements of `{xs}` that are {text} (0 for an empty list)"
        body = lines(
            f"if not {xs}:",
            "    return 0",
            "best = 1",
            "current = 1",
            f"for a, b in zip({xs}, {xs}[1:]):",
            f"    if {cmp}:",
            "        current += 1",
            "        best = max(best, current)",
            "    else:",
            "        current = 1",
            "return best",
        )

    def oracle(v: list[int]) -> int:
        best = 0
        for i in range(len(v)):
            j = i
            first_ok = kind != "pred" or ok(None, v[i])
            if not first_ok:
                continue
            while j + 1 < len(v) and ok(v[j], v[j + 1]):
                j += 1
            best = max(best, j - i + 1)
        return best

    return Draft(
        pick(r, ("longest_run", "longest_streak", "max_stretch")),
        (Arg(xs, "ints"),),
        "int",
        core,
        body,
        oracle,
        list_cases(
            r,
            extra=[
                [1, 2, 3, 3, 4, 5, 6, 0],
                [4, 4, 4, -1, 8, 9],
                *([probe(p), r.sample(probe(p), 5)] if p else []),
            ],
        ),
    )


@template(
    "searching.binary",
    "hard",
    [("index", -1), ("lower", 0), ("upper", 0), ("index", None)],
    (3, 1),
    group=None,
)
def binary(key: Any, r: random.Random) -> Draft:
    kind, miss = key
    xs = pick(r, ("nums", "values", "sorted_nums"))
    cond, text = {
        "index": ("<", "the index of `target`"),
        "lower": ("<", "the first index whose element is at least `target` (the length if none)"),
        "upper": (
            "<=",
            "the first index whose element is greater than `target` (the length if none)",
        ),
    }[kind]
    body = [
        "lo = 0",
        f"hi = len({xs})",
        "while lo < hi:",
        "    mid = (lo + hi) // 2",
        f"    if {xs}[mid] {cond} target:",
        "        lo = mid + 1",
        "    else:",
        "        hi = mid",
    ]
    if kind == "index":
        text += f", or {miss} if it is not present"
        body += [f"if lo < len({xs}) and {xs}[lo] == target:", "    return lo", f"return {miss}"]
    else:
        body.append("return lo")

    def oracle(v: list[int], t: int) -> Any:
        if kind == "index":
            return v.index(t) if t in v else miss
        return sum(1 for x in v if (x < t if kind == "lower" else x <= t))

    base = sorted(set(r.sample(range(-20, 40), 9)))
    cases = [
        ([], 3),
        ([5], 5),
        ([5], 2),
        (base, base[3]),
        (base, base[-1] + 1),
        (base, base[0] - 1),
    ]
    cases.append((base, base[5] + 1 if base[5] + 1 not in base else base[5]))
    return Draft(
        pick(r, ("binary_search", "search_sorted", "bisect_index")),
        (Arg(xs, "ints"), Arg("target", "int")),
        "int" if miss is not None else "any",
        f"uses binary search on the increasing list `{xs}` (no repeated values) and returns {text}",
        tuple(body),
        oracle,
        uniq(cases),
    )


TEMPLATES = [sort, sort_words, find, kth, longest_run, binary]
