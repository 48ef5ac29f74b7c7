"""builtin:basic: size, shape, determinism, JSON round trip, style of the reference solutions."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from rltf.records import AssertTests, CallTests, Problem, StdioTests
from rltf.tasks.builtin import BUILTINS, load_builtin
from rltf.tasks.builtin.basic import generate, templates

FAMILIES = {
    "arith",
    "strings",
    "lists",
    "dicts",
    "conditionals",
    "loops",
    "searching",
    "recursion",
    "parsing",
    "simulation",
    "numbers",
    "grids",
}


@pytest.fixture(scope="module")
def train() -> list[Problem]:
    return load_builtin("basic", "train")


@pytest.fixture(scope="module")
def test_split() -> list[Problem]:
    return load_builtin("basic", "test")


def test_registry_and_errors() -> None:
    assert BUILTINS.get("basic")
    with pytest.raises(ValueError, match="unknown built-in benchmark 'nope'"):
        load_builtin("nope", "train")
    with pytest.raises(ValueError, match="splits 'train', 'test' and 'all'"):
        load_builtin("basic", "validation")


def test_size_families_tiers_and_kinds(train: list[Problem], test_split: list[Problem]) -> None:
    assert len(train) >= 600 and len(test_split) >= 150
    assert len(load_builtin("basic", "all")) == len(train) + len(test_split)
    for split, problems in (("train", train), ("test", test_split)):
        families = Counter(p.meta["family"] for p in problems)
        assert set(families) == FAMILIES, split
        assert {p.difficulty for p in problems} == {"easy", "medium", "hard"}, split
        kinds = Counter(p.tests.type for p in problems)
        assert set(kinds) == {"call", "stdio", "assert"}, split
        assert kinds["call"] > kinds["stdio"] + kinds["assert"], "mostly call-based"
        # The easy tier carries the tiny demo model: keep it a large share.
        assert Counter(p.difficulty for p in problems)["easy"] >= 0.3 * len(problems)


def test_ids_meta_and_test_counts(train: list[Problem], test_split: list[Problem]) -> None:
    ids = [p.id for p in train + test_split]
    assert len(set(ids)) == len(ids)
    for split, problems in (("train", train), ("test", test_split)):
        for i, p in enumerate(problems, start=1):
            family = p.meta["family"]
            assert re.fullmatch(rf"basic/{split}/{i:04d}-{family}-[a-z0-9-]+", p.id), p.id
            assert p.meta["source"] == "builtin:basic" and p.meta["split"] == split
            assert p.meta["template"].startswith(f"{family}.")
            assert p.difficulty in ("easy", "medium", "hard")
            assert p.num_tests >= 5, p.id
            assert len(p.solutions) == 1


def test_statement_names_the_function(train: list[Problem], test_split: list[Problem]) -> None:
    for p in train + test_split:
        tree = ast.parse(p.solutions[0])
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        signature = f"`{fn.name}({', '.join(a.arg for a in fn.args.args)})`"
        assert signature in p.prompt, (p.id, signature)
        if isinstance(p.tests, CallTests):
            assert p.tests.fn_name == fn.name
        if isinstance(p.tests, AssertTests):
            assert p.tests.entry_point == fn.name
        if isinstance(p.tests, StdioTests):
            assert "Input:" in p.prompt and "Output:" in p.prompt


def test_reference_solutions_are_canonical(train: list[Problem], test_split: list[Problem]) -> None:
    """One style everywhere (it helps a tiny model): ``def`` first, 4-space indents, no comments,
    no imports, no tabs, no trailing spaces."""
    for p in train + test_split:
        src = p.solutions[0]
        assert src.startswith("def ") and src.endswith("\n"), p.id
        assert "#" not in src.replace('"#"', "") and "import" not in src and "\t" not in src
        for line in src.splitlines():
            assert line == line.rstrip(), p.id
            indent = len(line) - len(line.lstrip(" "))
            assert indent % 4 == 0, (p.id, line)
        ast.parse(src)


def test_json_round_trip(train: list[Problem], test_split: list[Problem]) -> None:
    for p in train + test_split:
        back = Problem.from_dict(json.loads(json.dumps(p.to_dict())), where=p.id)
        assert back == p, p.id


def test_deterministic_in_process_and_across_hash_seeds(train: list[Problem]) -> None:
    generate.cache_clear()
    again = load_builtin("basic", "train")
    assert [p.to_dict() for p in again] == [p.to_dict() for p in train]
    # A fresh interpreter with another str-hash seed builds the same benchmark.
    code = (
        "import hashlib, json; from rltf.tasks.builtin import load_builtin; "
        "ps = load_builtin('basic', 'all'); "
        "print(hashlib.sha256(json.dumps([p.to_dict() for p in ps]).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_other_seeds_give_other_valid_benchmarks() -> None:
    other = generate(7)
    base = generate()
    assert {e.problem.prompt for e in other["test"]} != {e.problem.prompt for e in base["test"]}
    assert len(other["train"]) == len(base["train"])


def test_every_template_is_used_in_both_splits(
    train: list[Problem], test_split: list[Problem]
) -> None:
    ids = {t.id for t in templates()}
    assert {p.meta["template"] for p in train} == ids
    assert {p.meta["template"] for p in test_split} == ids
