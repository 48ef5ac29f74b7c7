"""The error category table (DESIGN.md §3) — one table of data, with its sources.

RLTF (Liu et al. 2023, §3.2) splits errors into three classes for fine-grained feedback:

* ``global`` — the whole program is to blame: penalise every generated token.
* ``line``   — a specific line is to blame: penalise the tokens of that line.
* ``ignore`` — no fine-grained penalty (the coarse reward still applies).

Errors are located structurally (``SyntaxError.lineno``, the innermost traceback frame whose file
is the program); messages are never searched for the line's text. Python has no exception
subclass for two syntax-error kinds the paper distinguishes (unterminated triple-quoted string,
unexpected end of input), so those two are matched on message *prefixes*, kept in this table with
the Python versions they were checked on (3.10–3.13).
"""

from __future__ import annotations

from dataclasses import dataclass

from rltf.records import Category


@dataclass(frozen=True)
class CategoryRule:
    error_type: str  # exception class name, or a pseudo-type for non-exception outcomes
    category: Category
    source: str  # where this assignment comes from
    message_prefixes: tuple[str, ...] = ()  # only for SyntaxError sub-kinds (see module doc)


# Pseudo error types produced by the execution engine for outcomes that are not exceptions.
TIMEOUT = "Timeout"
MEMORY_LIMIT = "MemoryLimit"
SIGNAL = "Signal"  # killed by a signal with no Python traceback (segfault, abort)

CATEGORY_TABLE: tuple[CategoryRule, ...] = (
    # --- global: the program as a whole is at fault -----------------------------------------
    CategoryRule(
        TIMEOUT, "global", "paper §3.2 Global (official code: ignore — a defect we do not copy)"
    ),
    CategoryRule("RecursionError", "global", "paper §3.2 Global"),
    CategoryRule("MemoryError", "global", "paper §3.2 Global (memory limit)"),
    CategoryRule(MEMORY_LIMIT, "global", "paper §3.2 Global (memory limit)"),
    # SyntaxError at the end of the text is caused by truncation (see categorize()).
    CategoryRule(
        "SyntaxError",
        "global",
        "paper §3.2 Global: syntax error caused by truncation",
        ("unexpected EOF", "'(' was never closed", "'[' was never closed", "'{' was never closed"),
    ),
    # --- ignore: no fine-grained penalty ----------------------------------------------------
    CategoryRule("IndentationError", "ignore", "paper §3.2 Ignore"),
    CategoryRule("TabError", "ignore", "paper §3.2 Ignore"),
    CategoryRule(
        "SyntaxError",
        "ignore",
        "paper §3.2 Ignore: unterminated triple-quoted string",
        ("unterminated triple-quoted string",),
    ),
    CategoryRule(SIGNAL, "ignore", "no traceback to locate (rltf; the paper has no such case)"),
)

# Any other SyntaxError with a line inside the program, and any other runtime exception located
# at a frame of the program, is a ``line`` error (paper §3.2 Line). A runtime exception with no
# frame in the program (e.g. the harness could not find the entry point) cannot be located, so the
# whole program is blamed: ``global`` (rltf's choice; the official code would not locate it).
DEFAULT_LOCATED: Category = "line"
DEFAULT_UNLOCATED: Category = "global"


def categorize(
    error_type: str,
    message: str = "",
    line: int | None = None,
    *,
    program_lines: int | None = None,
    truncated: bool = False,
) -> Category:
    """Category of one error.

    ``line`` is the 1-based line in the program (None when it could not be located);
    ``program_lines`` the number of non-blank-terminated lines of the program, used to recognise
    a syntax error sitting at the end of the text; ``truncated`` whether generation hit the
    length limit (known from the Sample; the execution engine alone passes False).
    """
    is_syntax = error_type in ("SyntaxError", "IndentationError", "TabError")
    if is_syntax and truncated:
        return "global"
    for rule in CATEGORY_TABLE:
        if rule.error_type != error_type:
            continue
        if rule.message_prefixes and not message.startswith(rule.message_prefixes):
            continue
        return rule.category
    if (
        error_type == "SyntaxError"
        and line is not None
        and program_lines is not None
        and line > program_lines
    ):
        return "global"  # reported past the last line: the parser ran out of text (truncation)
    return DEFAULT_LOCATED if line is not None else DEFAULT_UNLOCATED


def count_lines(program: str) -> int:
    """Number of lines up to the last non-blank one (where a truncated program ends)."""
    return len(program.rstrip().splitlines())
