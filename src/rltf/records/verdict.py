"""Verdict: what execution returns for one program on one problem, with the outcome, test outcome
and error category vocabularies, :class:`TestResult`, :class:`ErrorInfo` and ``is_plain_data``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from rltf.records._validation import JSON, RecordError, _optional, _require, _str_list

Outcome = Literal["passed", "failed", "runtime_error", "compile_error", "timeout", "sandbox_error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
TestOutcome = Literal[
    "passed", "failed", "runtime_error", "compile_error", "timeout", "not_run", "sandbox_error"
]
TEST_OUTCOMES: tuple[str, ...] = get_args(TestOutcome)
Category = Literal["global", "line", "ignore"]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    outcome: TestOutcome
    seconds: float = 0.0
    reason: str = ""  # short, for failures only

    def to_dict(self) -> dict[str, JSON]:
        d: dict[str, JSON] = {"outcome": self.outcome, "seconds": round(self.seconds, 6)}
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class ErrorInfo:
    """An error raised by the program. ``line`` is 1-based in the program's own coordinates."""

    type: str
    message: str
    line: int | None
    category: Category

    def to_dict(self) -> dict[str, JSON]:
        return {
            "type": self.type,
            "message": self.message,
            "line": self.line,
            "category": self.category,
        }


@dataclass(frozen=True)
class Verdict:
    """The result of running one program against one problem's tests (DESIGN.md §2)."""

    outcome: Outcome
    tests: tuple[TestResult, ...] = ()
    passed: int = 0
    total: int = 0
    error: ErrorInfo | None = None
    isolation: tuple[str, ...] = ()  # protections in force, e.g. ("rlimits", "setuid", "netns")
    notes: tuple[str, ...] = ()  # e.g. an assert that could not be decomposed (residual risk)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise RecordError("", "outcome", f"unknown outcome {self.outcome!r}")
        if not 0 <= self.passed <= self.total:
            raise RecordError("", "passed", f"{self.passed} passed of {self.total} tests")

    @property
    def pass_ratio(self) -> float:
        """ρ = passed / total; tests that did not run count as not passed."""
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, JSON]:
        return {
            "outcome": self.outcome,
            "passed": self.passed,
            "total": self.total,
            "pass_ratio": self.pass_ratio,
            "tests": [t.to_dict() for t in self.tests],
            "error": None if self.error is None else self.error.to_dict(),
            "isolation": list(self.isolation),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> Verdict:
        if not isinstance(d, Mapping):
            raise RecordError(where, "<record>", "expected a JSON object")
        outcome = _require(d, "outcome", str, where)
        if outcome not in OUTCOMES:
            raise RecordError(where, "outcome", f"unknown outcome {outcome!r}")
        tests = []
        for i, t in enumerate(_optional(d, "tests", list, where, [])):
            if not isinstance(t, Mapping) or t.get("outcome") not in TEST_OUTCOMES:
                raise RecordError(
                    where, f"tests[{i}].outcome", "expected one of " + ", ".join(TEST_OUTCOMES)
                )
            tests.append(
                TestResult(t["outcome"], float(t.get("seconds", 0.0)), str(t.get("reason", "")))
            )
        error = None
        e = d.get("error")
        if e is not None:
            if not isinstance(e, Mapping) or e.get("category") not in CATEGORIES:
                raise RecordError(
                    where, "error.category", "expected one of " + ", ".join(CATEGORIES)
                )
            line = e.get("line")
            if line is not None and not isinstance(line, int):
                raise RecordError(where, "error.line", "expected int or null")
            error = ErrorInfo(
                str(e.get("type", "")), str(e.get("message", "")), line, e["category"]
            )
        return cls(
            outcome=outcome,
            tests=tuple(tests),
            passed=_optional(d, "passed", int, where, 0),
            total=_optional(d, "total", int, where, 0),
            error=error,
            isolation=_str_list(d, "isolation", where, required=False),
            notes=_str_list(d, "notes", where, required=False),
        )


def is_plain_data(value: Any, depth: int = 0) -> bool:
    """True for the values a call-based test may return and the parent may compare: None, bool,
    int, float, str and (nested) list, tuple, dict, set, frozenset of those. Exact types only, so a
    subclass with a rigged ``__eq__`` is never plain data."""
    if depth > 100:
        return False
    t = type(value)
    if value is None or t in (bool, int, float, str):
        return True
    if t in (list, tuple, set, frozenset):
        return all(is_plain_data(v, depth + 1) for v in value)
    if t is dict:
        return all(
            is_plain_data(k, depth + 1) and is_plain_data(v, depth + 1) for k, v in value.items()
        )
    return False
