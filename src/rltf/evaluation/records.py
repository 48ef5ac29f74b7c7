"""The two JSONL files of an evaluation, and their rows.

* programs file (shared with ``rltf execute``; written by ``rltf generate``):
  ``{"problem_id": str, "index": int, "program": str}`` plus optional ``"text"`` (the raw
  generation, when it differs from the program), ``"policy_version"`` and ``"truncated"``.
* results file (``results.jsonl`` in an evaluation's output directory): a program row plus its
  ``"verdict"`` (:meth:`rltf.records.Verdict.to_dict`).

Both are keyed by ``(problem_id, index)``; a key appears at most once. Both are appended to while
a run progresses, so a run killed mid-write may leave a last line without its newline: readers drop
that one line with a warning (it is simply redone) and reject any other malformed line with an
error naming ``file:line`` and the field.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rltf.records import JSON, RecordError, Verdict

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (problem_id, sample index)


@dataclass(frozen=True)
class ProgramRow:
    """One program to evaluate: sample ``index`` of problem ``problem_id``."""

    problem_id: str
    index: int
    program: str
    text: str | None = None
    policy_version: int | None = None
    truncated: bool = False  # generation hit the length limit (refines error categories)

    @property
    def key(self) -> Key:
        return (self.problem_id, self.index)

    def to_dict(self) -> dict[str, JSON]:
        d: dict[str, JSON] = {
            "problem_id": self.problem_id,
            "index": self.index,
            "program": self.program,
        }
        if self.text is not None:
            d["text"] = self.text
        if self.policy_version is not None:
            d["policy_version"] = self.policy_version
        if self.truncated:
            d["truncated"] = True
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> ProgramRow:
        if not isinstance(d, Mapping):
            raise RecordError(where, "<record>", f"expected a JSON object, got {type(d).__name__}")
        pid = _field(d, "problem_id", str, where)
        if not pid:
            raise RecordError(where, "problem_id", "empty")
        index = _field(d, "index", int, where)
        if index < 0:
            raise RecordError(where, "index", f"must be >= 0, got {index}")
        return cls(
            problem_id=pid,
            index=index,
            program=_field(d, "program", str, where),
            text=_field(d, "text", str, where, optional=True),
            policy_version=_field(d, "policy_version", int, where, optional=True),
            truncated=bool(_field(d, "truncated", bool, where, optional=True) or False),
        )


@dataclass(frozen=True)
class ResultRow:
    """An executed program: the program row and its verdict."""

    sample: ProgramRow
    verdict: Verdict

    @property
    def key(self) -> Key:
        return self.sample.key

    def to_dict(self) -> dict[str, JSON]:
        return {**self.sample.to_dict(), "verdict": self.verdict.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> ResultRow:
        sample = ProgramRow.from_dict(
            {k: v for k, v in d.items() if k != "verdict"} if isinstance(d, Mapping) else d, where
        )
        if "verdict" not in d:
            raise RecordError(where, "verdict", "missing")
        return cls(sample, Verdict.from_dict(d["verdict"], where))


def _field(d: Mapping[str, Any], key: str, kind: type, where: str, optional: bool = False) -> Any:
    value = d.get(key)
    if value is None:
        if optional:
            return None
        raise RecordError(where, key, "missing")
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RecordError(where, key, f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def iter_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """Yield ``("file:line", object)`` for each non-blank line. A last line without a newline that
    does not parse (an interrupted append) is dropped with a warning; any other bad line raises."""
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines) and not line.endswith("\n"):
                log.warning("%s: dropping an incomplete last line (interrupted write)", where)
                continue
            raise RecordError(where, "<line>", f"invalid JSON: {e.msg}") from None
        yield where, obj


def read_programs(path: str | Path, known_ids: Iterable[str] | None = None) -> list[ProgramRow]:
    """Read a programs file. ``known_ids``: the dataset's problem ids; a row naming another id is
    an error (file:line). Duplicate ``(problem_id, index)`` keys are an error too."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"programs file not found: {path}")
    known = set(known_ids) if known_ids is not None else None
    rows: list[ProgramRow] = []
    seen: dict[Key, str] = {}
    for where, obj in iter_jsonl(path):
        row = ProgramRow.from_dict(obj, where)
        if known is not None and row.problem_id not in known:
            raise RecordError(where, "problem_id", f"unknown problem id {row.problem_id!r}")
        if row.key in seen:
            raise RecordError(
                where, "index", f"duplicate sample {row.key} (first at {seen[row.key]})"
            )
        seen[row.key] = where
        rows.append(row)
    return rows


def read_results(path: str | Path, known_ids: Iterable[str] | None = None) -> dict[Key, ResultRow]:
    """Read a results file (missing file = no results). Later duplicates of a key are an error."""
    path = Path(path)
    if not path.exists():
        return {}
    known = set(known_ids) if known_ids is not None else None
    out: dict[Key, ResultRow] = {}
    for where, obj in iter_jsonl(path):
        row = ResultRow.from_dict(obj, where)
        if known is not None and row.sample.problem_id not in known:
            raise RecordError(
                where,
                "problem_id",
                f"unknown problem id {row.sample.problem_id!r} (results from another dataset?)",
            )
        if row.key in out:
            raise RecordError(where, "index", f"duplicate result for {row.key}")
        out[row.key] = row
    return out


class JsonlAppender:
    """Append rows to a JSONL file, one flushed line each, so an interrupted run keeps what it
    finished. A last line without its newline (a previous interrupted write, which readers drop)
    is cut off first, so new rows never glue onto it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            data = self.path.read_bytes()
            if not data.endswith(b"\n"):
                keep = data.rfind(b"\n") + 1
                with open(self.path, "r+b") as f:
                    if _parses(data[keep:]):
                        f.seek(0, 2)
                        f.write(b"\n")
                    else:
                        log.warning("%s: cutting an incomplete last line", self.path)
                        f.truncate(keep)
        self._f: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (see close)

    def write(self, row: Mapping[str, JSON]) -> None:
        self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def write_programs(path: str | Path, rows: Iterable[ProgramRow]) -> None:
    """Write (overwrite) a programs file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
