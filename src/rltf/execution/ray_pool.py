"""Distributed execution on Ray: one sandboxed ``ExecutionPool`` per node, behind a Ray actor.

    from rltf.execution.ray_pool import RayExecutionPool
    with RayExecutionPool(address="10.0.0.1:6379") as pool:   # None: a private local Ray
        verdicts = pool.run_batch([(problem, program), ...])  # input order

The public interface is ``ExecutionPool``'s (``submit`` -> ``Future[Verdict]``, ``run_batch``,
``close``, a context manager), so callers swap one for the other. Each node runs one actor, and the
actor runs an unchanged local pool sized to the node's CPUs: the fork-server sandbox, its
isolation and its per-worker retry are exactly those of a single machine. Ray adds transport and
placement only; it never sees a program's output or an expected answer (comparison stays in the
node's sandbox workers).

One dispatcher thread in the driver moves submitted jobs into small chunks (one Ray call per
chunk: a call costs about a millisecond, a program a few), sends each chunk to the actor with the
most free capacity, and collects results with ``ray.wait`` in a loop with short timeouts. Submission
blocks once ``max_in_flight`` jobs are unresolved (back-pressure). A chunk whose actor or node is
lost, or that outlives a generous deadline (its actor is then killed as hung), is sent again, up to
``max_retries`` times; after that each of its jobs gets a ``sandbox_error`` verdict naming the
cause. A lost chunk is never answered from anything but a complete, validated reply, so a failure
costs time, never a wrong verdict.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from rltf.execution.config import ExecutionConfig
from rltf.execution.pool import ExecutionPool, Mode, _sandbox_error
from rltf.records import Problem, Verdict

log = logging.getLogger("rltf.execution")

_POLL_S = 0.05  # the dispatcher's longest sleep: bounds the latency of submit -> dispatch
_RPC_TIMEOUT_S = 60.0  # any single control call (ready, close, fetching a finished result)
_REPLACEMENTS_PER_NODE = 2  # new actors started on a node whose actor died while the node lives


class RayBackendError(RuntimeError):
    """The Ray backend could not start: Ray missing, an unreachable address, no usable node."""


@dataclass
class _Job:
    problem: Problem
    program: str
    mode: Mode
    future: Future[Verdict]


@dataclass
class _Chunk:
    jobs: list[_Job]
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    actor: _Actor | None = None
    deadline: float = 0.0


@dataclass
class _Actor:
    handle: Any  # ray.actor.ActorHandle
    node_id: str
    workers: int
    outstanding: int = 0  # jobs sent and not yet answered
    alive: bool = True


class _NodeExecutor:
    """The actor body: a local ExecutionPool on this node. Threaded (``max_concurrency``), so that
    several chunks share the pool's workers and a new chunk is queued while another finishes."""

    def __init__(self, workers: int, config: dict[str, Any]) -> None:
        self.pool = ExecutionPool(workers=workers, config=ExecutionConfig.from_dict(config))

    def ready(self) -> dict[str, Any]:
        return {"workers": self.pool.workers, "isolation": list(self.pool.isolation)}

    def run(self, items: list[tuple[Problem, str, Mode]]) -> list[dict[str, Any]]:
        # Plain dicts over the wire: the driver validates them with Verdict.from_dict.
        futures = [self.pool.submit(problem, program, mode) for problem, program, mode in items]
        return [f.result().to_dict() for f in futures]

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        self.pool.close()


def import_ray(local: bool) -> Any:
    if local:
        # Read by Ray at import time: report 127.0.0.1 as this node's address, so that a private
        # local Ray never listens beyond loopback. Not for a real cluster, whose other nodes must
        # reach the driver.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home from a sandbox host
    try:
        import ray
    except ImportError as e:
        raise RayBackendError(
            "the Ray backend needs Ray: pip install 'rltf[ray]' (or pip install ray)"
        ) from e
    return ray


def _probe(address: str, timeout: float) -> None:
    """Fail fast and clearly on an address nothing listens on (ray.init would retry for long)."""
    if address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise RayBackendError(f"--ray-address must be HOST:PORT or 'auto', got {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise RayBackendError(
            f"cannot reach a Ray cluster at {address} ({e}); start one with "
            "`ray start --head --port PORT` or leave out --ray-address for a local Ray"
        ) from None
    # Something listens; a Ray head (GCS) is a gRPC server. ray.init waits minutes on anything
    # else, so require an HTTP/2 handshake first (grpc ships with Ray).
    import grpc

    channel = grpc.insecure_channel(hostport)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise RayBackendError(
            f"{address} accepts connections but is not a Ray head: no gRPC handshake within "
            f"{timeout:.0f} s (the port is the one `ray start --head` printed, default 6379)"
        ) from None
    finally:
        channel.close()


def connect(ray: Any, address: str | None, num_cpus: int | None, timeout: float) -> bool:
    """Connect this process to Ray; returns whether the caller owns the connection (and must
    ``ray.shutdown()``). address: ``HOST:PORT`` / ``auto`` of a running cluster, or None for a
    private local Ray (``num_cpus`` CPUs, default min(2, cpu count), loopback only, no dashboard).
    An already initialised Ray in this process is used and left to its owner."""
    if address is not None:
        _probe(address, timeout)
    if ray.is_initialized():
        # The caller's Ray (e.g. a trainer already on the cluster): used, theirs to stop.
        current = ray.get_runtime_context().gcs_address
        if address not in (None, "auto", current):
            raise RayBackendError(
                f"this process is already connected to the Ray cluster at {current}, "
                f"not {address}: pass no address to use it, or ray.shutdown() first"
            )
        return False
    if address is None:
        ray.init(
            address="local",  # never RAY_ADDRESS or a `ray start` cluster found on disk
            num_cpus=num_cpus or min(2, os.cpu_count() or 1),
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            object_store_memory=256 << 20,  # verdicts, programs, a small model's weights
            log_to_driver=False,
            configure_logging=False,
        )
        return True
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise RayBackendError(f"cannot connect to the Ray cluster at {address}: {e}") from e
    return True  # we connected this process; disconnecting leaves the cluster up


class RayExecutionPool:
    """``ExecutionPool``'s interface over a Ray cluster; see the module docstring.

    address: a running cluster (``HOST:PORT`` of its head, or ``auto``); None starts a private
    local Ray (``num_cpus`` CPUs, default min(2, cpu count), loopback only, no dashboard) that
    ``close()`` shuts down. An already initialised Ray in this process is used and left running.
    workers_per_node: sandbox workers per node; default that node's CPU count in Ray.
    max_nodes: use at most this many nodes (default all with a CPU).
    """

    def __init__(
        self,
        address: str | None = None,
        config: ExecutionConfig | None = None,
        workers_per_node: int | None = None,
        num_cpus: int | None = None,
        max_in_flight: int | None = None,
        chunk_size: int = 8,
        max_retries: int = 2,
        connect_timeout: float = 10.0,
        start_timeout: float = 180.0,
        chunk_timeout: float | None = None,
        max_nodes: int | None = None,
    ) -> None:
        if chunk_size < 1 or max_retries < 0:
            raise ValueError("chunk_size must be >= 1 and max_retries >= 0")
        self.config = config or ExecutionConfig()
        self._chunk_size, self._max_retries = chunk_size, max_retries
        self._chunk_timeout = chunk_timeout
        self._workers_per_node = workers_per_node
        self._max_nodes = max_nodes
        self._ray = import_ray(local=address is None)
        self._owns_ray = connect(self._ray, address, num_cpus, connect_timeout)
        self._lock = threading.Condition()
        self._queue: collections.deque[_Job] = collections.deque()
        self._retry: collections.deque[_Chunk] = collections.deque()
        self._inflight: dict[Any, _Chunk] = {}  # ObjectRef -> chunk
        self._unresolved = 0
        self._closed = False
        self._replaced: collections.Counter[str] = collections.Counter()
        self._actors: list[_Actor] = []
        self._actor_cls: Any = None
        self._longest = 0.0  # the longest chunk deadline given so far (bounds close())
        # Counters for logs and tests: chunks sent again, actors lost, jobs given sandbox_error,
        # and the most jobs ever unresolved at once (<= max_in_flight: the back-pressure).
        self.stats = {"retried_chunks": 0, "lost_actors": 0, "sandbox_errors": 0, "peak": 0}
        self.isolation: tuple[str, ...] = ()
        try:
            self._start_actors(start_timeout)
        except BaseException:
            self._teardown()
            raise
        self.workers = sum(a.workers for a in self._actors)
        self._max_in_flight = max_in_flight or max(64, 4 * self.workers)
        self._thread = threading.Thread(target=self._run, name="rltf-ray-dispatch", daemon=True)
        self._thread.start()

    # -- start-up ---------------------------------------------------------------------------

    def _cpu_nodes(self) -> dict[str, int]:
        """Alive nodes with at least one CPU -> their CPU count."""
        nodes = {}
        for n in self._ray.nodes():
            cpus = int(n.get("Resources", {}).get("CPU", 0))
            if n.get("Alive") and cpus >= 1:
                nodes[n["NodeID"]] = cpus
        return nodes

    def _spawn(self, node_id: str, cpus: int) -> _Actor:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        workers = self._workers_per_node or cpus
        # num_cpus=0: the actor itself idles; its sandbox workers are ordinary processes outside
        # Ray's accounting, so reserving CPUs would only starve other actors on the node (rollout
        # actors). max_restarts=0: a dead actor is replaced here, on a node known to be alive.
        if self._actor_cls is None:
            remote = self._ray.remote(num_cpus=0, max_concurrency=64, max_restarts=0)
            self._actor_cls = remote(_NodeExecutor)
        cls = self._actor_cls
        strategy = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        handle = cls.options(scheduling_strategy=strategy).remote(workers, self.config.to_dict())
        return _Actor(handle, node_id, workers)

    def _start_actors(self, timeout: float) -> None:
        nodes = self._cpu_nodes()
        if not nodes:
            raise RayBackendError("the Ray cluster has no alive node with a CPU to execute on")
        nodes = dict(list(nodes.items())[: self._max_nodes])
        self._actors = [self._spawn(node, cpus) for node, cpus in nodes.items()]
        refs = [a.handle.ready.remote() for a in self._actors]
        try:
            infos = self._ray.get(refs, timeout=timeout)
        except self._ray.exceptions.GetTimeoutError:
            raise RayBackendError(
                f"execution actors did not start within {timeout:.0f} s on {len(refs)} node(s)"
            ) from None
        except self._ray.exceptions.RayError as e:
            raise RayBackendError(f"an execution actor failed to start: {e}") from None
        # What holds on every node; a node with weaker isolation is named (its verdicts say so too).
        sets = [set(i["isolation"]) for i in infos]
        common, seen = set.intersection(*sets), set.union(*sets)
        self.isolation = tuple(x for x in infos[0]["isolation"] if x in common)
        for actor, have in zip(self._actors, sets, strict=True):
            if seen - have:
                missing = ", ".join(sorted(seen - have))
                log.warning("ray execution: node %s lacks %s", actor.node_id[:12], missing)
        log.info("ray execution: %d node(s), %s workers", len(infos), [i["workers"] for i in infos])

    # -- the public interface -----------------------------------------------------------------

    @property
    def nodes(self) -> int:
        """Alive execution actors (one per node)."""
        with self._lock:
            return sum(a.alive for a in self._actors)

    def submit(self, problem: Problem, program: str, mode: Mode = "train") -> Future[Verdict]:
        """Queue one program; blocks while ``max_in_flight`` jobs are unresolved."""
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        future: Future[Verdict] = Future()
        with self._lock:
            # Timed waits: the dispatcher resolves every job in bounded time, and a dead
            # dispatcher or a close() is noticed within a second.
            while self._unresolved >= self._max_in_flight and not self._closed:
                if not self._thread.is_alive():
                    raise RuntimeError("the Ray execution dispatcher stopped")
                self._lock.wait(timeout=1.0)
            if self._closed:
                raise RuntimeError("the execution pool is closed")
            self._unresolved += 1
            self.stats["peak"] = max(self.stats["peak"], self._unresolved)
            self._queue.append(_Job(problem, program, mode, future))
            self._lock.notify_all()
        return future

    def run_batch(
        self, jobs: Sequence[tuple[Problem, str]], mode: Mode = "train", progress: bool = False
    ) -> list[Verdict]:
        """Run all jobs across the cluster; verdicts in input order."""
        if not progress:
            return [f.result() for f in [self.submit(p, prog, mode) for p, prog in jobs]]
        from rltf.console import make_progress

        futures: list[Future[Verdict]] = []
        with make_progress(transient=True) as bar:
            task = bar.add_task("executing", total=len(jobs), status="")
            for p, prog in jobs:  # submitting may block (back-pressure): advance as it goes
                futures.append(self.submit(p, prog, mode))
            for f in futures:
                f.result()
                bar.advance(task)
        return [f.result() for f in futures]

    def close(self) -> None:
        """Finish what was submitted, stop the actors, and stop Ray if this pool started it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify_all()
        # Bounded by design (every chunk has a deadline, every retry a limit); the timeout is a
        # last guard: tearing Ray down fails what is left, and the dispatcher resolves it.
        self._thread.join(timeout=(self._max_retries + 1) * self._longest + 60)
        if self._thread.is_alive():
            log.error("ray execution: jobs still unresolved at close; stopping Ray under them")
        self._teardown()
        self._thread.join(timeout=_RPC_TIMEOUT_S)

    def __enter__(self) -> RayExecutionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _teardown(self) -> None:
        ray = self._ray
        alive = [a for a in self._actors if a.alive]
        # A graceful close first, so each node's pool removes its scratch directory.
        with contextlib.suppress(ray.exceptions.RayError):
            ray.get([a.handle.close.remote() for a in alive], timeout=_RPC_TIMEOUT_S)
        for a in alive:
            with contextlib.suppress(Exception):
                ray.kill(a.handle)
        self._actors = []
        if self._owns_ray:
            ray.shutdown()

    # -- the dispatcher -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed and not (self._queue or self._retry or self._inflight):
                        return
                    if not (self._queue or self._retry or self._inflight):
                        self._lock.wait(timeout=_POLL_S)
                        continue
                self._dispatch()
                self._collect()
                self._expire()
        except BaseException as e:  # a bug here must not leave callers waiting forever
            log.exception("ray execution dispatcher failed")
            self._fail_everything(f"the Ray dispatcher failed: {type(e).__name__}: {e}")

    def _free(self, a: _Actor) -> int:
        # Two chunks' worth beyond the workers keeps every worker busy while replies travel.
        return 2 * a.workers + self._chunk_size - a.outstanding

    def _next_chunk(self, n_alive: int) -> _Chunk | None:
        with self._lock:
            if self._retry:
                return self._retry.popleft()
            if not self._queue:
                return None
            # Full chunks amortise Ray's per-call cost; a short queue is spread over the nodes.
            size = min(self._chunk_size, max(1, math.ceil(len(self._queue) / n_alive)))
            return _Chunk([self._queue.popleft() for _ in range(min(size, len(self._queue)))])

    def _dispatch(self) -> None:
        while True:
            alive = [a for a in self._actors if a.alive]
            if not alive and not self._revive():
                self._fail_pending("no alive Ray node is left to execute on")
                return
            alive = [a for a in self._actors if a.alive]
            best = max(alive, key=self._free)
            if self._free(best) <= 0:
                return
            chunk = self._next_chunk(len(alive))
            if chunk is None:
                return
            self._send(chunk, best)

    def _send(self, chunk: _Chunk, actor: _Actor) -> None:
        items = [(j.problem, j.program, j.mode) for j in chunk.jobs]
        ref = actor.handle.run.remote(items)
        actor.outstanding += len(chunk.jobs)
        chunk.actor = actor
        seconds = self._deadline(actor)
        self._longest = max(self._longest, seconds)
        chunk.deadline = time.monotonic() + seconds
        self._inflight[ref] = chunk

    def _deadline(self, actor: _Actor) -> float:
        """Seconds a chunk may take before its actor counts as hung: every job queued on the
        actor ahead of it may use its whole budget, twice (the node's pool retries a worker)."""
        if self._chunk_timeout is not None:
            return self._chunk_timeout
        cfg = self.config
        rounds = math.ceil(actor.outstanding / actor.workers)
        return 30.0 + rounds * 2 * (cfg.timeout_per_program + cfg.worker_grace)

    def _collect(self) -> None:
        ray = self._ray
        refs = list(self._inflight)
        if not refs:
            return
        ready, rest = ray.wait(refs, num_returns=1, timeout=_POLL_S, fetch_local=True)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0, fetch_local=True)
            ready += more
        for ref in ready:
            chunk = self._inflight.pop(ref)
            assert chunk.actor is not None
            chunk.actor.outstanding -= len(chunk.jobs)
            try:
                rows = ray.get(ref, timeout=_RPC_TIMEOUT_S)
                verdicts = self._validate(chunk, rows)
            except ray.exceptions.RayError as e:
                self._lost(chunk, e)
                continue
            except ValueError as e:  # a malformed reply: never trusted, retried
                self._failed(chunk, f"malformed reply: {e}")
                continue
            for job, verdict in zip(chunk.jobs, verdicts, strict=True):
                self._resolve(job, verdict)

    def _validate(self, chunk: _Chunk, rows: Any) -> list[Verdict]:
        if not isinstance(rows, list) or len(rows) != len(chunk.jobs):
            raise ValueError(f"expected {len(chunk.jobs)} verdicts, got {type(rows).__name__}")
        return [Verdict.from_dict(row, "ray execution reply") for row in rows]

    def _lost(self, chunk: _Chunk, error: Exception) -> None:
        ray = self._ray
        actor = chunk.actor
        gone = (ray.exceptions.RayActorError, ray.exceptions.ActorUnschedulableError)
        if isinstance(error, gone) and actor is not None and actor.alive:
            actor.alive = False
            self.stats["lost_actors"] += 1
            log.warning("ray execution: the actor on node %s was lost", actor.node_id[:12])
        # The exception text of a lost actor is long (it includes a stack); its first line says it.
        self._failed(chunk, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")

    def _failed(self, chunk: _Chunk, reason: str) -> None:
        chunk.attempts += 1
        chunk.errors.append(reason)
        if chunk.attempts <= self._max_retries:
            with self._lock:
                self._retry.append(chunk)
                self.stats["retried_chunks"] += 1
            return
        message = (
            f"Ray execution failed {chunk.attempts} times for this program's chunk (last: {reason})"
        )
        self.stats["sandbox_errors"] += len(chunk.jobs)
        for job in chunk.jobs:
            self._resolve(job, _sandbox_error(job.problem, message))

    def _expire(self) -> None:
        now = time.monotonic()
        for chunk in self._inflight.values():
            actor = chunk.actor
            if actor is not None and actor.alive and now > chunk.deadline:
                # A hung actor: killing it fails all its chunks with RayActorError (retried).
                log.warning("ray execution: actor on %s timed out; killing it", actor.node_id[:12])
                with contextlib.suppress(Exception):
                    self._ray.kill(actor.handle, no_restart=True)
                actor.alive = False

    def _revive(self) -> bool:
        """Start an actor on each alive CPU node that has none (a bounded number of times)."""
        try:
            nodes = self._cpu_nodes()
        except Exception:  # the cluster itself is gone
            return False
        served = {a.node_id for a in self._actors if a.alive}
        started = False
        for node, cpus in nodes.items():
            if node not in served and self._replaced[node] < _REPLACEMENTS_PER_NODE:
                self._replaced[node] += 1
                self._actors.append(self._spawn(node, cpus))
                started = True
        return started

    def _resolve(self, job: _Job, verdict: Verdict) -> None:
        if job.future.set_running_or_notify_cancel():
            job.future.set_result(verdict)
        with self._lock:
            self._unresolved -= 1
            self._lock.notify_all()

    def _fail_pending(self, message: str) -> None:
        with self._lock:
            jobs = list(self._queue) + [j for c in self._retry for j in c.jobs]
            self._queue.clear()
            self._retry.clear()
        for job in jobs:
            self._resolve(job, _sandbox_error(job.problem, message))

    def _fail_everything(self, message: str) -> None:
        chunks, self._inflight = list(self._inflight.values()), {}
        for chunk in chunks:
            for job in chunk.jobs:
                self._resolve(job, _sandbox_error(job.problem, message))
        self._fail_pending(message)
