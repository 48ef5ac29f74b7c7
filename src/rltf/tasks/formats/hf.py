"""``hf:NAME[:SPLIT]`` (or ``hf:NAME:CONFIG:SPLIT``) — a dataset through ``datasets.load_dataset``.

NAME is a hub id (``openai_humaneval``, ``google-research-datasets/mbpp`` with CONFIG ``full`` or
``sanitized``, an APPS parquet export, ...) where the hub is reachable, a local dataset directory,
or a local data file (``.json``/``.jsonl``/``.parquet``/``.csv``, read with the matching packaged
builder). Without SPLIT every split is read.

The schema is detected from the column names and rows go through the same converters as the
file loaders, so ``hf:`` and ``apps:``/``mbpp:``/``humaneval:``/``jsonl:`` give identical Problems:

    APPS       question, input_output (solutions, starter_code, difficulty, problem_id optional)
    HumanEval  task_id, prompt, canonical_solution, test, entry_point
    MBPP       task_id, test_list, code, text (full) or prompt (sanitized)
    native     id, prompt, tests (an object, or a JSON string)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rltf.records import Problem, RecordError
from rltf.tasks.formats._io import LoadReport, collect
from rltf.tasks.formats.apps import apps_problem
from rltf.tasks.formats.humaneval import humaneval_problem
from rltf.tasks.formats.mbpp import mbpp_problem

_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}

Converter = Callable[[Mapping[str, Any], str, str, int], Problem]


def load_hf(
    name: str,
    *,
    config: str | None = None,
    split: str | None = None,
    skip_invalid: bool = False,
    skipped: list[RecordError] | None = None,
) -> list[Problem]:
    try:
        import datasets
    except ImportError as e:
        raise ValueError(
            "hf: the 'datasets' package is not installed (pip install rltf[hf])"
        ) from e
    source = f"hf:{name}" + (f":{config}" if config else "") + (f":{split}" if split else "")
    path = Path(name)
    try:
        if path.is_file() and path.suffix in _BUILDERS:
            data = datasets.load_dataset(_BUILDERS[path.suffix], data_files=str(path), split=split)
        else:
            data = datasets.load_dataset(name, config, split=split)
    except FileNotFoundError as e:  # also datasets' DatasetNotFoundError / DataFilesNotFoundError
        raise FileNotFoundError(f"{source}: could not load the dataset: {e}") from e
    except ConnectionError as e:
        raise FileNotFoundError(f"{source}: the hub is unreachable: {e}") from e
    except datasets.exceptions.DatasetGenerationError as e:
        # e.g. rows whose columns do not unify into one Arrow schema
        cause = e.__cause__ or e
        raise RecordError(source, "<rows>", f"datasets could not read the rows: {cause}") from e
    if isinstance(data, Mapping):  # a DatasetDict: every split, in its order
        parts = [(str(s), data[s]) for s in data]
    else:
        parts = [(split or "train", data)]
    report = LoadReport(source, skip_invalid, skipped)
    rows = (
        (f"{source}[{split_name}][{i}]", _Row(convert, split_name, i, row))
        for split_name, ds in parts
        for convert in [detect_schema(ds.column_names, f"{source}[{split_name}]")]
        for i, row in enumerate(ds)
    )
    return collect(rows, _Row.convert_at, report)


@dataclass(frozen=True)
class _Row:
    """One dataset row with the converter its split's schema calls for."""

    convert: Converter
    split: str
    index: int
    data: Mapping[str, Any]

    def convert_at(self, where: str) -> Problem:
        return self.convert(self.data, where, self.split, self.index)


def detect_schema(columns: Iterable[str], where: str) -> Converter:
    """Pick the converter for a dataset from its column names."""
    cols = set(columns)
    if {"question", "input_output"} <= cols:
        return _apps
    if {"task_id", "prompt", "test", "entry_point"} <= cols:
        return _humaneval
    if {"task_id", "test_list"} <= cols and cols & {"text", "prompt"}:
        return _mbpp
    if {"id", "prompt", "tests"} <= cols:
        return _native
    raise RecordError(
        where,
        "<columns>",
        f"unrecognised schema {sorted(cols)}; expected APPS (question, input_output), HumanEval "
        "(task_id, prompt, test, entry_point), MBPP (task_id, test_list, text|prompt) or native "
        "(id, prompt, tests)",
    )


def _apps(row: Mapping[str, Any], where: str, split: str, index: int) -> Problem:
    if row.get("problem_id") is None:
        row = {**row, "problem_id": index}
    return apps_problem(row, where, split)


def _humaneval(row: Mapping[str, Any], where: str, split: str, index: int) -> Problem:
    return humaneval_problem(row, where)


def _mbpp(row: Mapping[str, Any], where: str, split: str, index: int) -> Problem:
    # Arrow gives every column to every row; the sanitized variant has no `text`.
    clean = {k: v for k, v in row.items() if v is not None}
    if "text" in clean and "prompt" in clean:
        clean.pop("prompt")
    return mbpp_problem(clean, where)


def _native(row: Mapping[str, Any], where: str, split: str, index: int) -> Problem:
    # Arrow unifies nested structs across rows, filling absent keys with None: drop those again
    # (only at the record, tests and case level; values inside args/expected are left alone).
    # A `tests` column stored as a JSON string (the safe way for mixed test kinds) is parsed.
    record = {k: v for k, v in row.items() if v is not None}
    tests = record.get("tests")
    if isinstance(tests, str):
        try:
            tests = json.loads(tests)
        except json.JSONDecodeError as e:
            raise RecordError(where, "tests", f"invalid JSON: {e.msg}") from None
    elif isinstance(tests, Mapping):
        tests = {k: v for k, v in tests.items() if v is not None}
        if isinstance(tests.get("cases"), list):
            keep = {"call": ("args", "expected"), "stdio": ("input", "output")}.get(
                str(tests.get("type")), ()
            )
            tests["cases"] = [
                {k: c.get(k) for k in keep if k in c} if isinstance(c, Mapping) else c
                for c in tests["cases"]
            ]
    if tests is not None:
        record["tests"] = tests
    return Problem.from_dict(record, where)
