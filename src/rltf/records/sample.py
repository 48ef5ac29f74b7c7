"""Sample: what the policy generated (token ids, offsets and log-probs, exactly as sampled)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rltf.records._validation import JSON, RecordError, _optional, _require


@dataclass(frozen=True)
class Sample:
    """One generated program, exactly as sampled (DESIGN.md §2).

    ``token_ids`` are the ids the policy sampled (never a re-tokenisation of ``text``);
    ``offsets[i]`` is the ``[start, end)`` character span of token ``i`` in ``text`` (a token that
    decodes to part of a multi-byte character shares the span of that character);
    ``logprobs[i]`` is log p_T(token_i) under policy version ``policy_version`` at the sampling
    temperature T (the behaviour log-prob of the importance ratio; rltf.policy.policy).

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
