"""``jsonl:PATH`` — native Problem records, one JSON object per line (DESIGN.md §2)."""

from __future__ import annotations

from pathlib import Path

from rltf.records import Problem, RecordError
from rltf.tasks.formats._io import LoadReport, collect, iter_jsonl


def load_native(
    path: str | Path, *, skip_invalid: bool = False, skipped: list[RecordError] | None = None
) -> list[Problem]:
    path = Path(path)
    report = LoadReport(f"jsonl:{path}", skip_invalid, skipped)
    rows = ((f"{path}:{lineno}", obj) for lineno, obj in iter_jsonl(path))
    return collect(rows, Problem.from_dict, report)
