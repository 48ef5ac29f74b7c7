"""`rltf execute`: run programs (or reference solutions) in the sandbox, one Verdict per line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rltf.records import Problem, RecordError, Verdict

if TYPE_CHECKING:
    from rltf.execution import ExecutionConfig, ExecutionPool
    from rltf.execution.ray_pool import RayExecutionPool

HELP = (
    "Run programs (or a dataset's reference solutions) against unit tests in the sandbox and "
    "write one Verdict per program as JSONL."
)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("execute", parents=[common], help=HELP, description=HELP)
    p.add_argument("--dataset", required=True, metavar="SPEC", help="e.g. jsonl:problems.jsonl")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--programs", metavar="FILE", help='JSONL rows {"problem_id": ..., "program": ...}'
    )
    src.add_argument(
        "--solutions", action="store_true", help="run every problem's reference solutions"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="results JSONL (input order)")
    p.add_argument(
        "--workers", type=int, default=None, help="default: the CPU count (with ray: per node)"
    )
    p.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: a sandbox pool on this machine; ray: one sandbox pool per Ray node",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="a running Ray cluster (HOST:PORT of `ray start --head`, or auto); "
        "default: start a local Ray and stop it afterwards",
    )
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds per test")
    p.add_argument(
        "--mode",
        choices=("train", "eval"),
        default="train",
        help="train runs every test; eval stops at the first failing one",
    )
    p.set_defaults(func=run)


def read_programs(path: Path, problems: dict[str, Problem]) -> list[tuple[Problem, str, int]]:
    """Program rows, validated: a bad row is an error naming the file, line and field."""
    jobs: list[tuple[Problem, str, int]] = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecordError(where, "<record>", f"invalid JSON: {e.msg}") from None
            if not isinstance(row, dict):
                raise RecordError(where, "<record>", "expected a JSON object")
            for key in ("problem_id", "program"):
                if not isinstance(row.get(key), str):
                    raise RecordError(where, key, "missing" if key not in row else "expected str")
            if row["problem_id"] not in problems:
                raise RecordError(where, "problem_id", f"unknown problem {row['problem_id']!r}")
            jobs.append((problems[row["problem_id"]], row["program"], len(jobs)))
    return jobs


def summary(verdicts: Sequence[Verdict], seconds: float) -> str:
    counts = Counter(v.outcome for v in verdicts)
    n = len(verdicts)
    lines = [f"{'outcome':15s} {'programs':>9s} {'share':>7s}"]
    for outcome in (
        "passed",
        "failed",
        "runtime_error",
        "compile_error",
        "timeout",
        "sandbox_error",
    ):
        c = counts.get(outcome, 0)
        lines.append(f"{outcome:15s} {c:9d} {c / max(n, 1):7.1%}")
    # Errors as the fine-grained feedback sees them (DESIGN.md §3): type and category; the line
    # of each error is in its result row.
    errors = Counter((v.error.type, v.error.category) for v in verdicts if v.error is not None)
    if errors:
        lines.append(f"{'error':22s} {'category':>8s} {'programs':>9s}")
        for (etype, category), c in errors.most_common():
            lines.append(f"{etype:22s} {category:>8s} {c:9d}")
    tests = sum(v.total for v in verdicts)
    passed = sum(v.passed for v in verdicts)
    lines.append(
        f"pass rate {counts.get('passed', 0) / max(n, 1):.1%} of programs, "
        f"{passed / max(tests, 1):.1%} of tests; {n / max(seconds, 1e-9):.1f} programs/s"
    )
    return "\n".join(lines)


def make_pool(
    backend: str, workers: int | None, config: ExecutionConfig, address: str | None
) -> ExecutionPool | RayExecutionPool:
    """The local sandbox pool, or the Ray one (one local pool per node, same interface)."""
    if backend == "ray":
        from rltf.execution.ray_pool import RayExecutionPool

        return RayExecutionPool(address=address, config=config, workers_per_node=workers)
    from rltf.execution import ExecutionPool

    return ExecutionPool(workers=workers, config=config)


def run(args: argparse.Namespace) -> int:
    from rltf.execution import ExecutionConfig
    from rltf.tasks import load_dataset

    problems = load_dataset(args.dataset)
    by_id = {p.id: p for p in problems}
    if args.solutions:
        jobs = [(p, s, i) for p in problems for i, s in enumerate(p.solutions)]
    else:
        jobs = read_programs(Path(args.programs), by_id)
    config = ExecutionConfig()
    if args.timeout is not None:
        if args.timeout <= 0:
            raise RecordError("--timeout", "timeout", "must be positive")
        config = ExecutionConfig(
            timeout_per_test=args.timeout,
            timeout_per_program=max(config.timeout_per_program, args.timeout),
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.ray_address is not None and args.backend != "ray":
        raise RecordError("--ray-address", "backend", "needs --backend ray")
    try:
        pool = make_pool(args.backend, args.workers, config, args.ray_address)
    except RuntimeError as e:  # RayBackendError: Ray missing, address unreachable, no node
        print(f"rltf execute: error: {e}", file=sys.stderr)
        return 2
    start = time.monotonic()
    verdicts: list[Verdict] = []
    with pool, out.open("w") as f:
        futures = [pool.submit(p, program, args.mode) for p, program, _ in jobs]
        # In input order, each row written (and flushed) as soon as it and all before it are
        # done: an interrupted run keeps a complete prefix.
        for (problem, _, index), future in zip(jobs, futures, strict=True):
            verdict = future.result()
            verdicts.append(verdict)
            row = {"problem_id": problem.id, "index": index, **verdict.to_dict()}
            f.write(json.dumps(row) + "\n")
            f.flush()
    print(summary(verdicts, time.monotonic() - start))
    return 0
