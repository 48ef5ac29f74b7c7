"""Problem and its three kinds of tests (stdio, call, assert), with ``tests_from_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from rltf.records._validation import (
    JSON,
    RecordError,
    _optional,
    _reject_unknown,
    _require,
    _str_list,
)


@dataclass(frozen=True)
class StdioCase:
    input: str
    output: str


@dataclass(frozen=True)
class StdioTests:
    """APPS "standard input" problems: feed ``input`` on stdin, compare stdout with ``output``."""

    cases: tuple[StdioCase, ...]
    type: Literal["stdio"] = "stdio"

    def to_dict(self) -> dict[str, JSON]:
        return {
            "type": "stdio",
            "cases": [{"input": c.input, "output": c.output} for c in self.cases],
        }


@dataclass(frozen=True)
class CallCase:
    args: tuple[JSON, ...]
    expected: JSON


@dataclass(frozen=True)
class CallTests:
    """APPS "call-based" problems: call ``fn_name(*args)`` (a function, or a method of
    ``class Solution``) and compare the returned value with ``expected`` in the trusted parent."""

    fn_name: str
    cases: tuple[CallCase, ...]
    type: Literal["call"] = "call"

    def to_dict(self) -> dict[str, JSON]:
        return {
            "type": "call",
            "fn_name": self.fn_name,
            "cases": [{"args": list(c.args), "expected": c.expected} for c in self.cases],
        }


@dataclass(frozen=True)
class AssertTests:
    """MBPP / HumanEval problems: ``setup`` code, then each ``assert`` statement in turn.
    ``entry_point`` names the function that HumanEval's ``check(candidate)`` receives.

    ``setup`` is trusted test code run beside the asserts, outside the sandbox (HumanEval's
    helpers). ``program_setup`` runs *inside* the sandbox, right after the program and in its
    namespace, as MBPP's harness runs ``test_imports`` / ``test_setup_code`` (concatenated after
    the program): it may use the program's classes, and what it builds is the program's."""

    asserts: tuple[str, ...]
    setup: str = ""
    entry_point: str | None = None
    type: Literal["assert"] = "assert"
    program_setup: str = ""

    def to_dict(self) -> dict[str, JSON]:
        d: dict[str, JSON] = {"type": "assert", "asserts": list(self.asserts)}
        if self.setup:
            d["setup"] = self.setup
        if self.program_setup:
            d["program_setup"] = self.program_setup
        if self.entry_point is not None:
            d["entry_point"] = self.entry_point
        return d


Tests: TypeAlias = StdioTests | CallTests | AssertTests
TestKind = Literal["stdio", "call", "assert"]


def tests_from_dict(d: Any, where: str = "") -> Tests:
    """Parse the ``tests`` field of a Problem (DESIGN.md §2)."""
    if not isinstance(d, Mapping):
        raise RecordError(where, "tests", f"expected an object, got {type(d).__name__}")
    kind = _require(d, "type", str, where)
    if kind == "stdio":
        _reject_unknown(d, {"type", "cases"}, where, "tests.")
        cases = _require(d, "cases", list, where)
        out = []
        for i, c in enumerate(cases):
            loc = f"tests.cases[{i}]"
            if not isinstance(c, Mapping):
                raise RecordError(where, loc, "expected an object")
            _reject_unknown(c, {"input", "output"}, where, loc + ".")
            for key in ("input", "output"):
                if not isinstance(c.get(key), str):
                    raise RecordError(where, f"{loc}.{key}", "expected str")
            out.append(StdioCase(c["input"], c["output"]))
        if not out:
            raise RecordError(where, "tests.cases", "no test cases")
        return StdioTests(tuple(out))
    if kind == "call":
        _reject_unknown(d, {"type", "fn_name", "cases"}, where, "tests.")
        fn_name = _require(d, "fn_name", str, where)
        if not fn_name.isidentifier():
            raise RecordError(where, "tests.fn_name", f"{fn_name!r} is not a Python identifier")
        cases = _require(d, "cases", list, where)
        calls = []
        for i, c in enumerate(cases):
            loc = f"tests.cases[{i}]"
            if not isinstance(c, Mapping):
                raise RecordError(where, loc, "expected an object")
            _reject_unknown(c, {"args", "expected"}, where, loc + ".")
            if not isinstance(c.get("args"), list):
                raise RecordError(where, f"{loc}.args", "expected a list of arguments")
            if "expected" not in c:
                raise RecordError(where, f"{loc}.expected", "missing")
            calls.append(CallCase(tuple(c["args"]), c["expected"]))
        if not calls:
            raise RecordError(where, "tests.cases", "no test cases")
        return CallTests(fn_name, tuple(calls))
    if kind == "assert":
        allowed = {"type", "asserts", "setup", "program_setup", "entry_point"}
        _reject_unknown(d, allowed, where, "tests.")
        asserts = _str_list(d, "asserts", where)
        if not asserts:
            raise RecordError(where, "tests.asserts", "no asserts")
        setup = _optional(d, "setup", str, where, "")
        entry = _optional(d, "entry_point", str, where, None)
        program_setup = _optional(d, "program_setup", str, where, "")
        return AssertTests(asserts, setup, entry, program_setup=program_setup)
    raise RecordError(
        where, "tests.type", f"unknown test type {kind!r} (expected stdio, call or assert)"
    )


@dataclass(frozen=True)
class Problem:
    """One programming task with its unit tests (DESIGN.md §2)."""

    id: str
    prompt: str
    tests: Tests
    starter_code: str = ""
    difficulty: str | None = None
    solutions: tuple[str, ...] = ()
    # Free-form provenance (source dataset, family, split); never read by the algorithm.
    meta: Mapping[str, JSON] = field(default_factory=dict)

    @property
    def num_tests(self) -> int:
        t = self.tests
        return len(t.asserts) if isinstance(t, AssertTests) else len(t.cases)

    def to_dict(self) -> dict[str, JSON]:
        d: dict[str, JSON] = {"id": self.id, "prompt": self.prompt, "tests": self.tests.to_dict()}
        if self.starter_code:
            d["starter_code"] = self.starter_code
        if self.difficulty is not None:
            d["difficulty"] = self.difficulty
        if self.solutions:
            d["solutions"] = list(self.solutions)
        if self.meta:
            d["meta"] = dict(self.meta)
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> Problem:
        if not isinstance(d, Mapping):
            raise RecordError(where, "<record>", f"expected a JSON object, got {type(d).__name__}")
        _reject_unknown(
            d, {"id", "prompt", "tests", "starter_code", "difficulty", "solutions", "meta"}, where
        )
        pid = _require(d, "id", str, where)
        if not pid:
            raise RecordError(where, "id", "empty")
        meta = _optional(d, "meta", dict, where, {})
        return cls(
            id=pid,
            prompt=_require(d, "prompt", str, where),
            tests=tests_from_dict(d.get("tests"), where)
            if "tests" in d
            else _missing(where, "tests"),
            starter_code=_optional(d, "starter_code", str, where, ""),
            difficulty=_optional(d, "difficulty", str, where, None),
            solutions=_str_list(d, "solutions", where, required=False),
            meta=meta,
        )


def _missing(where: str, key: str) -> Any:
    raise RecordError(where, key, "missing")
