"""Incremental stop-string detection during sampling: decode only each row's new tokens.

The previous checker decoded a tail window of every row at every step (one Python call into the
tokenizer per row per step). This follows the incremental detokenisation of Hugging Face's
text-generation-inference (``Model.decode_token``: a ``prefix_offset`` / ``read_offset`` pair per
sequence, also used by vLLM): each step decodes, for every watched row, ``ids[prefix:read]`` and
``ids[prefix:]`` (a few tokens: the context keeps SentencePiece's leading-space rule and byte-level
BPE's multi-byte characters right) in ONE batched call to the Rust tokenizer. The difference is the
row's new text; when it ends in U+FFFD (a character still incomplete) nothing is committed and the
token waits for the next one, exactly as the full decode shows no character there yet.

A stop can only be new if it overlaps the new text, so only the last ``len(new) + longest - 1``
characters are searched. A detection is confirmed on the full decode of the row before the row is
ended (once per row), so this early exit can never end a row whose final text (trimmed by
:func:`rltf.policy.text.find_stop` in ``Policy._to_sample``) does not contain the stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rltf.policy.text import REPLACEMENT, decode, find_stop


class IncrementalStops:
    """Stop strings per row (``stops[b]``; empty: not watched). Implements
    :class:`rltf.policy.sampling.StopDetector`."""

    def __init__(self, tokenizer: Any, stops: Sequence[Sequence[str]]) -> None:
        self.tokenizer = tokenizer
        self.stops = [tuple(s) for s in stops]
        self.watched = [b for b, row in enumerate(self.stops) if row]
        self.ids: dict[int, list[int]] = {b: [] for b in self.watched}
        self.text: dict[int, str] = {b: "" for b in self.watched}
        self.prefix: dict[int, int] = dict.fromkeys(self.watched, 0)
        self.read: dict[int, int] = dict.fromkeys(self.watched, 0)
        self.longest = {b: max(len(s) for s in self.stops[b]) for b in self.watched}
        self.done: set[int] = set()

    def feed(self, tokens: list[int], active: list[bool]) -> list[int]:
        """Append ``tokens[b]`` to each active watched row; return the rows that now contain one
        of their stop strings (each row is reported once)."""
        rows = [b for b in self.watched if active[b] and b not in self.done]
        if not rows:
            return []
        for b in rows:
            self.ids[b].append(tokens[b])
        seqs = [self.ids[b][self.prefix[b] : self.read[b]] for b in rows]
        seqs += [self.ids[b][self.prefix[b] :] for b in rows]
        texts = self.tokenizer.batch_decode(
            seqs, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        hits = []
        for j, b in enumerate(rows):
            if self._advance(b, texts[j], texts[len(rows) + j]):
                hits.append(b)
                self.done.add(b)
        return hits

    def _advance(self, b: int, before: str, after: str) -> bool:
        """Commit the new text of row ``b`` if complete; True if a stop string appeared."""
        if len(after) <= len(before) or after.endswith(REPLACEMENT):
            return False  # nothing printable yet (special token, or a character in progress)
        new = after[len(before) :]
        old = len(self.text[b])
        self.text[b] += new
        self.prefix[b], self.read[b] = self.read[b], len(self.ids[b])
        window = self.text[b][max(0, old - self.longest[b] + 1) :]
        if not any(s in window for s in self.stops[b]):
            return False
        # Confirm on the full decode: the early exit must agree with the final trimming.
        return find_stop(decode(self.tokenizer, self.ids[b]), self.stops[b]) is not None


def first_stop_step(tokenizer: Any, ids: Sequence[int], stops: Sequence[str]) -> int | None:
    """Reference semantics (the previous checker): the first step ``i`` at which the full decode
    of ``ids[: i + 1]`` contains a stop string. Quadratic; for tests and documentation."""
    for i in range(len(ids)):
        if find_stop(decode(tokenizer, ids[: i + 1]), stops) is not None:
            return i
    return None


__all__ = ["IncrementalStops", "first_stop_step"]
