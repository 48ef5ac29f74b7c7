"""From a program line to the generated tokens that wrote it.

A Sample records the exact sampled token ids and, for each, its ``[start, end)`` character span
in the decoded ``text``. The executed program is ``program_prefix + text[code_start:code_end]``
(HumanEval: the prompt is the prefix; chat answers: the code is a fenced block inside ``text``).
An error line is a character range of the *program*; it is mapped into ``text`` coordinates and
the tokens whose spans overlap it are selected. Nothing is re-tokenised and no text is searched,
so the span is exact for any tokenizer (byte-level BPE, SentencePiece) and a duplicated line is
never confused with its first copy (the official code searches for the line's text).

Conventions (deliberate, documented in docs/rewards.md):

* A line's range includes its line break, so a token straddling a line boundary (``":\\n"``,
  ``"\\n    "``) counts for both lines it touches.
* A zero-width token (an end-of-sequence token, a token that decoded to nothing) overlaps no line.
* Spans are inclusive token indices ``(S, E)``; they hold ``E - S + 1`` tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from rltf.feedback.categories import line_starts
from rltf.records import Sample


def line_char_range(program: str, line: int) -> tuple[int, int] | None:
    """``[start, end)`` character range of 1-based ``line`` in ``program``, its line break
    included (Python's line numbering: breaks are ``\\r\\n``, ``\\r``, ``\\n``). None when the
    program has no such line."""
    starts = line_starts(program)
    if not 1 <= line <= len(starts):
        return None
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(program)
    return start, end


def tokens_overlapping(
    offsets: Sequence[tuple[int, int]], start: int, end: int
) -> tuple[int, int] | None:
    """Inclusive ``(first, last)`` index of the tokens whose non-empty span overlaps
    ``[start, end)``; None when none does."""
    first = last = -1
    for i, (a, b) in enumerate(offsets):
        if a < b and a < end and b > start:
            if first < 0:
                first = i
            last = i
    return None if first < 0 else (first, last)


def _generated_range(sample: Sample, start: int, end: int) -> tuple[int, int] | None:
    """Map a program character range to ``text`` coordinates, keeping only the part the policy
    generated (the prefix was not generated). None when nothing of it was generated."""
    prefix = len(sample.program_prefix)
    start, end = max(start, prefix), min(end, len(sample.program))
    if start >= end:
        return None
    a, b = sample.text_position(start), sample.text_position(end)
    assert a is not None and b is not None  # both are past the prefix
    return a, b


def error_token_span(sample: Sample, line: int) -> tuple[int, int] | None:
    """``(S, E)``: inclusive indices of the generated tokens overlapping program line ``line``.

    None when the line does not exist, lies wholly in ``program_prefix`` (e.g. inside the
    HumanEval prompt), or no generated token overlaps it. A line that starts in the prefix and
    ends in the generation (a prompt that ends mid-line) gives the generated tokens only.
    """
    program = sample.program
    char_range = line_char_range(program, line)
    if char_range is None:
        return None
    text_range = _generated_range(sample, *char_range)
    if text_range is None:
        return None
    return tokens_overlapping(sample.offsets, *text_range)


def program_token_span(sample: Sample) -> tuple[int, int] | None:
    """``(S, E)`` of the whole program, for ``global`` errors: all generated tokens when the
    program is the whole text (zero-width tokens at the ends included), else the tokens
    overlapping the extracted code (a chat answer's prose and fences are not the program).
    None when the program contains no generated token."""
    n = len(sample.token_ids)
    if n == 0:
        return None
    code_end = len(sample.text) if sample.code_end is None else sample.code_end
    if sample.code_start == 0 and code_end == len(sample.text):
        return 0, n - 1
    return tokens_overlapping(sample.offsets, sample.code_start, code_end)
