"""The error category table (DESIGN.md §3) — one table of data, with its sources.

RLTF's fine-grained feedback (Liu et al. 2023) splits errors into three classes:

* ``global`` — the whole program is to blame: penalise every generated token of the program.
* ``line``   — one line is to blame: penalise the tokens of that line.
* ``ignore`` — no fine-grained penalty (the coarse and adaptive rewards still apply).

Errors are located structurally (``SyntaxError.lineno``, the innermost traceback frame whose file
is the program — the execution engine does that); messages are never searched for the line's text
(the official code does, and so mislocates duplicated lines). Python has no exception subclass for
the two syntax-error kinds the paper singles out (unterminated triple-quoted string; unexpected end
of input), so those are matched on message *prefixes*, kept in the table. The prefixes were run on
CPython 3.11 (3.11.2 Debian, 3.11.7) and read in CPython's source for 3.10, 3.12 and 3.13:
``"unexpected EOF while parsing"`` and ``"'%c' was never closed"`` are raised by the PEG parser
(``Parser/pegen.c`` in 3.10, ``Parser/pegen_errors.c`` from 3.11) only when the tokenizer reached
the end of the text; ``"unterminated triple-quoted string literal (detected at line N)"`` comes from
the tokenizer (``Parser/tokenizer.c``; ``Parser/lexer/lexer.c`` from 3.13), which from 3.12 also
says ``"unterminated triple-quoted f-string literal ..."`` — both share the prefix used here.
``tests/test_feedback_categories.py`` compiles real programs with whatever interpreter runs the
tests, so a CI matrix over 3.10–3.13 re-checks every prefix.

The table's ``official`` column records what the official RLTF code (``program_feedback.py``,
``ErrorFinder``) does with the same error where it differs; it is documentation, never used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rltf.records import Category

if TYPE_CHECKING:
    from rltf.records import Sample, Verdict

# Pseudo error types for outcomes that are not Python exceptions. The execution engine reports
# them in ErrorInfo.type; categorize_verdict also derives them from Verdict.outcome.
TIMEOUT = "Timeout"
MEMORY_LIMIT = "MemoryLimit"  # killed by the memory limit with no MemoryError raised
SIGNAL = "Signal"  # killed by a signal with no Python traceback (segfault, abort)
WRONG_ANSWER = "WrongAnswer"  # outcome "failed": ran, some output wrong
COMPILE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
ANY = "*"

# When a rule applies, besides its error types and message prefixes:
#   always     — always;
#   truncated  — the Sample hit the generation length limit;
#   past_end   — the error's line lies after the last non-blank line of the program;
#   located    — the error has a line in the program;
#   unlocated  — it has none (no frame of the program in the traceback).
Condition = Literal["always", "truncated", "past_end", "located", "unlocated"]


@dataclass(frozen=True)
class CategoryRule:
    category: Category
    errors: tuple[str, ...]  # exception class names or pseudo types; ("*",) matches any
    source: str  # where this assignment comes from
    official: str  # what the official RLTF code does with it ("same" where it agrees)
    message_prefixes: tuple[str, ...] = ()  # only for SyntaxError sub-kinds (see module doc)
    when: Condition = "always"


# The first matching rule wins.
CATEGORY_TABLE: tuple[CategoryRule, ...] = (
    # --- global: the program as a whole is at fault -----------------------------------------
    CategoryRule(
        "global",
        COMPILE_ERRORS,
        "paper Global: syntax error caused by truncation (the sample hit the length limit)",
        "no truncation flag: only 'unexpected EOF'/'invalid syntax' on the last line → global",
        when="truncated",
    ),
    CategoryRule(
        "global",
        (TIMEOUT,),
        "paper Global: timeout",
        "ignore: str(TimeoutException()) is '' and find_re sends '' to ignore (a defect)",
    ),
    CategoryRule("global", ("RecursionError",), "paper Global", "same"),
    CategoryRule(
        "global",
        ("MemoryError", MEMORY_LIMIT),
        "paper Global: memory limit",
        "no memory limit; a MemoryError traceback is text-searched → line",
    ),
    CategoryRule(
        "global",
        ("SyntaxError",),
        "paper Global: unexpected end of input (truncation); CPython raises these "
        "only when the tokenizer reached the end of the text",
        "'unexpected EOF' → global only on the last line; 'was never closed' (3.10+) → line",
        message_prefixes=(
            "unexpected EOF while parsing",
            "'(' was never closed",
            "'[' was never closed",
            "'{' was never closed",
        ),
    ),
    CategoryRule(
        "global",
        ("SyntaxError",),
        "rltf: a syntax error reported after the last non-blank line (the parser ran out of text)",
        "partly: 'invalid syntax' / 'unexpected EOF' on the last line → global",
        when="past_end",
    ),
    # --- ignore: no fine-grained penalty ----------------------------------------------------
    CategoryRule(
        "ignore",
        ("IndentationError", "TabError"),
        "paper Ignore: indentation and tab errors",
        "ignore only for 'unindent does not match' and tabs; 'unexpected indent' and "
        "'expected an indented block' → line",
    ),
    CategoryRule(
        "ignore",
        ("SyntaxError",),
        "paper Ignore: unterminated triple-quoted string",
        "matches only the ≤3.9 message 'EOF while scanning triple-quoted string literal'; "
        "on 3.10+ → line",
        message_prefixes=("unterminated triple-quoted",),
    ),
    CategoryRule(
        "ignore",
        (SIGNAL,),
        "rltf: a crash with no traceback cannot be located (the paper has no such case)",
        "any exit code but 0 or 1 raises RuntimeError('error returncode'): runtime error, ignore",
    ),
    CategoryRule(
        "ignore",
        ("SystemExit",),
        "rltf: the process exited (exit status, os._exit) with no traceback to locate",
        "same: a non-zero exit prints no traceback, find_re sends '' to ignore",
        when="unlocated",
    ),
    CategoryRule("ignore", (WRONG_ANSWER,), "paper: wrong answers get no fine term", "same"),
    # --- line: the located line is at fault -------------------------------------------------
    CategoryRule(
        "line",
        (ANY,),
        "paper Line: any other SyntaxError with a line in the program; any runtime "
        "exception, at the innermost traceback frame of the program",
        "line found by searching the program for the traceback's text (first copy of a "
        "duplicated line); 'RuntimeError', 'duplicate argument', 'import * only allowed' → "
        "ignore",
        when="located",
    ),
    # A runtime exception with no frame in the program (e.g. the harness found no entry point)
    # cannot be located: blame the whole program (rltf's choice; the official code ignores it).
    CategoryRule(
        "global",
        (ANY,),
        "rltf: an error with no line in the program (e.g. a missing entry point)",
        "ignore",
        when="unlocated",
    ),
)

# Python's tokenizer ends a line at \r\n, \r or \n — not at the other characters that
# str.splitlines() accepts (\f, \v, \x1c-\x1e, \x85, \u2028, \u2029).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(program: str) -> list[int]:
    """Character index where each line of ``program`` starts, as Python numbers lines
    (``line_starts(p)[k - 1]`` is where line ``k`` starts)."""
    return [0] + [m.end() for m in _LINE_BREAK.finditer(program)]


def count_lines(program: str) -> int:
    """Number of lines up to the last non-blank one (where a truncated program ends)."""
    stripped = program.rstrip()
    return len(line_starts(stripped)) if stripped else 0


def _matches(
    rule: CategoryRule,
    error_type: str,
    message: str,
    line: int | None,
    program_lines: int | None,
    truncated: bool,
) -> bool:
    if ANY not in rule.errors and error_type not in rule.errors:
        return False
    if rule.message_prefixes and not message.startswith(rule.message_prefixes):
        return False
    if rule.when == "truncated":
        return truncated
    if rule.when == "past_end":
        return line is not None and program_lines is not None and line > program_lines
    if rule.when == "located":
        return line is not None
    if rule.when == "unlocated":
        return line is None
    return True


def find_rule(
    error_type: str,
    message: str = "",
    line: int | None = None,
    *,
    program_lines: int | None = None,
    truncated: bool = False,
) -> CategoryRule:
    """The table row that decides this error (the first that matches)."""
    for rule in CATEGORY_TABLE:
        if _matches(rule, error_type, message, line, program_lines, truncated):
            return rule
    raise AssertionError("unreachable: the table ends with catch-all rules")


def categorize(
    error_type: str,
    message: str = "",
    line: int | None = None,
    *,
    program_lines: int | None = None,
    truncated: bool = False,
) -> Category:
    """Category of one error.

    ``error_type`` is the exception class name (or a pseudo type: :data:`TIMEOUT`,
    :data:`MEMORY_LIMIT`, :data:`SIGNAL`, :data:`WRONG_ANSWER`); ``line`` the 1-based line in
    the program (None when it could not be located); ``program_lines`` is
    ``count_lines(program)``, used to recognise a syntax error past the end of the text;
    ``truncated`` whether generation hit the length limit (known from the Sample: the execution
    engine alone passes False, :func:`categorize_verdict` refines it).
    """
    return find_rule(
        error_type, message, line, program_lines=program_lines, truncated=truncated
    ).category


def categorize_verdict(verdict: Verdict, sample: Sample | None = None) -> Category:
    """Category of a Verdict's error, refined with the Sample (truncation, program length).

    The category is recomputed from the table (the Verdict's own was computed without the
    Sample). Outcomes: ``timeout`` is global whatever the error says; ``passed``, ``failed`` and
    ``sandbox_error`` are ignore (no fine term); a ``runtime_error`` without error information is
    a crash without a traceback (ignore); a ``compile_error`` without one is unlocated (global).
    """
    outcome = verdict.outcome
    if outcome == "timeout":
        return categorize(TIMEOUT)
    if outcome in ("passed", "sandbox_error"):
        return "ignore"
    if outcome == "failed":
        return categorize(WRONG_ANSWER)
    truncated = sample.truncated if sample is not None else False
    program_lines = count_lines(sample.program) if sample is not None else None
    err = verdict.error
    if err is None:
        error_type = SIGNAL if outcome == "runtime_error" else "SyntaxError"
        return categorize(error_type, "", None, program_lines=program_lines, truncated=truncated)
    return categorize(
        err.type, err.message, err.line, program_lines=program_lines, truncated=truncated
    )


def category_table_markdown() -> str:
    """The table as Markdown (docs/rewards.md embeds it; a test keeps the two in sync)."""
    rows = [
        "| # | category | errors | condition | message prefixes | source | official code |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, rule in enumerate(CATEGORY_TABLE, 1):
        prefixes = ", ".join(f"`{p}`" for p in rule.message_prefixes) or "—"
        errors = ", ".join(f"`{e}`" if e != ANY else "any" for e in rule.errors)
        rows.append(
            f"| {i} | {rule.category} | {errors} | {rule.when} | {prefixes} | {rule.source} "
            f"| {rule.official} |"
        )
    return "\n".join(rows) + "\n"
