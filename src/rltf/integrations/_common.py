"""What the TRL and veRL adapters share: problem lookup, program building, scalar rewards.

A trainer hands a reward function the *text* of a completion and whatever dataset columns it
carries. Turning that into a judged program needs three things rltf's own pipeline keeps on the
``Prompt`` (:mod:`rltf.tasks.prompts`): the program prefix (HumanEval / completion style: the
signature the model continued), the stop strings, and whether the code is a fenced block of a chat
answer. :class:`ProgramSpec` carries them through a dataset row; :func:`build_program` applies
them exactly as :meth:`rltf.policy.Policy.generate` does (stop cut first, then the fenced block,
then the prefix), so a completion scores the same here as in rltf's own trainer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from rltf.feedback import RewardConfig, coarse_reward, is_trainable, official_reward
from rltf.policy.text import fenced_code_span, find_stop
from rltf.records import Problem, RecordError, Verdict
from rltf.tasks import format_prompt
from rltf.tasks.prompts import chat_message

RewardKind = Literal["pass", "coarse", "adaptive"]
KINDS: tuple[str, ...] = ("pass", "coarse", "adaptive")


def check_kind(kind: str) -> RewardKind:
    """``kind`` itself, or a ValueError naming the argument and the accepted values."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    return kind  # type: ignore[return-value]


@dataclass(frozen=True)
class ProgramSpec:
    """How a completion becomes a program (the non-text half of :class:`rltf.tasks.Prompt`)."""

    program_prefix: str = ""
    stop: tuple[str, ...] = ()
    extract_code: bool = False

    def to_columns(self) -> dict[str, Any]:
        return {
            "program_prefix": self.program_prefix,
            "stop": list(self.stop),
            "extract_code": self.extract_code,
        }


def prompt_for(problem: Problem, style: str, tokenizer: Any = None) -> tuple[Any, ProgramSpec]:
    """The prompt a trainer conditions on and the spec of its programs.

    ``style="chat"`` gives conversational messages (``[{"role": "user", ...}]``): TRL and veRL
    apply the model's chat template themselves, so no tokenizer is needed here. Any other rltf
    style gives plain text (:func:`rltf.tasks.format_prompt`).
    """
    if style == "chat":
        content, prefix = chat_message(problem)
        return [{"role": "user", "content": content}], ProgramSpec(prefix, (), True)
    p = format_prompt(problem, style, tokenizer)
    return p.text, ProgramSpec(p.program_prefix, tuple(p.stop), p.extract_code)


def problem_json(problem: Problem) -> str:
    """The Problem record as one JSON string (a parquet / Arrow cell holds it unchanged, where a
    nested dict would be re-typed into a struct with every row's keys)."""
    return json.dumps(problem.to_dict(), sort_keys=True)


def build_program(completion: str, spec: ProgramSpec) -> str:
    """The executed program for a completion, as :meth:`rltf.policy.Policy.generate` builds it:
    cut at the earliest stop string, take the first fenced block if ``extract_code``, prepend the
    prefix."""
    cut = find_stop(completion, spec.stop)
    text = completion if cut is None else completion[:cut]
    if spec.extract_code:
        start, end = fenced_code_span(text)
        text = text[start:end]
    return spec.program_prefix + text


def completion_text(completion: Any, where: str) -> str:
    """The answer text of a completion: a string, or TRL's conversational form (a list of
    messages; the last assistant message's ``content``, a string or a list of text blocks)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        answers = [m for m in completion if isinstance(m, Mapping) and m.get("role") == "assistant"]
        last = (answers or [completion[-1]])[-1]
        content = last.get("content") if isinstance(last, Mapping) else None
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):
            return "".join(
                str(b.get("text", "")) for b in content if isinstance(b, Mapping) and "text" in b
            )
    raise ValueError(
        f"{where}: expected a completion string or a list of chat messages with string "
        f"'content', got {type(completion).__name__}"
    )


class ProblemResolver:
    """Problem records from dataset cells, parsed once (a JSON string, a dict, a Problem, or an id
    of the ``problems`` given), so the execution pool sees the same object and caches its
    encoding."""

    def __init__(self, problems: Sequence[Problem] | None = None) -> None:
        self.by_id = {p.id: p for p in problems or ()}
        self._parsed: dict[str, Problem] = {}

    def __call__(self, cell: Any, where: str) -> Problem:
        if isinstance(cell, Problem):
            return cell
        if isinstance(cell, str):
            if cell in self.by_id:
                return self.by_id[cell]
            if not cell.lstrip().startswith("{"):
                raise RecordError(where, "problem", f"unknown problem {cell!r}")
            hit = self._parsed.get(cell)
            if hit is None:
                try:
                    data = json.loads(cell)
                except json.JSONDecodeError as e:
                    raise RecordError(where, "problem", f"invalid JSON: {e.msg}") from None
                hit = Problem.from_dict(data, where)
                if len(self._parsed) > 4096:
                    self._parsed.clear()
                self._parsed[cell] = hit
            return hit
        if isinstance(cell, Mapping):
            return Problem.from_dict(dict(cell), where)
        raise RecordError(
            where, "problem", f"expected a Problem JSON string or id, got {type(cell).__name__}"
        )


def scalar_reward(verdict: Verdict, kind: RewardKind, config: RewardConfig) -> float | None:
    """One number per program; None for a ``sandbox_error`` (the program was not judged).

    ``pass``: 1 if every test passed else 0. ``coarse``: R_coarse (+1 / −0.3 / −0.6 / −1, the
    CodeRL = RLTF table). ``adaptive``: the official RLTF code's sample reward
    (``get_reward_from_error_type``): −0.3 + 1.3·ρ for a failed program, R_coarse otherwise —
    the paper adds adaptive as a second term, which a single scalar cannot; token_rewards has it.
    """
    if not is_trainable(verdict):
        return None
    if kind == "pass":
        return 1.0 if verdict.outcome == "passed" else 0.0
    if kind == "coarse":
        return coarse_reward(verdict, config)
    return official_reward(verdict, replace(config, adaptive=True))


def verdict_details(verdict: Verdict) -> dict[str, Any]:
    """Flat, same-keys-every-time details of a verdict (veRL appends each key per sample, so a
    key missing from one sample would misalign its columns)."""
    error = verdict.error
    return {
        "outcome": verdict.outcome,
        "passed": verdict.passed,
        "total": verdict.total,
        "pass_ratio": verdict.pass_ratio,
        "error_type": error.type if error else "",
        "error_line": (error.line or 0) if error else 0,
        "error_category": error.category if error else "",
    }
