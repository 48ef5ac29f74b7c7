"""The records passed between pipeline stages (DESIGN.md §2).

    Problem ──► Sample ──► Verdict ──► TokenRewards (rltf.feedback)

Every record is a frozen dataclass with ``to_dict`` / ``from_dict`` for a JSON round trip.
``from_dict`` validates and raises :class:`RecordError` naming the place (file and line, when the
caller passes ``where``) and the field, so a malformed dataset row is never silently accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

JSON: TypeAlias = Any  # a value that json.loads can produce


class RecordError(ValueError):
    """A record failed validation. The message names where (file:line) and which field."""

    def __init__(self, where: str, field_name: str, problem: str) -> None:
        self.where, self.field_name, self.problem = where, field_name, problem
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}field '{field_name}': {problem}")


# --------------------------------------------------------------------------------------------
# validation helpers


def _require(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise RecordError(where, key, "missing")
    value = d[key]
    # bool is a subclass of int, but a JSON `true` is never a valid count or id.
    bad_bool = isinstance(value, bool) and bool not in _as_tuple(kind)
    if not isinstance(value, kind) or bad_bool:
        raise RecordError(where, key, f"expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _optional(
    d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any
) -> Any:
    if d.get(key) is None:
        return default
    return _require(d, key, kind, where)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))


def _str_list(d: Mapping[str, Any], key: str, where: str, required: bool = True) -> tuple[str, ...]:
    if not required and d.get(key) is None:
        return ()
    items = _require(d, key, list, where)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise RecordError(where, f"{key}[{i}]", f"expected str, got {type(item).__name__}")
    return tuple(items)


def _reject_unknown(d: Mapping[str, Any], allowed: set[str], where: str, prefix: str = "") -> None:
    for key in d:
        if key not in allowed:
            raise RecordError(
                where, prefix + key, f"unknown field (allowed: {', '.join(sorted(allowed))})"
            )


# --------------------------------------------------------------------------------------------
# Problem and its three kinds of tests


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
    ``entry_point`` names the function that HumanEval's ``check(candidate)`` receives."""

    asserts: tuple[str, ...]
    setup: str = ""
    entry_point: str | None = None
    type: Literal["assert"] = "assert"

    def to_dict(self) -> dict[str, JSON]:
        d: dict[str, JSON] = {"type": "assert", "asserts": list(self.asserts)}
        if self.setup:
            d["setup"] = self.setup
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
        _reject_unknown(d, {"type", "asserts", "setup", "entry_point"}, where, "tests.")
        asserts = _str_list(d, "asserts", where)
        if not asserts:
            raise RecordError(where, "tests.asserts", "no asserts")
        setup = _optional(d, "setup", str, where, "")
        entry = _optional(d, "entry_point", str, where, None)
        return AssertTests(asserts, setup, entry)
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


# --------------------------------------------------------------------------------------------
# Sample: what the policy generated


@dataclass(frozen=True)
class Sample:
    """One generated program, exactly as sampled (DESIGN.md §2).

    ``token_ids`` are the ids the policy sampled (never a re-tokenisation of ``text``);
    ``offsets[i]`` is the ``[start, end)`` character span of token ``i`` in ``text`` (a token that
    decodes to part of a multi-byte character shares the span of that character);
    ``logprobs[i]`` is log p(token_i) under policy version ``policy_version``.

    The executed program is ``program_prefix + text[code_start:code_end]``: HumanEval completions
    are appended to the prompt (prefix), chat answers have their fenced code block extracted (span).
    """

    problem_id: str
    prompt_ids: tuple[int, ...]
    token_ids: tuple[int, ...]
    text: str
    offsets: tuple[tuple[int, int], ...]
    logprobs: tuple[float, ...]
    truncated: bool
    policy_version: int
    sample_index: int = 0
    greedy: bool = False
    program_prefix: str = ""
    code_start: int = 0
    code_end: int | None = None

    def __post_init__(self) -> None:
        n = len(self.token_ids)
        if len(self.offsets) != n or len(self.logprobs) != n:
            raise RecordError(
                self.problem_id,
                "token_ids",
                f"{n} tokens but {len(self.offsets)} offsets and {len(self.logprobs)} log-probs",
            )
        end = len(self.text) if self.code_end is None else self.code_end
        if not 0 <= self.code_start <= end <= len(self.text):
            raise RecordError(
                self.problem_id,
                "code_start",
                f"code span [{self.code_start}, {end}) outside the text",
            )

    @property
    def program(self) -> str:
        """The program text that is executed."""
        return self.program_prefix + self.text[self.code_start : self.code_end]

    def text_position(self, program_position: int) -> int | None:
        """Map a character index of :attr:`program` to an index of :attr:`text` (None if it falls
        in the prefix, which the policy did not generate)."""
        pos = program_position - len(self.program_prefix)
        return None if pos < 0 else pos + self.code_start

    def to_dict(self) -> dict[str, JSON]:
        return {
            "problem_id": self.problem_id,
            "prompt_ids": list(self.prompt_ids),
            "token_ids": list(self.token_ids),
            "text": self.text,
            "offsets": [list(o) for o in self.offsets],
            "logprobs": list(self.logprobs),
            "truncated": self.truncated,
            "policy_version": self.policy_version,
            "sample_index": self.sample_index,
            "greedy": self.greedy,
            "program_prefix": self.program_prefix,
            "code_start": self.code_start,
            "code_end": self.code_end,
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> Sample:
        if not isinstance(d, Mapping):
            raise RecordError(where, "<record>", "expected a JSON object")
        offsets = _require(d, "offsets", list, where)
        try:
            spans = tuple((int(a), int(b)) for a, b in offsets)
        except (TypeError, ValueError) as e:
            raise RecordError(where, "offsets", f"expected [start, end] pairs ({e})") from None
        return cls(
            problem_id=_require(d, "problem_id", str, where),
            prompt_ids=tuple(_require(d, "prompt_ids", list, where)),
            token_ids=tuple(_require(d, "token_ids", list, where)),
            text=_require(d, "text", str, where),
            offsets=spans,
            logprobs=tuple(float(x) for x in _require(d, "logprobs", list, where)),
            truncated=_require(d, "truncated", bool, where),
            policy_version=_require(d, "policy_version", int, where),
            sample_index=_optional(d, "sample_index", int, where, 0),
            greedy=_optional(d, "greedy", bool, where, False),
            program_prefix=_optional(d, "program_prefix", str, where, ""),
            code_start=_optional(d, "code_start", int, where, 0),
            code_end=_optional(d, "code_end", int, where, None),
        )


# --------------------------------------------------------------------------------------------
# Verdict: what execution returns for one program on one problem

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


__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "TEST_OUTCOMES",
    "AssertTests",
    "CallCase",
    "CallTests",
    "Category",
    "ErrorInfo",
    "Outcome",
    "Problem",
    "RecordError",
    "Sample",
    "StdioCase",
    "StdioTests",
    "TestOutcome",
    "TestResult",
    "Tests",
    "Verdict",
    "is_plain_data",
    "tests_from_dict",
]
