"""``mbpp:PATH[:SPLIT]`` — MBPP (Austin et al. 2021) jsonl, both released variants.

* full (``mbpp.jsonl``): ``task_id, text, code, test_list, test_setup_code, challenge_test_list``;
* sanitized (``sanitized-mbpp.json(l)``): ``task_id, prompt, code, test_list, test_imports``.

Tests are the ``test_list`` asserts (``AssertTests``). ``test_imports`` (sanitized) and
``test_setup_code`` (full) become ``AssertTests.program_setup``: the official harness runs
``program + setup + asserts`` as one script, so that code runs in the sandbox *after* the program,
in its namespace — a solution may rely on ``test_imports`` (11 sanitized solutions use ``math``
without importing it) and a setup may build the program's classes (mbpp/927 builds ``Node``s). ``challenge_test_list`` (harder hidden asserts of the full variant) is kept in
``Problem.meta`` and added to the tests only with ``include_challenge=True``.

Splits follow the task ids of the MBPP release (the paper's and the official repo's split):
prompt (few-shot) 1–10, test 11–510, validation 511–600, train 601–974.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rltf.records import AssertTests, Problem, RecordError
from rltf.tasks.formats._io import Excluded, LoadReport, collect, iter_jsonl

MBPP_SPLITS: dict[str, range | None] = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
    "all": None,
}


def load_mbpp(
    path: str | Path,
    *,
    split: str = "all",
    include_challenge: bool = False,
    skip_invalid: bool = False,
    skipped: list[RecordError] | None = None,
) -> list[Problem]:
    if split not in MBPP_SPLITS:
        raise ValueError(f"mbpp: unknown split {split!r} (expected {', '.join(MBPP_SPLITS)})")
    path = Path(path)
    report = LoadReport(f"mbpp:{path}:{split}", skip_invalid, skipped)
    ids = MBPP_SPLITS[split]

    def convert(row: Any, where: str) -> Problem:
        problem = mbpp_problem(row, where, include_challenge=include_challenge)
        if ids is not None and problem.meta["task_id"] not in ids:
            raise Excluded(f"not in split {split!r}")
        return problem

    return collect(_rows(path), convert, report)


def _rows(path: Path) -> Iterator[tuple[str, Any]]:
    """MBPP ships as jsonl (full) and, for the sanitized variant, also as one JSON array."""
    if path.suffix == ".json":
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise RecordError(f"{path}:{e.lineno}", "<json>", f"invalid JSON: {e.msg}") from None
        if not isinstance(data, list):
            raise RecordError(str(path), "<json>", "expected a JSON array of MBPP rows")
        return ((f"{path}[{i}]", row) for i, row in enumerate(data))
    return ((f"{path}:{lineno}", row) for lineno, row in iter_jsonl(path))


def split_of(task_id: int) -> str:
    """The MBPP split a task id belongs to ("other" outside 1–974)."""
    for name, ids in MBPP_SPLITS.items():
        if ids is not None and task_id in ids:
            return name
    return "other"


def mbpp_problem(row: Any, where: str, *, include_challenge: bool = False) -> Problem:
    """Convert one MBPP row (full or sanitized variant)."""
    if not isinstance(row, Mapping):
        raise RecordError(where, "<record>", f"expected a JSON object, got {type(row).__name__}")
    task_id = row.get("task_id")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise RecordError(where, "task_id", "missing" if task_id is None else "expected int")
    text_key = "text" if "text" in row else "prompt"
    text = _str(row, text_key, where)
    code = _str(row, "code", where, required=False)
    tests = _str_list(row, "test_list", where)
    if not tests:
        raise RecordError(where, "test_list", "no asserts")
    challenge = _str_list(row, "challenge_test_list", where)
    if "test_imports" in row:  # sanitized variant: a list of import lines
        setup = "\n".join(_str_list(row, "test_imports", where))
    else:
        setup = _str(row, "test_setup_code", where, required=False)
    for i, t in enumerate(tests + challenge):
        field = f"test_list[{i}]" if i < len(tests) else f"challenge_test_list[{i - len(tests)}]"
        try:
            ast.parse(t)
        except SyntaxError as e:
            raise RecordError(where, field, f"not valid Python: {e.msg}") from None
    meta: dict[str, Any] = {"source": "mbpp", "task_id": task_id, "split": split_of(task_id)}
    fn_name = assert_function_name(tests[0])
    if fn_name:
        meta["fn_name"] = fn_name
    if challenge:
        meta["challenge_test_list"] = list(challenge)
    return Problem(
        id=f"mbpp/{task_id}",
        prompt=text,
        tests=AssertTests(
            asserts=tests + (challenge if include_challenge else ()),
            program_setup=setup.strip() + "\n" if setup.strip() else "",
        ),
        solutions=(code,) if code else (),
        meta=meta,
    )


def assert_function_name(assert_src: str) -> str | None:
    """The first function an assert calls, e.g. ``similar_elements`` in
    ``assert set(similar_elements((3, 4), (5, 4))) == set((4,))`` — skipping builtins."""
    try:
        tree = ast.parse(assert_src)
    except SyntaxError:
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        assert isinstance(call.func, ast.Name)
        if call.func.id not in _BUILTINS:
            return call.func.id
    return None


_BUILTINS = frozenset(dir(builtins))


def _str(row: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = row.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise RecordError(where, key, "missing" if key not in row else "expected str")
    return value


def _str_list(row: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key)
    if value is None:
        if key == "test_list":
            raise RecordError(where, key, "missing")
        return ()
    if not isinstance(value, list):
        raise RecordError(where, key, "expected a list of str")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RecordError(where, f"{key}[{i}]", f"expected str, got {type(item).__name__}")
    return tuple(value)
