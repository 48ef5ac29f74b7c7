"""The error category table (DESIGN.md §3): every rule, real interpreter messages, Verdict refinement."""

from __future__ import annotations

import sys

import pytest

from rltf.feedback import (
    CATEGORY_TABLE,
    MEMORY_LIMIT,
    SIGNAL,
    TIMEOUT,
    WRONG_ANSWER,
    categorize,
    categorize_verdict,
    count_lines,
    find_rule,
)
from rltf.records import ErrorInfo, Sample, Verdict


def compile_error(program: str) -> SyntaxError:
    try:
        compile(program, "program.py", "exec")
    except SyntaxError as e:
        return e
    raise AssertionError(f"{program!r} compiled")


# Programs compiled by the interpreter that runs the tests: a CI matrix over Python 3.10–3.13
# re-checks every message prefix in the table. (program, category, truncated)
SYNTAX_CASES = [
    pytest.param("x = foo(1,\n  2,\n", "global", False, id="paren-never-closed"),
    pytest.param("a = [1, 2\n", "global", False, id="bracket-never-closed"),
    pytest.param("d = {1: 2\n", "global", False, id="brace-never-closed"),
    pytest.param(
        "class A:\n    def f(self):\n        return 1\n    def g(self",
        "global",
        False,
        id="cut-def",
    ),
    pytest.param("x = 1 + \\\n", "global", False, id="unexpected-eof"),
    pytest.param('x = 1\ns = """abc\ndef\n', "ignore", False, id="triple-quote"),
    pytest.param('x = 1\ns = f"""abc\n{x}\n', "ignore", False, id="triple-quote-fstring"),
    pytest.param('x = 1\ns = """abc\n', "global", True, id="triple-quote-truncated"),
    pytest.param("x = 1\ny = = 2\nz = 3\n", "line", False, id="invalid-syntax"),
    pytest.param("x = 1\nprint('abc\nz = 2\n", "line", False, id="unterminated-string"),
    pytest.param("if x\n    pass\n", "line", False, id="missing-colon"),
    pytest.param("def f(a, a):\n    pass\n", "line", False, id="duplicate-argument"),
    pytest.param("x = 1\nreturn x\n", "line", False, id="return-outside"),
    pytest.param("x = 1\ny = = 2\nz = 3\n", "global", True, id="invalid-syntax-truncated"),
    pytest.param("if x:\n    a = 1\n  b = 2\n", "ignore", False, id="unindent"),
    pytest.param("x = 1\n    y = 2\n", "ignore", False, id="unexpected-indent"),
    pytest.param("def f(x):\n", "ignore", False, id="expected-indented-block"),
    pytest.param("def f(x):\n", "global", True, id="expected-indented-block-truncated"),
    pytest.param("if x:\n        a = 1\n\tb = 2\n", "ignore", False, id="tab-error"),
]


@pytest.mark.parametrize(("program", "category", "truncated"), SYNTAX_CASES)
def test_real_syntax_errors(program: str, category: str, truncated: bool) -> None:
    e = compile_error(program)
    got = categorize(
        type(e).__name__,
        e.msg,
        e.lineno,
        program_lines=count_lines(program),
        truncated=truncated,
    )
    assert got == category, (sys.version, type(e).__name__, e.msg, e.lineno)


def test_the_execution_engine_signature_still_works() -> None:
    # rltf.execution calls categorize(type, message, line, program_lines=...) with truncated False.
    program = "x = 1\ny = [1][5]\n"
    assert categorize("IndexError", "list index out of range", 2, program_lines=2) == "line"
    assert categorize("SyntaxError", "'(' was never closed", 1, program_lines=1) == "global"
    assert categorize("SyntaxError", "invalid syntax", 2, program_lines=count_lines(program)) == (
        "line"
    )


@pytest.mark.parametrize(
    ("error_type", "message", "line", "category"),
    [
        (TIMEOUT, "", None, "global"),
        ("RecursionError", "maximum recursion depth exceeded", 3, "global"),
        ("MemoryError", "", 2, "global"),
        (MEMORY_LIMIT, "", None, "global"),
        (SIGNAL, "killed by SIGSEGV", None, "ignore"),
        ("SystemExit", "the process exited with status 1 during the test", None, "ignore"),
        ("SystemExit", "3", 4, "line"),  # sys.exit(3) raised at line 4: located
        (WRONG_ANSWER, "", None, "ignore"),
        ("IndexError", "list index out of range", 4, "line"),
        ("ZeroDivisionError", "division by zero", 1, "line"),
        ("AssertionError", "", 7, "line"),
        ("NameError", "name 'solve' is not defined", None, "global"),
        ("SyntaxError", "invalid syntax", 9, "global"),  # past the program's 5 lines
        ("SyntaxError", "invalid syntax", 5, "line"),  # on its last line: that line's fault
    ],
)
def test_runtime_and_pseudo_errors(
    error_type: str, message: str, line: int | None, category: str
) -> None:
    assert categorize(error_type, message, line, program_lines=5) == category


def test_every_rule_decides_some_error() -> None:
    """The table has no dead rows: each row is the first match for at least one example."""
    examples = [
        ("SyntaxError", "invalid syntax", 1, True),
        (TIMEOUT, "", None, False),
        ("RecursionError", "", 1, False),
        ("MemoryError", "", 1, False),
        ("SyntaxError", "unexpected EOF while parsing", 1, False),
        ("SyntaxError", "invalid syntax", 99, False),
        ("TabError", "", 1, False),
        ("SyntaxError", "unterminated triple-quoted string literal (detected at line 3)", 2, False),
        (SIGNAL, "", None, False),
        ("SystemExit", "the process exited with status 3", None, False),
        (WRONG_ANSWER, "", None, False),
        ("KeyError", "'a'", 1, False),
        ("KeyError", "'a'", None, False),
    ]
    hit = {id(find_rule(t, m, line, program_lines=5, truncated=tr)) for t, m, line, tr in examples}
    assert hit == {id(rule) for rule in CATEGORY_TABLE}
    for rule in CATEGORY_TABLE:
        assert rule.source and rule.official


def verdict(
    outcome: str, error: ErrorInfo | None = None, passed: int = 0, total: int = 4
) -> Verdict:
    return Verdict(outcome, passed=passed, total=total, error=error)  # type: ignore[arg-type]


def sample(text: str, truncated: bool = False) -> Sample:
    n = len(text)
    return Sample(
        "p",
        (),
        tuple(range(n)),
        text,
        tuple((i, i + 1) for i in range(n)),
        (0.0,) * n,
        truncated,
        0,
    )


def test_categorize_verdict_by_outcome() -> None:
    s = sample("x = 1\n")
    # A timeout is global whatever the engine put in ErrorInfo (the official code: ignore).
    assert categorize_verdict(verdict("timeout"), s) == "global"
    assert categorize_verdict(verdict("timeout", ErrorInfo("Timeout", "", None, "ignore")), s) == (
        "global"
    )
    assert categorize_verdict(verdict("passed", passed=4), s) == "ignore"
    assert categorize_verdict(verdict("failed", passed=2), s) == "ignore"
    assert categorize_verdict(verdict("sandbox_error"), s) == "ignore"
    # A crash without a traceback cannot be located; a compile error without a line is global.
    assert categorize_verdict(verdict("runtime_error"), s) == "ignore"
    assert categorize_verdict(verdict("compile_error"), s) == "global"
    assert categorize_verdict(verdict("runtime_error"), None) == "ignore"


def test_categorize_verdict_refines_with_truncation() -> None:
    err = ErrorInfo("SyntaxError", "invalid syntax", 1, "line")  # as the engine computed it
    assert categorize_verdict(verdict("compile_error", err), sample("x = = 1\n")) == "line"
    assert categorize_verdict(verdict("compile_error", err), sample("x = = 1\n", True)) == "global"
    # A runtime error of a truncated program is still located at its line.
    rt = ErrorInfo("IndexError", "list index out of range", 1, "line")
    assert categorize_verdict(verdict("runtime_error", rt), sample("x = [][1]\n", True)) == "line"


def test_categorize_verdict_uses_the_program_length() -> None:
    err = ErrorInfo("SyntaxError", "invalid syntax", 3, "line")
    assert categorize_verdict(verdict("compile_error", err), sample("a = 1\nb = 2\n")) == "global"
    assert categorize_verdict(verdict("compile_error", err), sample("a\nb\nc = =\n")) == "line"


@pytest.mark.parametrize(
    ("program", "n"),
    [
        ("", 0),
        ("\n\n  \n", 0),
        ("a\nb\n", 2),
        ("a\nb\n\n\n   \n", 2),
        ("a\r\nb\r\nc", 3),
        ("a\rb\r", 2),  # a lone \r ends a line for Python's tokenizer
        ("a = 1  # \u2028 not a line break for Python\nb\n", 2),
        ("a\x0cb\nc\n", 2),  # form feed neither
    ],
)
def test_count_lines_numbers_lines_like_python(program: str, n: int) -> None:
    assert count_lines(program) == n
