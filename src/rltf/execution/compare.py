"""Output comparison, in the trusted worker (never in the sandbox).

Conventions follow the APPS harness (Hendrycks et al. 2021, ``testing_util.run_test``), made
explicit and slightly stricter:

stdio (:func:`stdio_equal`)
  1. exact match, else
  2. line endings normalised (``\\r\\n``/``\\r`` -> ``\\n``), every line stripped, blank lines
     dropped; the remaining lines must match one for one, where two lines match when their
     whitespace-separated tokens match one for one, and two tokens match when they are equal or
     both are decimal numbers within ``|a - b| <= ATOL + RTOL * |b|`` (numpy ``allclose``
     defaults, as APPS uses).
  Deliberately *not* copied from APPS: its order-insensitive ``set(frozenset(...))`` comparison
  of tokens, which accepts permuted or duplicated answers.

call (:func:`call_equal`)
  The returned value (tuples turned into lists, since JSON ground truth has no tuples) must equal
  the expected value, floats within the tolerance above at any depth. APPS wraps most expected
  return values in a one-element list (``"outputs": [[3], ...]``), so a one-element list also
  matches its element. (APPS compares with element 0 of *any* list, which accepts ``1`` for an
  expected ``[1, 2]``; we only unwrap one-element lists.)
"""

from __future__ import annotations

import math
import re
from typing import Any

RTOL = 1e-5
ATOL = 1e-8

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= ATOL + RTOL * abs(b)


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [s for s in (line.strip() for line in text.split("\n")) if s]


def _token_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    if _NUMBER.fullmatch(a) and _NUMBER.fullmatch(b):
        try:
            return _close(float(a), float(b))
        except (OverflowError, ValueError):
            return False
    return False


def stdio_equal(output: str, expected: str) -> bool:
    """Whether a program's stdout matches the expected stdout (see the module docstring)."""
    if output == expected:
        return True
    out, exp = _lines(output), _lines(expected)
    if out == exp:
        return True
    if len(out) != len(exp):
        return False
    for a, b in zip(out, exp, strict=True):
        if a == b:
            continue
        ta, tb = a.split(), b.split()
        if len(ta) != len(tb) or not all(_token_equal(x, y) for x, y in zip(ta, tb, strict=True)):
            return False
    return True


def _delist(value: Any) -> Any:
    """Tuples (namedtuples too: decoded ones are the trusted process's own classes) become lists,
    recursively (JSON ground truth has no tuples)."""
    t = type(value)
    if isinstance(value, tuple) or t is list:
        return [_delist(v) for v in value]
    if t is dict:
        return {k: _delist(v) for k, v in value.items()}
    return value


def values_equal(a: Any, b: Any, depth: int = 0) -> bool:
    """Structural equality of plain values with float tolerance (``b`` is the expected value)."""
    if depth > 200:
        return False
    ta, tb = type(a), type(b)
    if (ta is float or tb is float) and ta in (int, float) and tb in (int, float):
        return a == b or _close(float(a), float(b))
    if ta is list and tb is list:
        return len(a) == len(b) and all(
            values_equal(x, y, depth + 1) for x, y in zip(a, b, strict=True)
        )
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(values_equal(a[k], b[k], depth + 1) for k in a)
    try:
        return bool(a == b)
    except RecursionError:
        return False


def call_equal(output: Any, expected: Any) -> bool:
    """Whether a call-based test's returned value matches the expected one (module docstring)."""
    try:
        out = _delist(output)
        if values_equal(out, expected):
            return True
        return type(expected) is list and len(expected) == 1 and values_equal(out, expected[0])
    except RecursionError:  # only a forged, absurdly nested value gets here
        return False
