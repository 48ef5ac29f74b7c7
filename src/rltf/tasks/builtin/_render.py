"""Render a :class:`Draft` as a :class:`~rltf.records.Problem` of one test kind.

The three kinds share one reference function, so a model learns one body per task:

- ``call``: the function alone; tests call it by ``fn_name`` with JSON arguments.
- ``assert``: the function alone; tests are ``assert f(...) == ...`` statements (MBPP style).
- ``stdio``: the function, then lines that read its arguments from stdin and print its result.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from rltf.records import (
    AssertTests,
    CallCase,
    CallTests,
    Problem,
    StdioCase,
    StdioTests,
    Tests,
)
from rltf.tasks.builtin._core import STDIO_IN, STDIO_OUT, Arg, Draft, lit, pick

# The last frame of each list is never used in the training split: held-out problems are also
# posed in one phrasing the model has not seen (DESIGN: docs/builtin-basic.md, "The split").
FRAMES = (
    "Write a function `{sig}` that {core}.",
    "Implement `{sig}`, which {core}.",
    "Define a Python function `{sig}` that {core}.",
    "Create the function `{sig}`; it {core}.",
    "Complete `{sig}` so that it {core}.",
)
STDIO_FRAMES = (
    "Write a program that uses a function `{sig}` which {core}.",
    "Write a complete program around a function `{sig}` that {core}.",
    "Solve this with a function `{sig}` that {core}, called on the input.",
)

_READ = {
    "int": ("{a} = int(input())",),
    "str": ("{a} = input()",),
    "ints": ("{a} = list(map(int, input().split()))",),
    "strs": ("{a} = input().split()",),
    "lines": ("count = int(input())", "{a} = [input() for _ in range(count)]"),
    "grid": ("rows = int(input())", "{a} = [list(map(int, input().split())) for _ in range(rows)]"),
}
_IN_DOC = {
    "int": "a line with the integer `{a}`",
    "str": "a line with the string `{a}`",
    "ints": "a line with the integers of `{a}` separated by spaces (empty if `{a}` is empty)",
    "strs": "a line with the words of `{a}` separated by spaces (empty if `{a}` is empty)",
    "lines": "a line with the number of entries of `{a}`, then one line per entry",
    "grid": "a line with the number of rows of `{a}`, then each row as integers separated by spaces",
}
_OUT_DOC = {
    "int": "the returned integer on one line",
    "str": "the returned string on one line",
    "bool": "`True` or `False` on one line",
    "ints": "the returned integers on one line, separated by spaces",
    "strs": "the returned words on one line, separated by spaces",
}


def signature(d: Draft) -> str:
    return f"{d.fn}({', '.join(a.name for a in d.args)})"


def function_source(d: Draft) -> str:
    body = "\n".join("    " + row for row in d.body)
    return f"def {signature(d)}:\n{body}\n"


def jsonable(value: Any, where: str) -> Any:
    """Check that ``value`` survives a JSON round trip unchanged (no tuples, sets, int keys)."""
    if json.loads(json.dumps(value)) != value or _has_tuple_or_float(value):
        raise ValueError(f"{where}: {value!r} is not plain JSON data")
    return value


def _has_tuple_or_float(v: Any) -> bool:
    if isinstance(v, (tuple, set, float)):
        return True
    if isinstance(v, list):
        return any(_has_tuple_or_float(x) for x in v)
    if isinstance(v, dict):
        return any(not isinstance(k, str) or _has_tuple_or_float(x) for k, x in v.items())
    return False


def expected_values(d: Draft, where: str) -> list[Any]:
    out = []
    for args in d.inputs:
        jsonable(list(args), f"{where} args")
        out.append(jsonable(d.oracle(*copy.deepcopy(args)), f"{where} expected"))
    return out


def stdio_ok(d: Draft) -> bool:
    return d.ret in STDIO_OUT and all(a.type in STDIO_IN for a in d.args)


def _stdin_text(arg: Arg, value: Any) -> str:
    t = arg.type
    if t == "int":
        return f"{value}\n"
    if t == "str":
        if "\n" in value:
            raise ValueError(f"stdio string argument {arg.name} contains a newline")
        return f"{value}\n"
    if t == "ints":
        return " ".join(map(str, value)) + "\n"
    if t == "strs":
        if any(not w or " " in w for w in value):
            raise ValueError(f"stdio word list {arg.name} has an empty word or a space")
        return " ".join(value) + "\n"
    if t == "lines":
        return f"{len(value)}\n" + "".join(f"{row}\n" for row in value)
    if t == "grid":
        return f"{len(value)}\n" + "".join(" ".join(map(str, row)) + "\n" for row in value)
    raise ValueError(f"type {t} has no stdio format")


def _stdout_text(ret: str, value: Any) -> str:
    if ret in ("ints", "strs"):
        return " ".join(map(str, value)) + "\n"
    return f"{value}\n"


def _print_line(d: Draft) -> str:
    call = f"{d.fn}({', '.join(a.name for a in d.args)})"
    if d.ret == "ints":
        return f'print(" ".join(map(str, {call})))'
    if d.ret == "strs":
        return f'print(" ".join({call}))'
    return f"print({call})"


def stdio_program(d: Draft) -> str:
    reads = [row.format(a=a.name) for a in d.args for row in _READ[a.type]]
    return function_source(d) + "\n\n" + "\n".join([*reads, _print_line(d)]) + "\n"


def render(
    d: Draft, kind: str, difficulty: str, test_split: bool, r: random.Random, where: str
) -> tuple[str, str, Tests]:
    """(statement, reference solution, tests) of ``d`` posed as ``kind``."""
    expected = expected_values(d, where)
    sig = signature(d)
    frames = STDIO_FRAMES if kind == "stdio" else FRAMES
    frame = pick(r, frames if test_split else frames[:-1])
    parts = [frame.format(sig=sig, core=d.core)]
    if d.note:
        parts.append(d.note)
    if kind == "stdio":
        reads = "; then ".join(_IN_DOC[a.type].format(a=a.name) for a in d.args)
        parts.append(f"\nInput: {reads}.\nOutput: {_OUT_DOC[d.ret]}.")
        cases = tuple(
            StdioCase(
                "".join(_stdin_text(a, v) for a, v in zip(d.args, args, strict=False)),
                _stdout_text(d.ret, e),
            )
            for args, e in zip(d.inputs, expected, strict=False)
        )
        return " ".join(parts).replace(" \n", "\n"), stdio_program(d), StdioTests(cases)
    if difficulty != "easy":
        # The last input with a non-trivial answer (not 0, "", [] or False): random inputs come last.
        i = max((j for j, e in enumerate(expected) if e), default=len(expected) - 1)
        call = f"{d.fn}({', '.join(lit(v) for v in d.inputs[i])})"
        parts.append(f"For example, `{call}` returns `{lit(expected[i])}`.")
    statement = " ".join(parts)
    if kind == "call":
        calls = tuple(CallCase(tuple(args), e) for args, e in zip(d.inputs, expected, strict=False))
        return statement, function_source(d), CallTests(d.fn, calls)
    asserts = tuple(
        f"assert {d.fn}({', '.join(lit(v) for v in args)}) == {lit(e)}"
        for args, e in zip(d.inputs, expected, strict=False)
    )
    return statement, function_source(d), AssertTests(asserts, entry_point=d.fn)


def make_problem(
    pid: str,
    d: Draft,
    kind: str,
    difficulty: str,
    meta: dict[str, Any],
    test_split: bool,
    r: random.Random,
) -> Problem:
    statement, solution, tests = render(d, kind, difficulty, test_split, r, pid)
    return Problem(
        id=pid,
        prompt=statement,
        tests=tests,
        # The signature is the starter code: the "completion" prompt style conditions on it, so a
        # small model writes the body instead of re-spelling the name (HumanEval-style).
        starter_code=solution.splitlines(keepends=True)[0],
        difficulty=difficulty,
        solutions=(solution,),
        meta={**meta, "kind": kind, "prompt_style": "completion"},
    )
