"""Built-in benchmarks, generated offline from a seed (no third-party problems).

``builtin:basic`` is a procedurally generated set of small Python programming problems in 12
families and three difficulty tiers, posed with all three test kinds (``call``, ``stdio``,
``assert``). See docs/builtin-basic.md for its families, its train/test split and why held-out
problems are not copies of training problems.
"""

from __future__ import annotations

from rltf.records import Problem

BUILTINS: dict[str, str] = {
    "basic": (
        "Procedurally generated Python problems (12 families, easy/medium/hard, call/stdio/assert "
        "tests) with reference solutions; splits: train, test, all"
    ),
}


def load_builtin(name: str, split: str = "train") -> list[Problem]:
    """The problems of built-in benchmark ``name`` ("basic") in ``split`` ("train", "test" or
    "all"). Deterministic: every call returns equal problems, in the same order."""
    if name not in BUILTINS:
        raise ValueError(f"unknown built-in benchmark {name!r} (available: {', '.join(BUILTINS)})")
    from rltf.tasks.builtin.basic import load_basic  # generation modules load only when used

    return load_basic(split)


__all__ = ["BUILTINS", "load_builtin"]
