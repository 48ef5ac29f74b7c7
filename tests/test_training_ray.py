"""Rollouts on Ray (cluster.rollout_actors): a whole tiny-model run with 2 rollout actors on a
2-node local cluster, a rollout actor killed mid-run, a cluster too small for the actors, and
the distributed execution pool behind the local actor. Every Ray process is stopped afterwards.

Loopback only and bounded in time; the multi-node tests are marked slow (15-30 s each)."""

import json
import queue
import sys
import time
from pathlib import Path

import pytest

from rltf.config import ConfigError, from_dict
from rltf.training.config import TrainConfig
from rltf.training.loop import run_train
from test_execution_ray import ray_processes, wait_gone
from test_training_loop import make_config

pytest.importorskip("ray")
pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

LOOPBACK = {"node_ip_address": "127.0.0.1", "include_dashboard": False}


def ray_config(
    tmp_path: Path, address: str | None, max_staleness: int = 4, **cluster
) -> TrainConfig:
    base = make_config(tmp_path, synchronous=False, deterministic=False, steps=6)
    data = {
        **json.loads(json.dumps(_as_dict(base))),
        "cluster": {
            "backend": "ray",
            "address": address,
            "rollout_actors": 2,
            "start_timeout": 120,
            "round_timeout": 120,
            **cluster,
        },
    }
    data["loop"]["max_staleness"] = max_staleness
    return from_dict(TrainConfig, data)


def _as_dict(cfg: TrainConfig) -> dict:
    from rltf.config import to_dict

    return to_dict(cfg)


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster

    before = ray_processes()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, **LOOPBACK})
    c.add_node(num_cpus=1, **LOOPBACK)
    try:
        yield c
    finally:
        c.shutdown()
        assert not wait_gone(ray_processes() - before), "a Ray process outlived the cluster"


def test_ray_rollouts_need_the_asynchronous_loop(tmp_path: Path) -> None:
    data = _as_dict(make_config(tmp_path))  # synchronous
    data["cluster"] = {"backend": "ray"}
    with pytest.raises(ConfigError, match=r"loop\.synchronous: false"):
        from_dict(TrainConfig, data)
    data["cluster"] = {"backend": "local", "address": "10.0.0.1:6379"}
    with pytest.raises(ConfigError, match="backend: ray"):
        from_dict(TrainConfig, data)
    data["cluster"] = {"backend": "ray", "rollout_actors": 0, "round_timeout": 0}
    with pytest.raises(ConfigError, match="every wait is bounded"):
        from_dict(TrainConfig, data)


@pytest.mark.slow
def test_a_whole_run_with_two_rollout_actors_on_two_nodes(tmp_path: Path, cluster) -> None:
    cfg = ray_config(tmp_path, cluster.address, max_staleness=1)
    assert run_train(cfg) == 0
    rows = [json.loads(x) for x in (Path(cfg.run_dir) / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 6
    rl = [r for r in rows if "loss/rl" in r]
    assert rl, "no RL step trained on the actors' samples"
    summary = json.loads((Path(cfg.run_dir) / "summary.json").read_text())
    assert summary["counts"]["programs"] > 0 and not summary["outcomes"].get("sandbox_error")
    assert (Path(cfg.run_dir) / "final").is_dir()
    # Both actors ran, and the weights reached them: with max_staleness 1 the last steps can
    # only train on samples of version >= 4.
    rounds = summary["ray_rollouts"]
    assert rounds["rounds/actor0"] >= 1 and rounds["rounds/actor1"] >= 1, rounds
    last = rows[-1]
    assert last["staleness/max"] <= 1 and last["step"] - last["actor/version_lag"] >= 4


@pytest.mark.slow
def test_a_rollout_actor_killed_mid_run_is_replaced(tmp_path: Path, cluster) -> None:
    import ray

    from rltf.training.actor import WeightSlot
    from rltf.training.buffer import ReplayBuffer
    from rltf.training.loop import TrainingRun, _ray_rollouts

    cfg = ray_config(tmp_path, cluster.address, max_restarts=1)
    run = TrainingRun(cfg, resume=False, overwrite=False)
    from rltf.training.actor import Actor

    actor = Actor(run.actor_policy, None, run.prompts, cfg.generation, 2, cfg.rewards, run.clock)
    slot, reports = WeightSlot(), queue.Queue()
    rollouts = _ray_rollouts(run, actor, slot, reports)
    assert isinstance(run.buffer, ReplayBuffer)
    rollouts.start()
    try:
        _wait(lambda: sum(v for k, v in rollouts.stats.items() if k.startswith("rounds")) >= 2)
        ray.kill(rollouts._slots[0].handle)
        slot.publish(run.policy.trainable_state(), 1)
        _wait(lambda: rollouts.stats["lost_actors"] == 1)
        done = rollouts.stats["rounds/actor0"]
        _wait(lambda: rollouts.stats["rounds/actor0"] > done)  # the replacement works
        assert rollouts.error is None and rollouts.version == 1
    finally:
        rollouts.stop(timeout=60)
    assert not rollouts.is_alive()
    assert reports.qsize() >= 3


@pytest.mark.slow
def test_a_cluster_too_small_for_the_actors_is_a_clear_error(tmp_path: Path, cluster) -> None:
    cfg = ray_config(tmp_path, cluster.address, rollout_actors=3, start_timeout=15)
    with pytest.raises(RuntimeError, match=r"did not start within 15 s.*rollout_actors"):
        run_train(cfg)


@pytest.mark.slow
def test_the_local_actor_on_the_distributed_execution_pool(
    tmp_path: Path, cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rltf.execution.ray_pool import RayExecutionPool

    submitted = []
    submit = RayExecutionPool.submit
    monkeypatch.setattr(
        RayExecutionPool, "submit", lambda self, *a: submitted.append(a) or submit(self, *a)
    )
    cfg = ray_config(tmp_path, cluster.address, rollout_actors=0, execution_nodes=1)
    assert run_train(cfg) == 0
    summary = json.loads((Path(cfg.run_dir) / "summary.json").read_text())
    assert summary["counts"]["programs"] > 0 and not summary["outcomes"].get("sandbox_error")
    # every program went through Ray (and the greedy baselines, and rounds cut off at the end)
    assert len(submitted) >= summary["counts"]["programs"]


def _wait(cond, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
