"""``apps:DIR_OR_JSONL[:SPLIT]`` — APPS (Hendrycks et al. 2021), as used by CodeRL and RLTF.

Two layouts are read:

* the release directory ``DIR/<split>/<id>/`` with ``question.txt``, ``input_output.json``,
  ``solutions.json``, ``metadata.json`` (``{"difficulty": ..., "url": ...}``) and an optional
  ``starter_code.py``. ``DIR`` may be the root (holding ``train/``, ``test/``; ``:SPLIT`` picks
  one, default all) or one split directory;
* the jsonl export (the Hugging Face ``codeparrot/apps`` rows): ``problem_id, question,
  solutions, input_output, difficulty, url, starter_code`` where ``solutions`` and
  ``input_output`` are JSON *strings*.

Every JSON field is parsed with :func:`json.loads`, never ``eval`` (the official APPS/CodeRL code
evals dataset text). ``input_output`` holds ``inputs``/``outputs`` and, for call-based problems,
``fn_name`` (a function, or a method of ``class Solution`` given in the starter code):

* standard input: each input/output is a string, or a list of lines (joined with ``"\\n"``);
* call-based: each input is the list of arguments; each output is kept *exactly as given*. APPS
  often wraps the expected value in a one-element list (``[[1, 2]]`` for a function returning
  ``[1, 2]``); the comparison rule that accepts either form belongs to the execution engine
  (rltf.execution), which applies it in the trusted parent, so it is not duplicated here.

Problems without tests (no or empty ``input_output``, which APPS has in its train split) are
counted and excluded, never silently dropped. Ids are ``apps/<split>/<dir name>``.

Import header: every APPS harness (APPS and CodeRL ``testing_util.run_test``, copied by RLTF)
prepends :data:`APPS_HEADER` to the program, and APPS programs rely on it (``List``, ``Counter``,
``sqrt``, ``heappush`` used without an import). The loaders record it in
``Problem.meta["program_header"]`` (``header=False`` leaves it out); the execution engine runs it
before the program in the program's namespace, compiled separately so that error lines stay in the
program's own coordinates (``ExecutionConfig.program_header=False`` turns it off for a run).
Intended differences from that harness: it wraps a stdin program in a function, so a top-level
``return`` passes there and is a compile error here; and ``from __future__`` imports work here
(prepended text makes them a SyntaxError there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rltf.records import CallCase, CallTests, Problem, RecordError, StdioCase, StdioTests, Tests
from rltf.tasks.formats._io import Excluded, InvalidRow, LoadReport, collect, iter_jsonl

APPS_SPLITS = frozenset({"train", "test"})
NO_TESTS = "no tests (input_output missing or empty)"
SPLIT_KEY = "__split__"
# Verbatim from APPS/CodeRL testing_util.run_test (the ``sol = "import sys\n..."`` prefix).
APPS_HEADER = (
    "import sys\nimport time\nimport itertools\n"
    "from itertools import accumulate, product, permutations, combinations\n"
    "import collections\n"
    "from collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n"
    "from functools import lru_cache\nimport math\n"
    "from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2\n"
    "import fractions\nfrom typing import List, Tuple\nimport numpy as np\nimport random\n"
    "import heapq\nfrom heapq import *\n"
)


def load_apps(
    path: str | Path,
    *,
    split: str | None = None,
    header: bool = True,
    skip_invalid: bool = False,
    skipped: list[RecordError] | None = None,
) -> list[Problem]:
    """APPS problems from ``path``; ``header=False`` leaves out :data:`APPS_HEADER`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    report = LoadReport(f"apps:{path}" + (f":{split}" if split else ""), skip_invalid, skipped)
    rows = _jsonl_rows(path, split) if path.is_file() else _dir_rows(path, split)

    def convert(row: Any, where: str) -> Problem:
        return apps_problem(row, where, header=header)

    return collect(rows, convert, report)


def _jsonl_rows(path: Path, split: str | None) -> Iterator[tuple[str, Any]]:
    # The export has one file per split; name it from the file (train.jsonl / test.jsonl).
    stem = path.name.split(".")[0]
    if split is not None and stem in APPS_SPLITS and split != stem:
        raise RecordError(str(path), "<split>", f"the file holds split {stem!r}, not {split!r}")
    return (
        (f"{path}:{lineno}", _with_split(row, split or stem)) for lineno, row in iter_jsonl(path)
    )


def _dir_rows(root: Path, split: str | None) -> Iterator[tuple[str, Any]]:
    if (root / "question.txt").is_file():  # a single problem directory
        split_dirs = [root.parent]
        problem_dirs: list[list[Path]] = [[root]]
    else:
        if split is not None:
            split_dirs = [root / split]
            if not split_dirs[0].is_dir():
                raise FileNotFoundError(f"{split_dirs[0]}: no such split directory")
        elif any((root / s).is_dir() for s in APPS_SPLITS):
            split_dirs = [root / s for s in sorted(APPS_SPLITS) if (root / s).is_dir()]
        else:
            split_dirs = [root]
        problem_dirs = [sorted(p for p in d.iterdir() if p.is_dir()) for d in split_dirs]
        if not any(problem_dirs):
            raise FileNotFoundError(
                f"{root}: no APPS problem directories (<split>/<id>/question.txt)"
            )
    for split_dir, dirs in zip(split_dirs, problem_dirs, strict=True):
        for d in dirs:
            try:
                row: Any = _with_split(_read_dir(d), split_dir.name)
            except RecordError as e:
                row = InvalidRow(e)
            yield str(d), row


def _with_split(row: Any, split: str) -> Any:
    # The split is not an APPS field; it travels with the row (ids are apps/<split>/<id>).
    return {**row, SPLIT_KEY: split} if isinstance(row, Mapping) else row


def _read_dir(d: Path) -> dict[str, Any]:
    """One problem directory as an export-style row (JSON fields still as text)."""
    question = d / "question.txt"
    if not question.is_file():
        raise RecordError(str(d), "question.txt", "missing")
    row: dict[str, Any] = {"problem_id": d.name, "question": question.read_text(encoding="utf-8")}
    for name, key in (("input_output.json", "input_output"), ("solutions.json", "solutions")):
        f = d / name
        if f.is_file():
            row[key] = f.read_text(encoding="utf-8")
    starter = d / "starter_code.py"
    if starter.is_file():
        row["starter_code"] = starter.read_text(encoding="utf-8")
    meta = d / "metadata.json"
    if meta.is_file():
        info = _json(meta.read_text(encoding="utf-8"), f"{d}/metadata.json", "metadata.json")
        if not isinstance(info, Mapping):
            raise RecordError(f"{d}/metadata.json", "metadata.json", "expected a JSON object")
        row["difficulty"] = info.get("difficulty")
        row["url"] = info.get("url")
    return row


def apps_problem(row: Any, where: str, split: str | None = None, *, header: bool = True) -> Problem:
    """Convert one APPS row (export layout; directory rows are read into the same shape)."""
    if not isinstance(row, Mapping):
        raise RecordError(where, "<record>", f"expected a JSON object, got {type(row).__name__}")
    split = split or str(row.get(SPLIT_KEY) or "train")
    pid = row.get("problem_id")
    if isinstance(pid, bool) or not isinstance(pid, int | str):
        raise RecordError(where, "problem_id", "missing" if pid is None else "expected int or str")
    question = row.get("question")
    if not isinstance(question, str):
        raise RecordError(where, "question", "missing" if question is None else "expected str")
    tests = apps_tests(row.get("input_output"), where)
    solutions = _solutions(row.get("solutions"), where)
    starter = row.get("starter_code") or ""
    if not isinstance(starter, str):
        raise RecordError(where, "starter_code", "expected str")
    difficulty = row.get("difficulty")
    if difficulty is not None and not isinstance(difficulty, str):
        raise RecordError(where, "difficulty", "expected str")
    meta: dict[str, Any] = {"source": "apps", "split": split}
    if header:
        meta["program_header"] = APPS_HEADER
    if isinstance(row.get("url"), str):
        meta["url"] = row["url"]
    name = f"{pid:04d}" if isinstance(pid, int) else pid
    return Problem(
        id=f"apps/{split}/{name}",
        prompt=question,
        tests=tests,
        starter_code=starter,
        difficulty=difficulty,
        solutions=solutions,
        meta=meta,
    )


def apps_tests(raw: Any, where: str) -> Tests:
    """Parse APPS ``input_output`` (a JSON string or an already-parsed object)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Excluded(NO_TESTS)
    io = _json(raw, where, "input_output") if isinstance(raw, str) else raw
    if not isinstance(io, Mapping):
        raise RecordError(where, "input_output", "expected a JSON object")
    inputs, outputs = io.get("inputs"), io.get("outputs")
    if not inputs and not outputs:
        raise Excluded(NO_TESTS)
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise RecordError(where, "input_output", "'inputs' and 'outputs' must be lists")
    if len(inputs) != len(outputs):
        raise RecordError(where, "input_output", f"{len(inputs)} inputs but {len(outputs)} outputs")
    fn_name = io.get("fn_name")
    if fn_name is not None:
        if not isinstance(fn_name, str) or not fn_name.isidentifier():
            raise RecordError(where, "input_output.fn_name", f"{fn_name!r} is not an identifier")
        cases = []
        for i, (args, expected) in enumerate(zip(inputs, outputs, strict=True)):
            if not isinstance(args, list):
                raise RecordError(
                    where, f"input_output.inputs[{i}]", "expected a list of arguments"
                )
            cases.append(CallCase(tuple(args), expected))
        return CallTests(fn_name, tuple(cases))
    stdio = [
        StdioCase(
            _text(inp, where, f"input_output.inputs[{i}]"),
            _text(out, where, f"input_output.outputs[{i}]"),
        )
        for i, (inp, out) in enumerate(zip(inputs, outputs, strict=True))
    ]
    return StdioTests(tuple(stdio))


def _text(value: Any, where: str, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)  # APPS sometimes stores stdio data as a list of lines
    raise RecordError(where, field, f"expected str or list of str, got {type(value).__name__}")


def _solutions(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ()
    sols = _json(raw, where, "solutions") if isinstance(raw, str) else raw
    if not isinstance(sols, list):
        raise RecordError(where, "solutions", "expected a JSON list of programs")
    for i, s in enumerate(sols):
        if not isinstance(s, str):
            raise RecordError(where, f"solutions[{i}]", "expected str")
    return tuple(sols)


def _json(text: str, where: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RecordError(where, field, f"invalid JSON: {e.msg} (line {e.lineno})") from None
