"""rltf's sandboxed unit-test rewards for TRL's ``GRPOTrainer`` (``pip install 'rltf[trl]'``).

    from rltf.integrations.trl import CodeReward, to_dataset
    dataset = to_dataset(load_dataset("builtin:basic:train"), prompt_style="auto")
    with CodeReward(kind="coarse", workers=4) as reward:
        GRPOTrainer(model, reward_funcs=reward, args=GRPOConfig(...), train_dataset=dataset).train()

TRL's contract (trl 1.16, ``GRPOTrainer._calculate_rewards``): a reward function is called as
``f(prompts=..., completions=..., completion_ids=..., **columns)`` with every dataset column but
``prompt`` repeated per completion, plus ``trainer_state``, ``log_extra`` and ``log_metric``; it
returns one float per completion, or ``None`` where it does not apply (TRL turns it into NaN and
leaves it out of that sample's reward sum). A reward whose ``__call__`` is ``async`` is awaited on
TRL's event loop alongside the other async rewards (:class:`AsyncCodeReward`).

Why a sandbox matters here: under RL the policy is optimised against the checker. Expected
outputs never enter rltf's sandbox and comparison happens in the trusted parent on plain data, so
``sys.exit(0)`` before the asserts, ``os._exit(0)`` or an object whose ``__eq__`` is always true
score as failures (docs/execution.md).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from rltf.feedback import RewardConfig
from rltf.integrations._common import (
    ProblemResolver,
    ProgramSpec,
    build_program,
    check_kind,
    completion_text,
    problem_json,
    prompt_for,
    scalar_reward,
)
from rltf.records import Problem, RecordError, Verdict
from rltf.tasks import STYLES

if TYPE_CHECKING:
    import datasets
    from typing_extensions import Self  # typing.Self needs Python 3.11

    from rltf.execution import ExecutionConfig, ExecutionPool

PROBLEM_COLUMN = "problem"


def to_dataset(
    problems: Sequence[Problem], prompt_style: str = "auto", tokenizer: Any = None
) -> datasets.Dataset:
    """A ``datasets.Dataset`` for ``GRPOTrainer``: ``prompt`` (text, or chat messages for
    ``prompt_style="chat"``: TRL applies the model's chat template), ``problem`` (the Problem
    record as JSON, for the reward), ``problem_id``, and how a completion becomes a program
    (``program_prefix``, ``stop``, ``extract_code``; :class:`ProgramSpec`)."""
    import datasets

    if prompt_style not in STYLES:
        raise ValueError(f"prompt_style must be one of {', '.join(STYLES)}, got {prompt_style!r}")
    if not problems:
        raise ValueError("to_dataset: no problems given")
    rows = []
    for p in problems:
        prompt, spec = prompt_for(p, prompt_style, tokenizer)
        row = {"prompt": prompt, PROBLEM_COLUMN: problem_json(p), "problem_id": p.id}
        rows.append(row | spec.to_columns())
    return datasets.Dataset.from_list(rows)


class _CodeRewardBase:
    """What the sync and async rewards share: argument checks, the pool, row -> program."""

    def __init__(
        self,
        kind: str = "coarse",
        workers: int | None = None,
        *,
        problems: Sequence[Problem] | None = None,
        prompt_style: str = "auto",
        config: RewardConfig | None = None,
        execution: ExecutionConfig | None = None,
        pool: ExecutionPool | None = None,
        log_outcomes: bool = True,
    ) -> None:
        self.kind = check_kind(kind)
        if prompt_style not in STYLES:
            raise ValueError(
                f"prompt_style must be one of {', '.join(STYLES)}, got {prompt_style!r}"
            )
        self.config = config or RewardConfig()
        self.config.validate()
        self.workers, self.execution, self.prompt_style = workers, execution, prompt_style
        self.log_outcomes = log_outcomes
        self._resolve = ProblemResolver(problems)
        self._pool, self._owns_pool = pool, pool is None
        self._lock = threading.Lock()
        # TRL names the reward's log columns after ``__name__`` (``rewards/<name>/mean``).
        self.__name__ = f"rltf_{self.kind}"

    # -- pool lifecycle: started on first use, so building the trainer costs nothing ----------
    @property
    def pool(self) -> ExecutionPool:
        with self._lock:
            if self._pool is None:
                from rltf.execution import ExecutionPool

                self._pool = ExecutionPool(self.workers, self.execution)
                atexit.register(self.close)
            return self._pool

    def close(self) -> None:
        """Stop the execution workers (only a pool this reward started itself)."""
        with self._lock:
            pool, self._pool = self._pool, (None if self._owns_pool else self._pool)
        if pool is not None and self._owns_pool:
            pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rows -> (problem, program) ----------------------------------------------------------
    def jobs(
        self, completions: Sequence[Any], columns: dict[str, Any]
    ) -> list[tuple[Problem, str]]:
        """One ``(problem, program)`` per completion; a row without ``problem``, an unknown
        problem or a malformed completion is an error naming the row."""
        cells = columns.get(PROBLEM_COLUMN)
        if cells is None:
            raise KeyError(
                f"{self.__name__}: the dataset has no {PROBLEM_COLUMN!r} column (build it with "
                f"rltf.integrations.trl.to_dataset, or add the Problem JSON or id per row)"
            )
        if len(cells) != len(completions):
            raise ValueError(
                f"{self.__name__}: {len(completions)} completions but {len(cells)} "
                f"{PROBLEM_COLUMN!r} values"
            )
        out = []
        for i, (cell, completion) in enumerate(zip(cells, completions, strict=True)):
            where = f"{self.__name__} row {i}"
            if cell is None:
                raise RecordError(where, PROBLEM_COLUMN, "missing")
            problem = self._resolve(cell, where)
            spec = self._spec(problem, columns, i, conversational=not isinstance(completion, str))
            out.append((problem, build_program(completion_text(completion, where), spec)))
        return out

    def _spec(
        self, problem: Problem, columns: dict[str, Any], i: int, conversational: bool
    ) -> ProgramSpec:
        if "program_prefix" in columns:
            extract = columns.get("extract_code")
            stop = columns.get("stop")
            return ProgramSpec(
                str(columns["program_prefix"][i]),
                tuple(stop[i] or ()) if stop is not None else (),
                bool(extract[i]) if extract is not None else conversational,
            )
        # A user's own dataset with only a problem column: derive the spec from the style.
        style = "chat" if conversational else self.prompt_style
        return prompt_for(problem, style)[1]

    def scores(self, verdicts: Sequence[Verdict], columns: dict[str, Any]) -> list[float | None]:
        rewards = [scalar_reward(v, self.kind, self.config) for v in verdicts]
        log_extra: Callable[[str, list[Any]], None] | None = columns.get("log_extra")
        if self.log_outcomes and callable(log_extra):
            log_extra(f"{self.__name__}_outcome", [v.outcome for v in verdicts])
        return rewards


class CodeReward(_CodeRewardBase):
    """TRL reward function: each completion's program runs against its problem's unit tests in
    rltf's sandbox (one shared :class:`rltf.execution.ExecutionPool`, all completions of a batch in
    parallel) and scores ``pass`` (1/0), ``coarse`` (RLTF's R_coarse: +1 passed, −0.3 failed,
    −0.6 runtime error or timeout, −1 compile error) or ``adaptive`` (−0.3 + 1.3·pass ratio for a
    failed program, R_coarse otherwise). A ``sandbox_error`` gives ``None``: TRL skips it.

    ``problems``: lets the ``problem`` column hold ids instead of records. ``pool``: share an
    existing pool (not closed by this reward). ``config``: the reward values (RewardConfig).
    """

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        verdicts = self.pool.run_batch(self.jobs(completions, columns), mode="train")
        return self.scores(verdicts, columns)


class AsyncCodeReward(_CodeRewardBase):
    """:class:`CodeReward` with an ``async`` ``__call__``: TRL gathers it with its other async
    rewards, so an LLM judge or a format reward runs while the sandbox executes."""

    async def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        jobs = self.jobs(completions, columns)
        pool = self.pool
        futures: list[Future[Verdict]] = [pool.submit(p, prog, "train") for p, prog in jobs]
        verdicts = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        return self.scores(list(verdicts), columns)


__all__ = ["PROBLEM_COLUMN", "AsyncCodeReward", "CodeReward", "to_dataset"]
