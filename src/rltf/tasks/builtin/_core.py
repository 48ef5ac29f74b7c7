"""Shared machinery of the built-in benchmark: templates, drafts, wording, test inputs.

A *template* is one kind of task (``arith.linear``: return ``x * a + b``). Its *parameter space* is
a finite list of hashable keys (``(3, 2)``); each key is the identity of one problem, and the split
(``_assemble``) hands every key to at most one problem in at most one split. ``build(key, rng)``
turns a key into a :class:`Draft`: the function's name and arguments, a third-person clause that
says what it does, the reference body, an independent oracle that computes expected values, and
test inputs. Everything cosmetic (names, wording, inputs) is drawn from ``rng``, which is seeded by
the key, so the benchmark is the same on every call and on every machine.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

Key = Hashable

# Argument / return types. Those in STDIO_IN / STDIO_OUT have a line format, so a problem using
# only them can also be posed as a standard-input program.
STDIO_IN = ("int", "str", "ints", "strs", "lines", "grid")
STDIO_OUT = ("int", "str", "bool", "ints", "strs")

INT_NAMES = ("n", "x", "num", "value")
LIST_NAMES = ("nums", "values", "numbers", "items", "xs", "data")
STR_NAMES = ("s", "text", "word", "line")
WORDS_NAMES = ("words", "names", "tokens", "parts")
DICT_NAMES = ("d", "table", "scores", "stock")

WORDS = (
    "apple", "bird", "cat", "dog", "echo", "fig", "gold", "hat", "ice", "jam", "kite", "lamp",
    "moon", "nut", "oak", "pear", "quiz", "rose", "sun", "tree", "urn", "vine", "wolf", "yak",
    "zebra", "ant", "bee", "cow", "deer", "eel", "fox", "goat", "hen", "ibis", "owl", "pig",
    "ram", "seal", "toad", "level", "noon", "radar", "stats", "book", "door", "loop", "see",
)  # fmt: skip


@dataclass(frozen=True)
class Arg:
    name: str
    type: str  # int | str | ints | strs | lines | grid | dict | nested | pairs | any


@dataclass(frozen=True)
class Draft:
    """One problem before rendering (see the module docstring)."""

    fn: str
    args: tuple[Arg, ...]
    ret: str
    core: str  # completes "Write a function `f(x)` that ...", e.g. "returns `x` times 3"
    body: tuple[str, ...]  # reference body lines, relative indentation, no ``def`` line
    oracle: Callable[..., Any]  # computes the expected value independently of ``body``
    inputs: tuple[tuple[Any, ...], ...]
    note: str = ""  # extra sentence(s): preconditions, edge-case rules


@dataclass(frozen=True)
class Template:
    id: str  # "family.name"
    difficulty: str  # easy | medium | hard
    space: tuple[Key, ...]
    build: Callable[[Any, random.Random], Draft]
    n_train: int
    n_test: int
    # Composition unit (e.g. the pair of operations); when a template has >= 5 groups, a fifth of
    # them is held out of training entirely (see split_keys).
    group: Callable[[Any], Hashable] | None = None
    kinds: tuple[str, ...] = ("call", "stdio", "assert")

    @property
    def family(self) -> str:
        return self.id.split(".")[0]


def template(
    tid: str,
    difficulty: str,
    space: Sequence[Key],
    n: tuple[int, int],
    group: Callable[[Any], Hashable] | None = None,
    kinds: tuple[str, ...] = ("call", "stdio", "assert"),
) -> Callable[[Callable[[Any, random.Random], Draft]], Template]:
    """Decorator: ``@template("arith.linear", "easy", space, (train, test))`` on a build function."""

    def wrap(build: Callable[[Any, random.Random], Draft]) -> Template:
        return Template(tid, difficulty, tuple(space), build, n[0], n[1], group, kinds)

    return wrap


# --------------------------------------------------------------------------------------------
# determinism


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``repr(parts)`` that, unlike ``hash()``, is the same in every process."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(stable_hash(*parts))


# --------------------------------------------------------------------------------------------
# code and wording helpers


def lines(*rows: str) -> tuple[str, ...]:
    return rows


def lit(value: Any) -> str:
    """A Python literal in the benchmark's one style (double-quoted strings)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    return repr(value)


def signed(b: int) -> tuple[str, str]:
    """(" + 3", "plus 3") or (" - 3", "minus 3")."""
    return (f" + {b}", f"plus {b}") if b >= 0 else (f" - {-b}", f"minus {-b}")


def pick(r: random.Random, options: Sequence[Any]) -> Any:
    return options[r.randrange(len(options))]


def names(r: random.Random, pool: Sequence[str], k: int) -> list[str]:
    return r.sample(list(pool), k)


# --------------------------------------------------------------------------------------------
# test inputs: a few fixed edge cases plus random ones, deduplicated


def uniq(cases: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    seen: dict[str, tuple[Any, ...]] = {}
    for c in cases:
        seen.setdefault(json.dumps(c, sort_keys=True), c)
    return tuple(seen.values())


def int_cases(
    r: random.Random, edges: Sequence[int], lo: int, hi: int, total: int = 7
) -> tuple[tuple[Any, ...], ...]:
    out = [(e,) for e in edges]
    while len(uniq(out)) < total:
        out.append((r.randint(lo, hi),))
    return uniq(out)


def rand_list(r: random.Random, lo: int, hi: int, min_len: int = 2, max_len: int = 7) -> list[int]:
    return [r.randint(lo, hi) for _ in range(r.randint(min_len, max_len))]


def list_cases(
    r: random.Random,
    lo: int = -9,
    hi: int = 9,
    total: int = 7,
    min_len: int = 0,
    extra: Sequence[list[int]] = (),
) -> tuple[tuple[Any, ...], ...]:
    """Lists of ints: the empty list (if allowed), a single element, duplicates, then random."""
    edges: list[list[int]] = [] if min_len > 0 else [[]]
    if min_len <= 1:
        edges.append([r.randint(lo, hi)])
    v = r.randint(lo, hi)
    edges.append([v, v, r.randint(lo, hi)][: max(3, min_len)] + [v] * max(0, min_len - 3))
    out = [(e,) for e in edges] + [(list(e),) for e in extra]
    while len(uniq(out)) < total + len(extra):
        out.append((rand_list(r, lo, hi, max(min_len, 2)),))
    return uniq(out)


def word_list(r: random.Random, min_len: int = 2, max_len: int = 6) -> list[str]:
    return [pick(r, WORDS) for _ in range(r.randint(min_len, max_len))]


def words_cases(r: random.Random, total: int = 6, min_len: int = 0) -> tuple[tuple[Any, ...], ...]:
    edges: list[list[str]] = [] if min_len > 0 else [[]]
    edges.append([pick(r, WORDS)] * max(1, min_len))
    out = [(e,) for e in edges]
    while len(uniq(out)) < total:
        out.append((word_list(r, max(2, min_len)),))
    return uniq(out)


def text(r: random.Random, min_words: int = 1, max_words: int = 4) -> str:
    return " ".join(word_list(r, min_words, max_words))


def str_cases(
    r: random.Random, edges: Sequence[str] = ("", "a"), total: int = 6, words: bool = False
) -> tuple[tuple[Any, ...], ...]:
    """Strings: the given edge cases, then single words (or short phrases when ``words``)."""
    out = [(e,) for e in edges]
    while len(uniq(out)) < total:
        w = text(r, 2, 4) if words else pick(r, WORDS)
        if r.random() < 0.3:
            w = w.capitalize() if r.random() < 0.5 else w.upper()
        out.append((w,))
    return uniq(out)


def combine(*columns: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """Zip per-argument case lists into argument tuples (cycling the shorter ones)."""
    total = max(len(c) for c in columns)
    return uniq([sum((c[i % len(c)] for c in columns), ()) for i in range(total)])


def plural(k: int, word: str) -> str:
    """ "1 element", "3 elements"."""
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def rand_dict(r: random.Random, lo: int = -5, hi: int = 20, max_len: int = 5) -> dict[str, int]:
    return {w: r.randint(lo, hi) for w in r.sample(WORDS, r.randint(2, max_len))}


def dict_cases(r: random.Random, total: int = 6) -> tuple[tuple[Any, ...], ...]:
    """Dicts from str to int: empty, one entry, a tie, then random ones."""
    w = r.sample(WORDS, 3)
    out: list[tuple[Any, ...]] = [({},), ({w[0]: 3},), ({w[1]: 5, w[2]: 5},)]
    while len(uniq(out)) < total:
        out.append((rand_dict(r),))
    return uniq(out)


def ordinal(k: int) -> str:
    """2 -> "2nd", 11 -> "11th"."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"
