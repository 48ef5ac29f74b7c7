"""Element-wise operations and predicates shared by the list, loop and search families.

Each is a key (a small tuple such as ``("gt", 3)``) with three renderings: Python code over a
variable name, an English phrase, and an oracle function. Only one canonical form per meaning is
offered (``x > 3`` but never ``x >= 4``) so that two different keys never describe the same
function, which keeps the train/test split honest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import signed

Op = tuple[Any, ...]

MAPS: list[Op] = (
    [("lin", a, b) for a in range(1, 6) for b in range(-5, 6) if (a, b) != (1, 0)]
    + [("sq",), ("abs",), ("neg",)]
    + [("mod", k) for k in range(2, 6)]
)
PREDS: list[Op] = (
    [("gt", k) for k in range(-3, 6)]
    + [("lt", k) for k in range(-3, 6)]
    + [("div", k) for k in range(2, 6)]
    + [("ndiv", k) for k in range(2, 6)]
    + [("ne", k) for k in range(-2, 4)]
)


def map_code(op: Op, v: str) -> str:
    kind = op[0]
    if kind == "lin":
        _, a, b = op
        term = v if a == 1 else f"{v} * {a}"
        return term + (signed(b)[0] if b else "")
    return {"sq": f"{v} * {v}", "abs": f"abs({v})", "neg": f"-{v}"}.get(kind) or f"{v} % {op[1]}"


def map_text(op: Op, v: str) -> str:
    kind = op[0]
    if kind == "lin":
        _, a, b = op
        term = v if a == 1 else f"{v} times {a}"
        return term + (" " + signed(b)[1] if b else "")
    return {
        "sq": f"the square of {v}",
        "abs": f"the absolute value of {v}",
        "neg": f"minus {v}",
    }.get(kind) or f"{v} modulo {op[1]}"


def map_fn(op: Op) -> Callable[[int], int]:
    kind = op[0]
    if kind == "lin":
        return lambda x: x * op[1] + op[2]
    return {
        "sq": lambda x: x * x,
        "abs": abs,
        "neg": lambda x: -x,
        "mod": lambda x: x % op[1],
    }[kind]


def pred_code(op: Op, v: str) -> str:
    kind, k = op
    return {
        "gt": f"{v} > {k}",
        "lt": f"{v} < {k}",
        "div": f"{v} % {k} == 0",
        "ndiv": f"{v} % {k} != 0",
        "ne": f"{v} != {k}",
    }[kind]


def pred_text(op: Op) -> str:
    """Completes "the elements that are ..." / "each value that is ..."."""
    kind, k = op
    return {
        "gt": f"greater than {k}",
        "lt": f"less than {k}",
        "div": f"divisible by {k}",
        "ndiv": f"not divisible by {k}",
        "ne": f"different from {k}",
    }[kind]


def pred_fn(op: Op) -> Callable[[int], bool]:
    kind, k = op
    return {
        "gt": lambda x: x > k,
        "lt": lambda x: x < k,
        "div": lambda x: x % k == 0,
        "ndiv": lambda x: x % k != 0,
        "ne": lambda x: x != k,
    }[kind]


def probe(op: Op) -> list[int]:
    """Values at the edge of a predicate (k - 1, k, k + 1; multiples of k) or that tell maps
    apart, so that a problem's tests reject the template's sibling problems (tests/test_builtin_split.py)."""
    kind = op[0]
    if kind in ("gt", "lt", "ne"):
        k = op[1]
        return [k - 2, k - 1, k, k + 1, k + 2]
    if kind in ("div", "ndiv", "mod"):
        k = op[1]
        return [k, k + 1, 2 * k, k - 1, -k, 3 * k + 1]
    return [0, 1, -1, 2, 5, -3]
