"""Evaluation: sample n programs per problem, execute them in eval mode, report pass@k.

    tasks ──► format_prompt ──► Policy.generate ──► programs.jsonl ──► ExecutionPool ──► results.jsonl
                                                                                           │
                                                   report.json / report.md / *.png ◄──────┘

On disk (:func:`evaluate`) every stage is resumable: generated programs are appended to
``out_dir/programs.jsonl`` and verdicts to ``out_dir/results.jsonl`` as they complete, keyed by
``(problem_id, sample index)``; a rerun reuses existing keys and only generates / executes what is
missing, so a killed run loses at most the batch in flight. ``out_dir/run.json`` records the
settings, and a rerun with different settings (another model, temperature, ...) is refused rather
than silently mixing samples of two distributions. In memory (:func:`evaluate_policy`) the same
steps run without files, for the training loop and the demo.

Sandbox errors (the infrastructure failed, not the program) are counted as not passed in the
report but never cached, so a rerun retries them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltf.config import ConfigError
from rltf.console import make_progress
from rltf.evaluation.generation import generate_programs, sampling_settings
from rltf.evaluation.records import (
    JsonlAppender,
    Key,
    ProgramRow,
    ResultRow,
    read_programs,
    read_results,
)
from rltf.evaluation.report import EvalReport, build_report, write_report
from rltf.records import JSON, Problem, Verdict

if TYPE_CHECKING:  # heavy imports (torch, transformers) only when a policy is actually used
    from rltf.execution import ExecutionConfig, ExecutionPool
    from rltf.policy import GenerationConfig, Policy

log = logging.getLogger(__name__)

PROGRAMS_FILE = "programs.jsonl"
RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"


# ------------------------------------------------------------------------------------------------
# execution


def execute_programs(
    rows: Sequence[ProgramRow],
    problems: Mapping[str, Problem],
    pool: ExecutionPool,
    *,
    on_result: Callable[[ResultRow], None] | None = None,
    progress: bool = True,
) -> list[ResultRow]:
    """Run each program in eval mode (stop at the first failing test); results in input order.
    ``on_result`` sees each result as it completes. A future that raises (the pool itself broke)
    becomes a ``sandbox_error`` verdict instead of aborting the whole evaluation."""
    futures: dict[Future[Verdict], int] = {
        pool.submit(problems[r.problem_id], r.program, mode="eval"): i for i, r in enumerate(rows)
    }
    results: list[ResultRow | None] = [None] * len(rows)
    counts = {"passed": 0, "errors": 0}
    with make_progress() as bar:
        task = bar.add_task("executing", total=len(rows), status="", visible=progress)
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                verdict = fut.result()
            except Exception as e:  # the pool is supposed to return sandbox_error itself
                log.error("execution of %s failed: %s: %s", rows[i].key, type(e).__name__, e)
                verdict = Verdict("sandbox_error", notes=(f"{type(e).__name__}: {e}",))
            result = ResultRow(rows[i], verdict)
            results[i] = result
            counts["passed"] += verdict.outcome == "passed"
            counts["errors"] += verdict.outcome == "sandbox_error"
            if on_result is not None:
                on_result(result)
            bar.update(task, advance=1, status=f"passed {counts['passed']}")
    if counts["errors"]:
        log.warning(
            "%d sandbox error(s): counted as not passed, retried on a rerun", counts["errors"]
        )
    return [r for r in results if r is not None]


# ------------------------------------------------------------------------------------------------
# the whole evaluation


@dataclass(frozen=True)
class RunSettings:
    """What identifies an evaluation run; a resumed run must match (n and ks may change)."""

    dataset: str
    model: str | None
    sampling: Mapping[str, JSON]
    seed: int | None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "sampling": dict(self.sampling),
            "seed": self.seed,
        }


def _model_key(model: JSON) -> JSON:
    """A local model directory by its resolved path (``runs/x`` and ``/abs/runs/x`` are one
    model), anything else (a hub or registry name) as given."""
    if isinstance(model, str) and Path(model).exists():
        return str(Path(model).resolve())
    return model


def _check_run_file(path: Path, settings: RunSettings) -> None:
    current = settings.to_dict()
    current["model"] = _model_key(current["model"])
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ConfigError(
                str(path), "", f"invalid JSON ({e.msg}); delete it to start over"
            ) from None
        previous["model"] = _model_key(previous.get("model"))
        for key, value in current.items():
            if previous.get(key) != value:
                raise ConfigError(
                    str(path),
                    key,
                    f"this output directory holds a run with {key}={previous.get(key)!r}, now "
                    f"{value!r}; use a fresh --out-dir (or delete it) to start over",
                )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")


def evaluate(
    problems: Sequence[Problem],
    *,
    out_dir: str | Path,
    n: int,
    ks: Sequence[int],
    dataset: str,
    policy: Policy | Callable[[], Policy] | None = None,
    programs: Sequence[ProgramRow] | None = None,
    gen: GenerationConfig | None = None,
    model: str | None = None,
    prompt_style: str = "auto",
    seed: int | None = 0,
    pool: ExecutionPool | None = None,
    workers: int | None = None,
    exec_config: ExecutionConfig | None = None,
    plots: bool = True,
    progress: bool = True,
) -> EvalReport:
    """Evaluate ``policy`` (sampling n programs per problem; a Policy or a zero-argument loader,
    called only if something is left to generate) or given ``programs`` on ``problems``;
    resumable in ``out_dir`` (see the module doc). Writes ``report.json``, ``report.md`` and, with
    ``plots``, ``pass_at_k.png`` and ``outcomes.png``. ``pool``: an open ExecutionPool to use
    (else one is created with ``workers`` and ``exec_config`` and closed at the end).
    Timings cover the work done by this call (cached samples cost nothing)."""
    if (policy is None) == (programs is None):
        raise ValueError("evaluate: give exactly one of policy= or programs=")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = Path(out_dir)
    by_id = {p.id: p for p in problems}
    t_start = time.perf_counter()

    if policy is not None:
        if gen is None:
            raise ValueError("evaluate: gen= (GenerationConfig) is required with policy=")
        sampling = sampling_settings(gen, prompt_style)
    else:
        sampling = {}
    _check_run_file(out / RUN_FILE, RunSettings(dataset, model, sampling, seed))
    cached = read_results(out / RESULTS_FILE, by_id)

    # 1. programs: given, or generated (resuming from out_dir/programs.jsonl)
    t_gen = time.perf_counter()
    if policy is not None:
        assert gen is not None
        programs_path = out / PROGRAMS_FILE
        have = (
            {r.key: r for r in read_programs(programs_path, by_id)}
            if programs_path.exists()
            else {}
        )
        with JsonlAppender(programs_path) as sink:
            generate_programs(
                policy,
                problems,
                n=n,
                gen=gen,
                prompt_style=prompt_style,
                seed=seed,
                done=have,
                on_row=lambda row: sink.write(row.to_dict()),
                progress=progress,
            )
        rows = read_programs(programs_path, by_id)
    else:
        assert programs is not None
        rows = list(programs)
    generation_s = time.perf_counter() - t_gen
    _check_rows(rows, by_id)
    rows = [r for r in rows if r.index < n]

    # 2. execution of what has no cached verdict
    for r in rows:
        hit = cached.get(r.key)
        if hit is not None and hit.sample.program != r.program:
            raise ConfigError(
                str(out / RESULTS_FILE),
                "program",
                f"the cached result for {r.key} is for a different program; "
                "use a fresh --out-dir for a different programs file",
            )
    todo = [r for r in rows if r.key not in cached]
    log.info("%d samples: %d cached, %d to execute", len(rows), len(rows) - len(todo), len(todo))
    t_exec = time.perf_counter()
    fresh: list[ResultRow] = []
    if todo:
        with JsonlAppender(out / RESULTS_FILE) as sink:

            def keep(result: ResultRow) -> None:
                if result.verdict.outcome != "sandbox_error":
                    sink.write(result.to_dict())

            fresh = _with_pool(
                pool,
                workers,
                exec_config,
                lambda p: execute_programs(todo, by_id, p, on_result=keep, progress=progress),
            )
    execution_s = time.perf_counter() - t_exec

    results = [cached[r.key] for r in rows if r.key in cached] + fresh
    timings = {
        "generation": round(generation_s, 3),
        "execution": round(execution_s, 3),
        "total": round(time.perf_counter() - t_start, 3),
    }
    report = build_report(
        problems,
        results,
        n=n,
        ks=ks,
        dataset=dataset,
        model=model,
        sampling=sampling,
        seed=seed,
        timings=timings,
    )
    write_report(report, out)
    if plots:
        from rltf.evaluation.plots import plot_report

        plot_report(report, out)
    return report


def _check_rows(rows: Sequence[ProgramRow], by_id: Mapping[str, Problem]) -> None:
    seen: set[Key] = set()
    for r in rows:
        if r.problem_id not in by_id:
            raise ValueError(f"program for unknown problem id {r.problem_id!r}")
        if r.key in seen:
            raise ValueError(f"two programs for sample {r.key}")
        seen.add(r.key)


def _with_pool(
    pool: ExecutionPool | None,
    workers: int | None,
    config: ExecutionConfig | None,
    work: Callable[[ExecutionPool], Any],
) -> Any:
    if pool is not None:
        return work(pool)
    from rltf.execution import ExecutionConfig, ExecutionPool

    with ExecutionPool(workers=workers, config=config or ExecutionConfig()) as own:
        return work(own)


def evaluate_policy(
    policy: Policy,
    problems: Sequence[Problem],
    n: int,
    ks: Sequence[int],
    gen: GenerationConfig,
    pool: ExecutionPool,
    *,
    prompt_style: str = "auto",
    seed: int | None = 0,
    dataset: str = "",
    model: str | None = None,
    progress: bool = False,
) -> EvalReport:
    """In-memory evaluation (no files): for the training loop's periodic eval and the demo."""
    t0 = time.perf_counter()
    rows = generate_programs(
        policy, problems, n=n, gen=gen, prompt_style=prompt_style, seed=seed, progress=progress
    )
    t1 = time.perf_counter()
    results = execute_programs(rows, {p.id: p for p in problems}, pool, progress=progress)
    t2 = time.perf_counter()
    return build_report(
        problems,
        results,
        n=n,
        ks=ks,
        dataset=dataset,
        model=model,
        sampling=sampling_settings(gen, prompt_style),
        seed=seed,
        timings={"generation": t1 - t0, "execution": t2 - t1, "total": t2 - t0},
    )
