"""``jsonl:PATH`` — native Problem records, one JSON object per line (DESIGN.md §2)."""

from __future__ import annotations

from pathlib import Path

from rltf.records import Problem, RecordError
from rltf.tasks.formats._io import LoadReport, check_json, iter_jsonl


def load_native(
    path: str | Path, *, skip_invalid: bool = False, skipped: list[RecordError] | None = None
) -> list[Problem]:
    path = Path(path)
    report = LoadReport(f"jsonl:{path}", skip_invalid, skipped)
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for lineno, obj in iter_jsonl(path):
        report.read += 1
        where = f"{path}:{lineno}"
        try:
            problem = Problem.from_dict(check_json(obj), where)
            if problem.id in seen:
                raise RecordError(
                    where, "id", f"duplicate id {problem.id!r} (first at {seen[problem.id]})"
                )
        except RecordError as e:
            report.invalid(e)
            continue
        seen[problem.id] = where
        problems.append(problem)
    report.log(problems)
    return problems
