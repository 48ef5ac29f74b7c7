"""Sampling the programs of an evaluation: n per problem, only the missing ones (resume).

Problems are formatted with :func:`rltf.tasks.format_prompt` and sampled with
:meth:`rltf.policy.Policy.generate`; each sample becomes a :class:`ProgramRow` keyed by
``(problem_id, index)``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from rltf.console import make_progress
from rltf.evaluation.records import Key, ProgramRow
from rltf.records import JSON, Problem, Sample

if TYPE_CHECKING:  # torch and transformers load only when a model is actually sampled
    from rltf.policy import GenerationConfig, Policy

log = logging.getLogger(__name__)


def sampling_settings(gen: GenerationConfig, prompt_style: str) -> dict[str, JSON]:
    """The generation settings that define the sample distribution (recorded in the report)."""
    return {
        "temperature": gen.temperature if gen.do_sample else 0.0,
        "top_p": gen.top_p if gen.do_sample else 1.0,
        "do_sample": gen.do_sample,
        "max_new_tokens": gen.max_new_tokens,
        "max_prompt_tokens": gen.max_prompt_tokens,
        "stop": list(gen.stop),
        "prompt_style": prompt_style,
    }


def log_styles(problems: Sequence[Problem], prompt_style: str, tokenizer: object) -> None:
    """Say which prompt style ``auto`` (or the given style) resolves to, once per distinct one."""
    from rltf.tasks import resolve_style

    seen: dict[tuple[str, str], int] = {}
    for p in problems:
        key = resolve_style(p, prompt_style, tokenizer)
        seen[key] = seen.get(key, 0) + 1
    for (style, why), count in seen.items():
        log.info("prompt style %s -> %s (%s) for %d problems", prompt_style, style, why, count)


def _chunk_seed(seed: int, problem_id: str) -> int:
    # A seed per generation call, derived from the run seed and the call's first problem: the same
    # run repeated draws the same samples. A resumed run may group the missing problems into
    # different calls and so draw different (equally valid) samples for them.
    return (seed * 1_000_003 + zlib.crc32(problem_id.encode())) % 2**31


def scored_program(problem: Problem | None, sample: Sample) -> str:
    """The program an evaluation runs for ``sample``: for HumanEval, the answer post-processed
    as the field does (:func:`rltf.tasks.sanitize.humaneval_program`: EvalPlus's sanitizer, so a
    restated signature, a fenced answer, prose, tests or a ``__main__`` block yield the function
    written); otherwise the sample's own program. (Training keeps ``sample.program``: its error
    lines must map back to the sampled tokens.)"""
    entry = problem.meta.get("entry_point") if problem is not None else None
    if problem is None or problem.meta.get("source") != "humaneval" or not isinstance(entry, str):
        return sample.program
    from rltf.tasks.sanitize import humaneval_program

    return humaneval_program(problem.prompt, entry, sample.text)


def row_from_sample(sample: Sample, index: int, problem: Problem | None = None) -> ProgramRow:
    program = scored_program(problem, sample)
    return ProgramRow(
        problem_id=sample.problem_id,
        index=index,
        program=program,
        text=sample.text if sample.text != program else None,
        policy_version=sample.policy_version,
        truncated=sample.truncated,
    )


def generate_programs(
    policy: Policy | Callable[[], Policy],
    problems: Sequence[Problem],
    *,
    n: int,
    gen: GenerationConfig,
    prompt_style: str = "auto",
    seed: int | None = 0,
    done: Mapping[Key, ProgramRow] | None = None,
    on_row: Callable[[ProgramRow], None] | None = None,
    progress: bool = True,
) -> list[ProgramRow]:
    """Sample the programs with index < n that ``done`` lacks; return only the new rows.

    ``policy`` may be a zero-argument loader, called only when something is missing (a resumed
    run whose programs are all generated does not load the model). ``seed`` (not None) gives each ``Policy.generate`` call its own ``GenerationConfig.seed``,
    derived from ``seed`` and the call's first problem id (``gen.seed`` is then ignored).

    Problems needing the same number of samples are batched so that one ``Policy.generate`` call
    draws about ``gen.batch_size`` sequences. ``on_row`` sees each row as soon as its call ends
    (to append it to a file). Greedy decoding (``gen.do_sample=False``) with n > 1 would give n
    copies of one program; that is allowed but logged.
    """
    from rltf.tasks import format_prompt  # lazily: pass@k from a programs file needs no torch

    if not gen.do_sample and n > 1:
        log.warning("greedy decoding with n=%d gives %d identical samples per problem", n, n)
    done = done or {}
    todo: list[tuple[Problem, list[int]]] = []
    for p in problems:
        missing = [i for i in range(n) if (p.id, i) not in done]
        if missing:
            todo.append((p, missing))
    total = sum(len(m) for _, m in todo)
    new: list[ProgramRow] = []
    if not todo:
        return new
    per_call = max(1, gen.batch_size // max(len(m) for _, m in todo))
    model = cast("Policy", policy) if hasattr(policy, "generate") else policy()
    log_styles([p for p, _ in todo], prompt_style, model.tokenizer)
    with make_progress() as bar:
        task = bar.add_task("generating", total=total, status="", visible=progress)
        i = 0
        while i < len(todo):
            # One call: consecutive problems with the same number of missing samples.
            need = len(todo[i][1])
            chunk = [todo[i]]
            while (
                i + len(chunk) < len(todo)
                and len(chunk) < per_call
                and len(todo[i + len(chunk)][1]) == need
            ):
                chunk.append(todo[i + len(chunk)])
            i += len(chunk)
            call_gen = gen if seed is None else replace(gen, seed=_chunk_seed(seed, chunk[0][0].id))
            prompts = [format_prompt(p, prompt_style, tokenizer=model.tokenizer) for p, _ in chunk]
            samples = model.generate(prompts, [p.id for p, _ in chunk], call_gen, n=need)
            if len(samples) != need * len(chunk):
                raise RuntimeError(
                    f"Policy.generate returned {len(samples)} samples, expected {need * len(chunk)}"
                )
            for j, sample in enumerate(samples):
                p, missing = chunk[j // need]
                if sample.problem_id != p.id:
                    raise RuntimeError(
                        f"Policy.generate returned a sample of {sample.problem_id!r} "
                        f"where {p.id!r} was expected (samples must be grouped by prompt)"
                    )
                row = row_from_sample(sample, missing[j % need], p)
                new.append(row)
                if on_row is not None:
                    on_row(row)
            bar.advance(task, len(samples))
    return new
