"""Counts and near-duplicate measures of `builtin:basic` (the numbers in docs/builtin-basic.md).

    python -m rltf.tasks.builtin.stats        # prints the markdown tables

Near-duplicate measure: for every held-out problem, the largest Jaccard similarity
|A ∩ B| / |A ∪ B| to any training problem, where a problem's set is its token 3-grams
("shingles", the usual near-duplicate measure; a token is a word, a number or a symbol) of its
statement plus its reference solution, with the function and argument names normalised away.
Shingles keep the order of tokens, so ``x * 3 - 2`` and ``x * 2 - 3`` differ. The same measure between each training problem and its nearest *other* training
problem is the yardstick: held-out problems should be no closer to the training split than
training problems are to each other.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rltf.records import Problem
from rltf.tasks.builtin._core import stable_hash

_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalise_solution(source: str) -> str:
    """The solution with its function renamed ``f`` and its arguments ``a0, a1, ...`` (also in
    the stdio wrapper), re-printed by ``ast.unparse``: two solutions that differ only in those
    names normalise to the same text."""
    tree = ast.parse(source)
    rename: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            rename.setdefault(node.name, "f")
            for i, a in enumerate(node.args.args):
                rename.setdefault(a.arg, f"a{i}")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.name = rename[node.name]
        elif isinstance(node, ast.arg) and node.arg in rename:
            node.arg = rename[node.arg]
        elif isinstance(node, ast.Name) and node.id in rename:
            node.id = rename[node.id]
    return ast.unparse(tree)


def shingles(problem: Problem, n: int = 3) -> frozenset[tuple[str, ...]]:
    text = problem.prompt + "\n" + normalise_solution(problem.solutions[0])
    toks = _TOKEN.findall(text.lower())
    return frozenset(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def _jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    return len(a & b) / len(a | b)


def nearest(
    queries: Sequence[frozenset[Any]], pool: Sequence[frozenset[Any]], skip_self: bool = False
) -> list[float]:
    """For each query, the largest Jaccard similarity to a member of ``pool``."""
    out = []
    for i, q in enumerate(queries):
        best = max(
            (_jaccard(q, p) for j, p in enumerate(pool) if not (skip_self and i == j)), default=0.0
        )
        out.append(best)
    return out


def _describe(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=10)
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": round(statistics.median(values), 3),
        "p90": round(qs[-1], 3),
        "max": round(max(values), 3),
    }


def near_duplicates(train: Sequence[Problem], test: Sequence[Problem]) -> dict[str, Any]:
    tr = [shingles(p) for p in train]
    te = [shingles(p) for p in test]
    test_to_train = nearest(te, tr)
    train_to_train = nearest(tr, tr, skip_self=True)
    return {
        "test_to_train": _describe(test_to_train),
        "train_to_train": _describe(train_to_train),
        "test_at_least_0.9": sum(v >= 0.9 for v in test_to_train),
        "train_at_least_0.9": sum(v >= 0.9 for v in train_to_train),
    }


# Templates whose siblings are only defined on their own inputs (a 3-command register machine
# also runs the 2-command programs): a sibling that agrees there is the same task, not a miss.
DOMAIN_TEMPLATES = frozenset({"simulation.register", "parsing.expression"})


def sibling_misses(entries: Sequence[Any], siblings: int = 10) -> tuple[int, int, Counter[str]]:
    """How well tests tell a problem from its siblings (other keys of the same template): for each
    problem, ``siblings`` other keys (seeded choice) are built, and a *miss* is a sibling whose
    oracle gives the same expected value on every test input. Returns (misses, pairs, misses by
    template). A wrong program that a test suite cannot reject would earn a false reward in RL."""
    from rltf.tasks.builtin._core import rng_for

    misses: Counter[str] = Counter()
    pairs = 0
    for e in entries:
        t = e.template
        if t.id in DOMAIN_TEMPLATES:
            continue
        others = sorted(
            (k for k in t.space if k != e.key), key=lambda k: stable_hash(t.id, e.key, k)
        )
        for key in others[:siblings]:
            sibling = t.build(key, rng_for("sibling", t.id, key))
            if len(sibling.args) != len(e.draft.args):  # another signature: another task
                continue
            oracle = sibling.oracle
            pairs += 1
            try:
                same = all(_same(oracle, e.draft.oracle, args) for args in e.draft.inputs)
            except Exception:  # the sibling is undefined on some input: told apart
                same = False
            misses[t.id] += same
    return sum(misses.values()), pairs, +misses


def _same(f: Any, g: Any, args: tuple[Any, ...]) -> bool:
    return bool(json.dumps(f(*copy.deepcopy(args))) == json.dumps(g(*copy.deepcopy(args))))


def counts(problems: Sequence[Problem]) -> dict[str, Counter[str]]:
    return {
        "family": Counter(str(p.meta["family"]) for p in problems),
        "difficulty": Counter(str(p.difficulty) for p in problems),
        "kind": Counter(p.tests.type for p in problems),
    }


def main() -> None:
    from rltf.tasks.builtin import load_builtin
    from rltf.tasks.builtin.basic import FAMILY_MODULES, generate, templates

    train, test = load_builtin("basic", "train"), load_builtin("basic", "test")
    c_tr, c_te = counts(train), counts(test)
    print(f"{len(train)} train, {len(test)} test, {len(templates())} templates\n")
    for what in ("family", "difficulty", "kind"):
        order = (
            [m.__name__.rsplit(".", 1)[1] for m in FAMILY_MODULES]
            if what == "family"
            else sorted(c_tr[what] | c_te[what])
        )
        print(f"| {what} | train | test |\n|---|---:|---:|")
        for k in order:
            print(f"| {k} | {c_tr[what][k]} | {c_te[what][k]} |")
        print()
    nd = near_duplicates(train, test)
    print("| nearest-neighbour Jaccard (token 3-grams) | mean | median | p90 | max | ≥ 0.9 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, key in (("held-out → train", "test"), ("train → other train", "train")):
        d = nd[f"{key}_to_train"]
        print(
            f"| {name} | {d['mean']} | {d['median']} | {d['p90']} | {d['max']} "
            f"| {nd[f'{key}_at_least_0.9']} |"
        )
    data = generate()
    missed, pairs, by_template = sibling_misses([*data["train"], *data["test"]])
    print(f"\nsibling problems not told apart by the tests: {missed} of {pairs} pairs")
    for tid, n in by_template.most_common():
        print(f"  {tid}: {n}")


if __name__ == "__main__":
    main()
