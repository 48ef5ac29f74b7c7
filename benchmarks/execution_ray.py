"""Per-program overhead of the Ray execution backend over the local pool, on the same programs.

    nice -n 19 .venv/bin/python benchmarks/execution_ray.py --workers 2

Both run the same programs with the same number of sandbox workers on this machine: the local
``ExecutionPool``, and a ``RayExecutionPool`` on a private one-node local Ray (its one actor wraps
the same local pool). Two workloads: trivial programs (one call-based test: the per-program cost
is almost all overhead) and HumanEval's 164 canonical solutions (real tests). For each: wall time
per program and CPU per program split by process (driver, Ray's own processes, the actor, the
sandbox), read from /proc through psutil, and the Ray/local ratio. Verdict outcomes must agree.

From the measured per-item costs it prints an on-paper estimate of throughput with N nodes: each
node adds ``workers / node_cpu_per_program`` programs/s until the driver, which spends
``driver_cpu_per_program`` on each, saturates (this machine has 2 cores; nothing here measures
more than one node). Ray's own processes are counted on both sides, which makes it conservative.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from rltf.execution import ExecutionConfig, ExecutionPool
from rltf.execution.ray_pool import RayExecutionPool
from rltf.records import Problem, Verdict
from rltf.tasks import load_dataset

CFG = ExecutionConfig(timeout_per_test=4.0, timeout_per_program=20.0)
TRIVIAL = Problem.from_dict(
    {
        "id": "one",
        "prompt": "",
        "tests": {"type": "call", "fn_name": "f", "cases": [{"args": [], "expected": 1}]},
    }
)


def cpu_seconds(p: psutil.Process) -> float:
    """User + system CPU of a process and of its reaped children (forked programs)."""
    try:
        t = p.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system + t.children_user + t.children_system


def cpu_by_group(groups: Callable[[], dict[str, list[psutil.Process]]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for p in procs) for name, procs in groups().items()}


@dataclass
class Run:
    wall: float
    cpu: dict[str, float]
    outcomes: list[str]


def timed(
    run_batch: Callable[[Sequence[tuple[Problem, str]]], list[Verdict]],
    jobs: Sequence[tuple[Problem, str]],
    groups: Callable[[], dict[str, list[psutil.Process]]],
) -> Run:
    run_batch(jobs[: min(len(jobs), 32)])  # warm: every worker started, problems cached
    # Processes are listed before and after: a group's members do not change during a batch.
    before = cpu_by_group(groups)
    start = time.perf_counter()
    verdicts = run_batch(jobs)
    wall = time.perf_counter() - start
    after = cpu_by_group(groups)
    return Run(wall, {k: after[k] - before[k] for k in after}, [v.outcome for v in verdicts])


def local_groups(pool: ExecutionPool) -> Callable[[], dict[str, list[psutil.Process]]]:
    def groups() -> dict[str, list[psutil.Process]]:
        # The pool's own workers and their zygotes, not the (idle) Ray processes beside them.
        workers = [psutil.Process(s.proc.pid) for s in pool._slots if s.proc is not None]
        sandbox = workers + [c for w in workers for c in w.children(recursive=True)]
        return {"driver": [psutil.Process()], "sandbox": sandbox}

    return groups


def ray_groups(actor_pids: list[int]) -> Callable[[], dict[str, list[psutil.Process]]]:
    def groups() -> dict[str, list[psutil.Process]]:
        me = psutil.Process()
        actors = [psutil.Process(pid) for pid in actor_pids]
        sandbox = [c for a in actors for c in a.children(recursive=True)]
        mine = {p.pid for p in [*actors, *sandbox]}
        ray_own = [p for p in me.children(recursive=True) if p.pid not in mine]
        return {"driver": [me], "ray": ray_own, "actor": actors, "sandbox": sandbox}

    return groups


def workloads(n_trivial: int) -> dict[str, list[tuple[Problem, str]]]:
    humaneval = load_dataset("humaneval")
    return {
        "trivial": [
            (TRIVIAL, f"def f():\n    return {1 if i % 2 else 2}\n") for i in range(n_trivial)
        ],
        "humaneval": [(p, s) for p in humaneval for s in p.solutions],
    }


def report(name: str, n: int, local: Run, ray: Run) -> dict[str, Any]:
    ms = 1000 / n
    print(f"\n{name}: {n} programs")
    print(f"{'backend':8s} {'programs/s':>10s} {'wall ms/prog':>12s} {'CPU ms/prog':>11s}  split")
    for label, r in (("local", local), ("ray", ray)):
        split = ", ".join(f"{k} {v * ms:.2f}" for k, v in r.cpu.items())
        total = sum(r.cpu.values()) * ms
        print(f"{label:8s} {n / r.wall:10.1f} {r.wall * ms:12.2f} {total:11.2f}  {split}")
    ratio = ray.wall / local.wall
    cpu_ratio = sum(ray.cpu.values()) / max(sum(local.cpu.values()), 1e-9)
    mismatches = sum(a != b for a, b in zip(local.outcomes, ray.outcomes, strict=True))
    print(f"ray/local: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x; outcome mismatches: {mismatches}")
    return {"ratio": ratio, "ray": ray, "local": local, "n": n, "mismatches": mismatches}


def estimate(workers: int, r: dict[str, Any]) -> None:
    """Throughput with N nodes of ``workers`` CPUs each, from the per-program costs measured."""
    ray: Run = r["ray"]
    n = r["n"]
    # Ray's own processes (raylet, GCS) serve both sides here, on one node; on a cluster their
    # work splits between the driver's node and the executing one. Counted on both: conservative.
    node_cpu = (ray.cpu["actor"] + ray.cpu["sandbox"] + ray.cpu["ray"]) / n
    driver_cpu = (ray.cpu["driver"] + ray.cpu["ray"]) / n  # once per program, for all nodes
    per_node = workers / node_cpu
    ceiling = 1 / driver_cpu
    print(
        f"\non paper (humaneval programs, {workers} CPUs per node): a node costs "
        f"{node_cpu * 1000:.2f} ms CPU per program -> {per_node:.0f} programs/s per node; the "
        f"driver {driver_cpu * 1000:.2f} ms -> ceiling {ceiling:.0f} programs/s"
    )
    for nodes in (1, 2, 4, 8, 16, 32):
        print(f"  {nodes:3d} nodes: ~{min(nodes * per_node, ceiling):7.0f} programs/s")


def median_run(runs: list[Run]) -> Run:
    """The median wall time; CPU summed over the repeats and divided back (ticks are 10 ms)."""
    walls = sorted(r.wall for r in runs)
    cpu = {k: sum(r.cpu[k] for r in runs) / len(runs) for k in runs[0].cpu}
    return Run(walls[len(walls) // 2], cpu, runs[0].outcomes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--trivial", type=int, default=600, help="number of trivial programs")
    ap.add_argument("--repeats", type=int, default=5, help="local/ray runs, interleaved")
    ap.add_argument("--chunk-size", type=int, default=8)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} CPUs")
    jobs = workloads(args.trivial)
    start = time.perf_counter()
    with (
        RayExecutionPool(
            config=CFG,
            num_cpus=args.workers,
            workers_per_node=args.workers,
            chunk_size=args.chunk_size,
        ) as rpool,
        ExecutionPool(workers=args.workers, config=CFG) as pool,
    ):
        print(f"local Ray + actor + local pool start: {time.perf_counter() - start:.1f} s")
        import ray

        pids = ray.get([a.handle.pid.remote() for a in rpool._actors], timeout=60)
        # Interleaved, order alternating: the neighbours' load drifts during a run, and both
        # backends should see the same drift. Both pools stay up; the idle one costs nothing.
        runs: dict[tuple[str, str], list[Run]] = {}
        for rep in range(args.repeats):
            for name, js in jobs.items():
                order = [("local", pool.run_batch), ("ray", rpool.run_batch)]
                for label, run_batch in order if rep % 2 == 0 else order[::-1]:
                    groups = local_groups(pool) if label == "local" else ray_groups(pids)
                    runs.setdefault((name, label), []).append(timed(run_batch, js, groups))
    results = {
        name: report(name, len(js), median_run(runs[name, "local"]), median_run(runs[name, "ray"]))
        for name, js in jobs.items()
    }
    estimate(args.workers, results["humaneval"])
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
