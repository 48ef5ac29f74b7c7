"""Shared reading helpers for the dataset loaders: JSON lines (plain or gzip) with line numbers,
and a tally of what a loader read, excluded and skipped, logged once at the end."""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rltf.records import Problem, RecordError

log = logging.getLogger("rltf.tasks")


def open_text(path: Path) -> IO[str]:
    """Open a text file, transparently decompressing ``.gz`` (HumanEval ships jsonl.gz)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


class Excluded(Exception):
    """A well-formed row that is left out on purpose (no tests, another split): counted by
    reason in the load report, never an error and never silent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InvalidRow:
    """A row that could not be read, carried to the loader's per-row ``try`` so that
    ``skip_invalid`` can count it like any other invalid row."""

    error: RecordError


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed_object)`` for every non-blank line (1-based line numbers).

    A line that is not valid JSON yields an :class:`InvalidRow` naming ``path:line``;
    :func:`check_json` raises it inside the loader's per-row error handling."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open_text(path) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                message = f"invalid JSON: {e.msg} (column {e.colno})"
                yield lineno, InvalidRow(RecordError(f"{path}:{lineno}", "<json>", message))


def check_json(obj: Any) -> Any:
    """Raise the deferred error of a row that could not be read; pass anything else through."""
    if isinstance(obj, InvalidRow):
        raise obj.error
    return obj


@dataclass
class LoadReport:
    """What a loader did: rows read, problems kept, problems excluded (by reason), invalid rows
    skipped (only under ``skip_invalid``). Logged once by :meth:`log`."""

    source: str
    skip_invalid: bool = False
    # Where skipped rows are collected; a caller passes its own list to see them (datasets validate).
    skipped: list[RecordError] | None = None
    read: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    n_skipped: int = 0

    def exclude(self, reason: str) -> None:
        self.excluded[reason] += 1

    def invalid(self, error: RecordError) -> None:
        """Record an invalid row: re-raise unless the caller asked to skip invalid rows."""
        if not self.skip_invalid:
            raise error
        self.n_skipped += 1
        if self.skipped is not None:
            self.skipped.append(error)
        log.warning("skipping invalid row: %s", error)

    def log(self, problems: list[Problem]) -> None:
        parts = [f"read {self.read} rows"]
        parts += [f"excluded {n}: {why}" for why, n in sorted(self.excluded.items())]
        if self.n_skipped:
            parts.append(f"skipped {self.n_skipped} invalid rows")
        log.info("%s: %d problems (%s)", self.source, len(problems), "; ".join(parts))


def collect(
    rows: Iterable[tuple[str, Any]],
    convert: Callable[[Any, str], Problem],
    report: LoadReport,
) -> list[Problem]:
    """The loop every loader shares: convert each ``(where, row)``, reject duplicate ids, count
    exclusions, and raise (or, under ``skip_invalid``, record) invalid rows. Logs the tally."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        report.read += 1
        try:
            problem = convert(check_json(row), where)
            if problem.id in seen:
                raise RecordError(
                    where, "id", f"duplicate id {problem.id!r} (first at {seen[problem.id]})"
                )
        except Excluded as e:
            report.exclude(e.reason)
            continue
        except RecordError as e:
            report.invalid(e)
            continue
        seen[problem.id] = where
        problems.append(problem)
    report.log(problems)
    return problems
