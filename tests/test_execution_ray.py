"""The Ray backend (issue 16): the local pool's verdicts, HumanEval through `rltf execute --backend
ray`, a node lost mid-batch on a 2-node local cluster, clear errors, and no Ray process left."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before Ray is imported: its nodes report 127.0.0.1, so test clusters listen on loopback only.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray")

from rltf.execution import ExecutionConfig, ExecutionPool  # noqa: E402
from rltf.execution.ray_pool import RayBackendError, RayExecutionPool  # noqa: E402
from rltf.records import Problem, Verdict  # noqa: E402

pytestmark = [  # every test here is bounded: a hang fails, never blocks
    pytest.mark.timeout(240),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

CFG = ExecutionConfig(timeout_per_test=1.0, timeout_per_program=3.0)
ROOT = Path(__file__).parent.parent
_spec = importlib.util.spec_from_file_location(
    "rltf_test_ray_attacks", Path(__file__).parent / "fixtures" / "execution" / "attacks.py"
)
assert _spec is not None and _spec.loader is not None
attacks = importlib.util.module_from_spec(_spec)  # the adversarial suite's programs
_spec.loader.exec_module(attacks)
ATTACKS = (  # ones that need no sentinel file, socket or PID namespace of the suite's runner
    "sys_exit_stdio",
    "os_exit_stdio",
    "exit_in_call",
    "eq_override_call",
    "eq_override_assert",
    "patched_builtins",
    "patched_harness",
    "segfault",
    "recursion_bomb",
    "memory_bomb",
    "ignore_signals",
)


SLOW = "import time\ntime.sleep(0.4)\na, b = map(int, input().split())\nprint(a + b{})\n"


def add_problem(kind: str = "stdio") -> Problem:
    tests: dict[str, Any]
    if kind == "stdio":
        cases = [{"input": "1 2\n", "output": "3\n"}, {"input": "2 2\n", "output": "4\n"}]
        tests = {"type": "stdio", "cases": cases}
    else:
        tests = {"type": "call", "fn_name": "add", "cases": [{"args": [1, 2], "expected": 3}]}
    return Problem.from_dict({"id": f"add-{kind}", "prompt": "", "tests": tests})


def mixed_jobs() -> list[tuple[Problem, str]]:
    stdio, call = add_problem("stdio"), add_problem("call")
    jobs = [
        (stdio, "a, b = map(int, input().split())\nprint(a + b)\n"),  # passed
        (stdio, "a, b = map(int, input().split())\nprint(a * b if a == 1 else a + b)\n"),
        (stdio, "print([][1])\n"),  # runtime_error
        (stdio, "print(\n"),  # compile_error
        (stdio, "while True:\n    pass\n"),  # timeout
        (call, "def add(a, b):\n    return a + b\n"),
        (call, "def add(a, b):\n    return a - b\n"),
        (call, "def add(a, b):\n    return 1 / 0\n"),
    ]
    tmp = "/tmp/rltf-ray-test-none"
    programs = attacks.attacks(tmp, tmp + "/s", tmp + "/a", 1)
    problems = {k: attacks.problem(k) for k in ("stdio", "call", "assert")}
    for name in ATTACKS:
        kind, program = programs[name]
        jobs.append((attacks.attack_problem(name, kind, problems), program))
    return jobs


def comparable(v: Verdict) -> dict[str, Any]:
    """A verdict without its timings (the same program takes different times on two runs)."""
    d = v.to_dict()
    d["tests"] = [{k: t[k] for k in t if k != "seconds"} for t in d["tests"]]  # type: ignore[union-attr]
    return d


def ray_processes() -> set[int]:
    """Pids of Ray's own processes (raylet, GCS, workers, agents) on this machine, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            name = Path(f"/proc/{entry}/comm").read_text().strip()
            args = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # exited meanwhile
        ours = name.startswith(("ray::", "raylet", "gcs_server")) or "/ray/" in args
        if ours and not _zombie(int(entry)):
            found.add(int(entry))
    return found


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pids: set[int], seconds: float = 30.0) -> set[int]:
    """The pids still alive after up to ``seconds`` (Ray stops its processes asynchronously)."""
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in alive if not _zombie(p)}
    return alive


@pytest.fixture(scope="module")
def baseline() -> set[int]:
    """Ray processes that are not ours (another job's Ray): never counted as left behind."""
    return ray_processes()


@pytest.fixture(scope="module")
def local_ray(baseline: set[int]) -> Iterator[RayExecutionPool]:
    with RayExecutionPool(config=CFG, num_cpus=2) as pool:
        yield pool
    assert not wait_gone(ray_processes() - baseline), "a Ray process outlived close()"


def test_same_verdicts_as_the_local_pool(local_ray: RayExecutionPool) -> None:
    jobs = mixed_jobs()
    with ExecutionPool(workers=2, config=CFG) as local:
        expected = local.run_batch(jobs)
    got = local_ray.run_batch(jobs)
    outcomes = {v.outcome for v in expected}
    assert {"passed", "failed", "runtime_error", "compile_error", "timeout"} <= outcomes
    assert "sandbox_error" not in outcomes
    for (problem, program), e, g in zip(jobs, expected, got, strict=True):
        assert comparable(g) == comparable(e), (problem.id, program)
    assert local_ray.isolation and set(local_ray.isolation) == set(expected[0].isolation)


def test_async_submission_with_back_pressure_keeps_input_order(
    local_ray: RayExecutionPool,
) -> None:
    problem = add_problem("call")
    programs = [f"def add(a, b):\n    return a + b + {i % 3}\n" for i in range(60)]
    local_ray._max_in_flight = 8  # tiny, so that submit must wait for results
    try:
        local_ray.stats["peak"] = 0
        futures = [local_ray.submit(problem, p, mode="eval") for p in programs]
        assert local_ray.stats["peak"] == 8  # submit waited for results instead of queueing
        verdicts = [f.result(timeout=120) for f in futures]
    finally:
        local_ray._max_in_flight = max(64, 4 * local_ray.workers)
    assert [v.outcome for v in verdicts] == [
        "passed" if i % 3 == 0 else "failed" for i in range(60)
    ]
    with pytest.raises(ValueError, match="mode"):
        local_ray.submit(problem, programs[0], mode="bogus")  # type: ignore[arg-type]


def test_humaneval_solutions_through_the_cli(tmp_path: Path, baseline: set[int]) -> None:
    """164/164 with a private local Ray that the command starts and stops; none of its
    processes is left afterwards."""
    out = tmp_path / "he.jsonl"
    cmd = [sys.executable, "-m", "rltf", "execute", "--dataset", "humaneval", "--solutions"]
    cmd += ["--out", str(out), "--backend", "ray", "--workers", "2"]
    before = ray_processes()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 164 and all(row["outcome"] == "passed" for row in rows)
    assert "pass rate 100.0%" in r.stdout
    assert not wait_gone(ray_processes() - before - baseline), "the CLI left a Ray process"


def test_unreachable_address_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(RayBackendError, match="cannot reach a Ray cluster"):
            RayExecutionPool(address=f"127.0.0.1:{port}", connect_timeout=2)
        with pytest.raises(RayBackendError, match="HOST:PORT"):
            RayExecutionPool(address="no-port-here", connect_timeout=2)
    with socket.socket() as s:  # listening, but not a Ray head
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(RayBackendError, match="not a Ray head"):
            RayExecutionPool(address=f"127.0.0.1:{s.getsockname()[1]}", connect_timeout=2)
    assert time.monotonic() - start < 30


def test_cli_rejects_an_unreachable_address(capsys: pytest.CaptureFixture[str]) -> None:
    from rltf.cli import main

    data = ROOT / "tests" / "fixtures" / "execution" / "problems.jsonl"
    args = ["execute", "--dataset", f"jsonl:{data}", "--solutions", "--out", os.devnull]
    assert main([*args, "--backend", "ray", "--ray-address", "127.0.0.1:1"]) == 2
    assert "cannot reach a Ray cluster at 127.0.0.1:1" in capsys.readouterr().err
    assert main([*args, "--ray-address", "127.0.0.1:1"]) == 2  # without --backend ray


def test_a_killed_actor_without_retries_is_a_sandbox_error_then_replaced(
    local_ray: RayExecutionPool,
) -> None:
    """No retries left: the jobs of the lost chunks get sandbox_error (never a guess); the pool
    starts a new actor on the still-alive node and serves the next jobs."""
    problem = add_problem("stdio")
    jobs = [(problem, SLOW.format("")) for _ in range(4)]
    local_ray._max_retries = 0
    try:
        futures = [local_ray.submit(p, prog) for p, prog in jobs]
        time.sleep(1.0)  # the chunks are on the actor
        (actor,) = [a for a in local_ray._actors if a.alive]
        ray.kill(actor.handle, no_restart=True)
        verdicts = [f.result(timeout=60) for f in futures]
    finally:
        local_ray._max_retries = 2
    lost = [v for v in verdicts if v.outcome == "sandbox_error"]
    assert lost and all(v.outcome in ("passed", "sandbox_error") for v in verdicts)
    assert all(v.error is not None and "ActorDiedError" in v.error.message for v in lost)
    assert local_ray.stats["lost_actors"] >= 1
    after = local_ray.run_batch([(problem, SLOW.format(""))] * 2)
    assert [v.outcome for v in after] == ["passed", "passed"] and local_ray.nodes == 1


@pytest.mark.slow
def test_a_node_lost_mid_batch_costs_retries_never_a_wrong_verdict(
    baseline: set[int], local_ray: RayExecutionPool
) -> None:
    from ray.cluster_utils import Cluster

    local_ray.close()  # this test's driver connects to its own cluster instead
    loopback = {"node_ip_address": "127.0.0.1", "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, **loopback})
    try:
        cluster.add_node(num_cpus=1, **loopback)
        doomed = cluster.add_node(num_cpus=1, **loopback)
        problem = add_problem("stdio")
        jobs = [(problem, SLOW.format("" if i % 2 else " + 1")) for i in range(24)]
        with RayExecutionPool(address=cluster.address, config=CFG, chunk_size=2) as pool:
            assert pool.nodes == 2 and pool.workers == 2
            futures = [pool.submit(p, prog) for p, prog in jobs]
            deadline = time.monotonic() + 60
            while sum(f.done() for f in futures) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            killer = threading.Thread(target=cluster.remove_node, args=(doomed, False))
            killer.start()  # mid-batch: some chunks are running on the doomed node now
            verdicts = [f.result(timeout=150) for f in futures]
            killer.join(timeout=60)
            assert pool.nodes == 1 and pool.stats["lost_actors"] == 1
            assert pool.stats["retried_chunks"] >= 1  # chunks were running there: sent again
            print(f"after the node loss: {pool.stats}")
        for i, v in enumerate(verdicts):
            assert v.outcome in ("passed" if i % 2 else "failed", "sandbox_error"), (i, v)
            if v.outcome == "sandbox_error":
                assert v.error is not None and "Ray execution failed" in v.error.message
        assert sum(v.outcome != "sandbox_error" for v in verdicts) >= 20  # retried, mostly
    finally:
        cluster.shutdown()
    assert not wait_gone(ray_processes() - baseline), "a Ray process outlived the cluster"
