"""`builtin:basic`: assemble the benchmark from the family modules and split it.

The split (documented in docs/builtin-basic.md) works per template, before any text exists:

1. Composition hold-out: a template whose keys fall into >= 5 *groups* (e.g. the pair of string
   operations that it chains) has a fifth of its groups, chosen by a seeded hash, reserved for the
   test split: no training problem uses those compositions.
2. Parameter hold-out: the remaining keys are ordered by a seeded hash; the first ones go to test,
   the next ones to train. A key (template + all constants and operation choices) is therefore
   used by at most one problem, so a held-out problem never asks for the same function as a
   training problem, only for a sibling that needs the same skill.
3. Wording hold-out: one statement frame per test kind is used only by held-out problems.

Names, wording, test kind and test inputs are drawn from an RNG seeded by (seed, template, key),
so every call returns the same problems.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rltf.records import Problem
from rltf.tasks.builtin import (
    arith,
    conditionals,
    dicts,
    grids,
    lists,
    loops,
    numbers,
    parsing,
    recursion,
    searching,
    simulation,
    strings,
)
from rltf.tasks.builtin._core import Draft, Key, Template, rng_for, stable_hash
from rltf.tasks.builtin._render import make_problem, stdio_ok

DEFAULT_SEED = 20230711  # RLTF's arXiv month; any int gives a valid benchmark
SOURCE = "builtin:basic"
FAMILY_MODULES = (
    arith,
    strings,
    lists,
    dicts,
    conditionals,
    loops,
    searching,
    recursion,
    parsing,
    simulation,
    numbers,
    grids,
)
# Share of problems per test kind, among the kinds a template allows ("mostly call").
KIND_WEIGHTS = {"call": 0.72, "stdio": 0.16, "assert": 0.12}


def templates() -> list[Template]:
    return [t for m in FAMILY_MODULES for t in m.TEMPLATES]


@dataclass(frozen=True)
class Entry:
    """A generated problem with the key it was built from (used by the split tests)."""

    template: Template
    key: Key
    draft: Draft
    problem: Problem


def split_keys(t: Template, seed: int) -> tuple[list[Key], list[Key]]:
    """(train keys, test keys) of one template; disjoint by construction."""
    space = list(dict.fromkeys(t.space))
    ranked = sorted(space, key=lambda k: stable_hash(seed, t.id, k))
    group = t.group or (lambda k: None)
    held = _held_groups(t, ranked, seed)
    in_held = [k for k in ranked if group(k) in held]
    free = [k for k in ranked if group(k) not in held]
    n_held = min(len(in_held), (t.n_test + 1) // 2)
    test = in_held[:n_held] + free[: t.n_test - n_held]
    train = free[t.n_test - n_held : t.n_test - n_held + t.n_train]
    if len(test) != t.n_test or len(train) != t.n_train:
        raise ValueError(
            f"template {t.id}: parameter space of {len(space)} keys is too small for "
            f"{t.n_train} train + {t.n_test} test problems"
        )
    return train, test


def _held_groups(t: Template, ranked: list[Key], seed: int) -> set[Any]:
    """Up to a fifth of the groups (seeded choice), skipping any group whose hold-out would leave
    too few keys for the requested number of problems."""
    if t.group is None:
        return set()
    group = t.group
    groups = sorted({group(k) for k in ranked}, key=lambda g: stable_hash(seed, t.id, "g", g))
    held: set[Any] = set()
    if len(groups) < 5:
        return held
    for g in groups:
        if len(held) == len(groups) // 5:
            break
        trial = held | {g}
        n_in = sum(1 for k in ranked if group(k) in trial)
        n_held = min(n_in, (t.n_test + 1) // 2)
        if len(ranked) - n_in >= t.n_train + t.n_test - n_held:
            held = trial
    return held


def _kind(t: Template, d: Draft, seed: int, key: Key) -> str:
    kinds = [k for k in t.kinds if k != "stdio" or stdio_ok(d)]
    r = rng_for(seed, t.id, key, "kind")
    weights = [KIND_WEIGHTS[k] for k in kinds]
    return str(r.choices(kinds, weights)[0])


@functools.lru_cache(maxsize=4)
def generate(seed: int = DEFAULT_SEED) -> dict[str, tuple[Entry, ...]]:
    """All problems of ``builtin:basic`` by split ("train", "test")."""
    out: dict[str, list[Entry]] = {"train": [], "test": []}
    for t in templates():
        train, test = split_keys(t, seed)
        for split, keys in (("train", train), ("test", test)):
            for key in keys:
                r = rng_for(seed, t.id, key)
                draft = t.build(key, r)
                out[split].append(Entry(t, key, draft, _problem(t, draft, key, split, seed)))
    return {split: tuple(_number(entries, split)) for split, entries in out.items()}


def _problem(t: Template, d: Draft, key: Key, split: str, seed: int) -> Problem:
    where = f"{SOURCE} template {t.id} key {key!r}"
    if len(d.inputs) < 5:
        raise ValueError(f"{where}: only {len(d.inputs)} test inputs")
    meta = {"source": SOURCE, "family": t.family, "split": split, "template": t.id}
    r = rng_for(seed, t.id, key, "wording")
    kind = _kind(t, d, seed, key)
    return make_problem(where, d, kind, t.difficulty, meta, split == "test", r)


def _number(entries: list[Entry], split: str) -> list[Entry]:
    out = []
    for i, e in enumerate(entries, start=1):
        slug = e.template.id.replace(".", "-").replace("_", "-")
        pid = f"basic/{split}/{i:04d}-{slug}"
        out.append(Entry(e.template, e.key, e.draft, _with_id(e.problem, pid)))
    return out


def _with_id(p: Problem, pid: str) -> Problem:
    return Problem(pid, p.prompt, p.tests, p.starter_code, p.difficulty, p.solutions, dict(p.meta))


def load_basic(split: str, seed: int = DEFAULT_SEED) -> list[Problem]:
    if split not in ("train", "test", "all"):
        raise ValueError(f"builtin:basic has splits 'train', 'test' and 'all', not {split!r}")
    data = generate(seed)
    splits = ("train", "test") if split == "all" else (split,)
    return [e.problem for s in splits for e in data[s]]
