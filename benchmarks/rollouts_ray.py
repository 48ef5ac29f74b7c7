"""Rollout throughput: the local actor thread vs 1 and 2 Ray rollout actors, in one run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rollouts_ray.py --model runs/demo/sft/final

The demo preset's rollout settings (8 problems x 8 samples a round, T = 0.6, 128 new tokens),
weights fixed (no learner: this measures the actors alone). Each configuration gets the same
compute per actor: 1 torch thread and 1 sandbox worker. ``local`` is rltf's ActorThread in this
process; ``ray-1`` and ``ray-2`` run 1 and 2 rollout actors on a local two-node
``ray.cluster_utils.Cluster`` (1 CPU per node, loopback), the driver only collecting. The first
round of every actor is a warm-up and not counted. Prints samples/s and programs executed/s of
each and the ratios to ``local``, and, from the per-round time of one actor, the on-paper
throughput with N nodes (this machine has 2 cores: nothing here measures more than two actors).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import tempfile
import time
from pathlib import Path
from typing import Any

# Before Ray is imported: the local cluster's nodes report 127.0.0.1 (loopback only).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from rltf.config import from_dict
from rltf.demo import PRESETS, deep_merge
from rltf.execution import ExecutionPool
from rltf.training.actor import Actor, ActorThread, RoundReport, WeightSlot
from rltf.training.config import TrainConfig
from rltf.training.loop import TrainingRun, _ray_rollouts


def config(model: str | None, run_dir: Path, cluster: dict[str, Any]) -> TrainConfig:
    preset = PRESETS["tiny"].train
    overrides: dict[str, Any] = {
        "run_dir": str(run_dir),
        "loop": {"synchronous": False, "deterministic": False, "torch_threads": 1},
        "metrics": {"tensorboard": False, "progress": False},
        "cluster": cluster,
    }
    if model:
        overrides["policy"] = {"model": model}
    return from_dict(TrainConfig, deep_merge(preset, overrides), "rollouts benchmark")


def measure(args: argparse.Namespace, label: str, address: str | None, actors: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = {"backend": "local"}
        if actors:
            cluster = {
                "backend": "ray",
                "address": address,
                "rollout_actors": actors,
                "exec_workers_per_actor": 1,
            }
        cfg = config(args.model, Path(tmp) / "run", cluster)
        run = TrainingRun(cfg, resume=False, overwrite=True)
        reports: queue.Queue[RoundReport] = queue.Queue()
        pool = ExecutionPool(workers=1, config=cfg.execution) if not actors else None
        k = cfg.loop.samples_per_problem
        actor = Actor(
            run.actor_policy, pool, run.prompts, cfg.generation, k, cfg.rewards, run.clock
        )
        problems = lambda: run.rl_sampler.next(cfg.loop.problems_per_round)  # noqa: E731
        thread: Any
        if actors:
            thread = _ray_rollouts(run, actor, WeightSlot(), reports)
        else:
            thread = ActorThread(actor, problems, run.buffer, WeightSlot(), reports)
        thread.start()
        try:
            for _ in range(max(1, actors)):  # warm-up rounds: one per actor
                reports.get(timeout=600)
            t0, samples, programs = time.perf_counter(), 0, 0
            for _ in range(args.rounds):
                r = reports.get(timeout=600)
                samples, programs = samples + len(r.scored), programs + r.programs
            wall = time.perf_counter() - t0
        finally:
            thread.stop(timeout=120)
            if pool is not None:
                pool.close()
    row = {"config": label, "rounds": args.rounds, "wall_s": round(wall, 2)}
    row |= {"samples_per_s": samples / wall, "programs_per_s": programs / wall}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a Hugging Face directory (default: a fresh tiny model)")
    ap.add_argument("--rounds", type=int, default=8, help="rounds timed per configuration")
    ap.add_argument("--out", default="runs/benchmarks/rollouts_ray.json")
    args = ap.parse_args()
    from ray.cluster_utils import Cluster

    loopback = {"node_ip_address": "127.0.0.1", "include_dashboard": False}
    rows = [measure(args, "local", None, 0)]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, **loopback})
    try:
        cluster.add_node(num_cpus=1, **loopback)
        rows.append(measure(args, "ray-1", cluster.address, 1))
        rows.append(measure(args, "ray-2", cluster.address, 2))
    finally:
        cluster.shutdown()
    base = rows[0]["samples_per_s"]
    print(f"\n{'config':<8} {'samples/s':>10} {'programs/s':>11} {'vs local':>9}")
    for r in rows:
        ratio = r["samples_per_s"] / base
        print(
            f"{r['config']:<8} {r['samples_per_s']:>10.1f} {r['programs_per_s']:>11.1f} {ratio:>8.2f}x"
        )
    one = rows[1]["samples_per_s"]
    scaling = rows[2]["samples_per_s"] / (2 * one)
    print(f"\n2 actors reach {scaling:.0%} of twice one actor's throughput on this machine.")
    print("On paper, one actor per node (each with its own cores), the driver only collecting:")
    for n in (1, 4, 16, 64):
        print(f"  {n:>3} nodes: ~{n * one:.0f} samples/s (one actor's rate x nodes)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "args": vars(args)}, indent=1))


if __name__ == "__main__":
    main()
