"""From sampled token ids to text: character offsets, stop strings and fenced code blocks.

All three work on the generated ids alone (never a re-tokenisation of text), so the fine-grained
reward can map an error line back to exactly the tokens the policy sampled.

Conventions (documented once, relied on by rltf.feedback):

* ``text = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)``;
  clean-up is off because it rewrites code (``"a ."`` -> ``"a."``).
* ``offsets[i] = (start, end)`` is the character span of token ``i`` in ``text``. Special tokens
  (EOS, ...) get an empty span at their position. A byte-level token that holds only part of a
  multi-byte character gets the span of that whole character, so the tokens that together spell
  "é" all overlap it (spans are then not disjoint, but every span is inside ``text`` and starts
  are non-decreasing).
* Stop strings cut ``text`` at their earliest occurrence; tokens whose span starts at or after
  the cut are dropped; the token that straddles the cut is kept with its span clipped to the cut.
  So ``text`` is a prefix of ``decode(token_ids)`` and equal to it unless a token straddles a cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# One fenced-code extractor for the whole project; it lives with the tasks' answer sanitizer
# (which must not import torch) and is re-exported here for the sampler and the integrations.
from rltf.tasks.sanitize import fenced_code_span

REPLACEMENT = "\ufffd"  # what a decoder emits for an incomplete UTF-8 sequence


def decode(tokenizer: Any, ids: Sequence[int]) -> str:
    return str(
        tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)
    )


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # binary search for the first mismatch: a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def token_offsets(tokenizer: Any, ids: Sequence[int]) -> tuple[str, list[tuple[int, int]]]:
    """Decode ``ids`` and return ``(text, offsets)`` as described in the module docstring.

    Works for any tokenizer whose decode of a prefix of ``ids`` agrees with the full decode up to
    an incomplete trailing character: byte-level BPE (GPT-2, Llama 3, SmolLM2, Qwen) and
    SentencePiece (T5, Llama 2). Prefixes are decoded in one batched call to the Rust tokenizer.
    """
    ids = list(ids)
    text = decode(tokenizer, ids)
    if not ids:
        return text, []
    prefixes = tokenizer.batch_decode(
        [ids[: i + 1] for i in range(len(ids))],
        skip_special_tokens=True,
        clean_up_tokenization_spaces=False,
    )
    offsets: list[tuple[int, int]] = []
    start = 0  # committed length before this token (a pending partial character starts here)
    for prefix in prefixes:
        # committed: how much of the final text this prefix already determines. A prefix ending in
        # a partial character decodes it as U+FFFD, which the full text does not have there.
        committed = _common_prefix(prefix, text)
        end = committed
        if committed < len(prefix):  # this token ends inside a character: take that whole character
            end = min(committed + 1, len(text))
        offsets.append((min(start, end), max(start, end)))
        start = max(start, committed)
    return text, offsets


def find_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest occurrence of any stop string in ``text`` (None if none occurs)."""
    cuts = [i for s in stops if s and (i := text.find(s)) >= 0]
    return min(cuts) if cuts else None


def cut_tokens(offsets: Sequence[tuple[int, int]], cut: int) -> list[tuple[int, int]]:
    """Offsets of the tokens kept when the text is cut at ``cut``: the leading tokens whose span
    starts before the cut, the last one (the straddler) clipped to it. Starts are non-decreasing,
    so the kept tokens are a prefix of the sequence."""
    kept = []
    for s, e in offsets:
        if s >= cut:
            break
        kept.append((s, min(e, cut)))
    return kept


__all__ = ["cut_tokens", "decode", "fenced_code_span", "find_stop", "token_offsets"]
