"""Rollouts on Ray: ``cluster.rollout_actors`` actors, each with its own policy copy, generating,
executing (in a sandbox pool on its own node) and scoring, and streaming scored rounds back.

    learner (this process)                        rollout actor i (a Ray actor, any node)
    ─ trains on the buffer                        ─ policy copy at version v_i
    ─ publishes weights: ray.put once ──────────► load_weights(ref, v)  (before its next round)
    ◄── RoundReport (ScoredSamples, tagged v_i) ─ round(problems): generate → execute → score

:class:`RayRollouts` is a drop-in for :class:`rltf.training.actor.ActorThread` (same buffer,
weight slot and report queue), so the loop, the staleness bound (``loop.max_staleness``, by
version) and the learner's clipped importance ratio treat remote samples exactly as local ones.
Weights go through the object store once per sync, whatever the number of actors.

Failures cost rounds, never wrong data: a lost actor (or node) or a round past
``cluster.round_timeout`` is killed and replaced (up to ``cluster.max_restarts`` times, then the run
fails with the cause), and a replacement starts from the newest published weights. Every wait is
bounded. Not deterministic: which actor finishes first decides the order of samples.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from rltf.execution.config import ExecutionConfig
from rltf.feedback import RewardConfig
from rltf.policy import GenerationConfig, Policy
from rltf.records import Problem
from rltf.tasks.prompts import Prompt
from rltf.training.actor import Actor, RoundReport, WeightSlot
from rltf.training.buffer import ReplayBuffer
from rltf.training.config import ClusterConfig
from rltf.training.run import StageClock

log = logging.getLogger("rltf.training")

_POLL_S = 0.2  # longest wait between checks for stop requests and fresh weights
_RPC_TIMEOUT_S = 120.0  # fetching a finished round, loading weights, closing


@dataclass(frozen=True)
class ActorSpec:
    """What every rollout actor is built from (pickled once into the object store)."""

    policy: Policy
    prompts: Mapping[str, Prompt]
    generation: GenerationConfig
    samples_per_problem: int
    rewards: RewardConfig
    execution: dict[str, Any]
    exec_workers: int
    torch_threads: int
    examples_per_round: int


class RolloutWorker:
    """The Ray actor body: an :class:`Actor` with its own policy copy and sandbox pool."""

    def __init__(self, spec: ActorSpec, seed: int) -> None:
        from rltf.execution import ExecutionPool

        torch.set_num_threads(spec.torch_threads)
        torch.manual_seed(seed)  # each actor (and each replacement) samples its own stream
        policy = spec.policy
        if torch.cuda.is_available():  # placed on a GPU by cluster.gpus_per_actor
            policy.model.to("cuda")
        self.pool = ExecutionPool(
            workers=spec.exec_workers, config=ExecutionConfig.from_dict(spec.execution)
        )
        self.clock = StageClock()
        self.actor = Actor(
            policy,
            self.pool,
            spec.prompts,
            spec.generation,
            spec.samples_per_problem,
            spec.rewards,
            self.clock,
            spec.examples_per_round,
        )

        # Rounds run in concurrent calls (a threaded actor): one generates while the others'
        # programs execute, as ActorThread overlaps them. Generation and weight loads take turns.
        self._generating = threading.Lock()

    def ready(self) -> int:
        return self.actor.version

    def load_weights(self, state: dict[str, torch.Tensor], version: int) -> int:
        with self._generating:
            self.actor.load_weights(state, version)
        return version

    def round(self, problems: list[Problem]) -> tuple[RoundReport, dict[str, float]]:
        """One round, and this actor's busy seconds per stage so far (cumulative)."""
        with self._generating:
            rnd = self.actor.start_round(problems)
        report = self.actor.finish_round(rnd)
        return report, self.clock.snapshot()

    def close(self) -> None:
        self.pool.close()


@dataclass
class _Slot:
    """One rollout actor as the driver sees it."""

    index: int
    handle: Any
    pending: dict[Any, float] = field(default_factory=dict)  # round ObjectRef -> start time
    seconds: dict[str, float] = field(default_factory=dict)  # the actor's cumulative stage times
    ready: bool = False  # answered ready(): safe to ask for a graceful close


class RayRollouts(threading.Thread):
    """Keeps ``rounds_in_flight + 1`` rounds in flight on every rollout actor (one generating,
    the others executing); see the module docstring."""

    def __init__(
        self,
        spec: ActorSpec,
        cluster: ClusterConfig,
        next_problems: Callable[[], list[Problem]],
        buffer: ReplayBuffer,
        slot: WeightSlot,
        reports: queue.Queue[RoundReport],
        clock: StageClock,
        seed: int,
        rounds_in_flight: int = 1,
    ) -> None:
        super().__init__(name="rltf-ray-rollouts", daemon=True)
        from rltf.execution.ray_pool import connect, import_ray

        self.cluster, self.next_problems = cluster, next_problems
        self.buffer, self.weights, self.reports, self.clock = buffer, slot, reports, clock
        self.seed, self.per_actor = seed, rounds_in_flight + 1
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.stats: Counter[str] = Counter()  # rounds per actor, lost actors (logs and tests)
        self._ray = import_ray(local=cluster.address is None)
        self._owns_ray = connect(self._ray, cluster.address, cluster.num_cpus, 10.0)
        try:
            self._spec_ref = self._ray.put(spec)
            self._latest: tuple[Any, int] | None = None  # newest published (weights ref, version)
            self.version = spec.policy.version  # the newest version sent to the actors
            self._remote = self._ray.remote(
                num_cpus=cluster.cpus_per_actor,
                num_gpus=cluster.gpus_per_actor,
                max_restarts=0,
                max_concurrency=self.per_actor + 2,  # the rounds, a weight load, ready/close
            )(RolloutWorker)
            self._spawned = 0
            self._slots = [self._spawn(i) for i in range(cluster.rollout_actors)]
            self._wait_ready(self._slots)
        except BaseException:
            self._shutdown()
            raise
        log.info("ray rollouts: %d actor(s) ready", len(self._slots))

    # -- actors -------------------------------------------------------------------------------

    def _spawn(self, index: int) -> _Slot:
        handle = self._remote.remote(self._spec_ref, self.seed * 1000 + self._spawned)
        self._spawned += 1
        if self._latest is not None:  # a replacement starts from the newest weights
            handle.load_weights.remote(*self._latest)
        return _Slot(index, handle)

    def _wait_ready(self, slots: list[_Slot]) -> None:
        c, ray = self.cluster, self._ray
        refs = [s.handle.ready.remote() for s in slots]
        try:
            ray.get(refs, timeout=c.start_timeout)
            for s in slots:
                s.ready = True
        except ray.exceptions.GetTimeoutError:
            raise RuntimeError(
                f"cluster: {len(slots)} rollout actor(s) did not start within "
                f"{c.start_timeout:g} s; each needs {c.cpus_per_actor:g} CPU and "
                f"{c.gpus_per_actor:g} GPU (the cluster has {ray.cluster_resources()}): lower "
                "cluster.rollout_actors or cluster.cpus_per_actor, or add nodes"
            ) from None

    def _replace(self, s: _Slot, why: str) -> None:
        self.stats["lost_actors"] += 1
        if self.stats["lost_actors"] > self.cluster.max_restarts:
            raise RuntimeError(
                f"rollout actor {s.index} lost ({why}), and cluster.max_restarts = "
                f"{self.cluster.max_restarts} replacements are used up"
            )
        log.warning("rollout actor %d lost (%s): starting a replacement", s.index, why)
        with contextlib.suppress(Exception):
            self._ray.kill(s.handle)
        fresh = self._spawn(s.index)
        self._wait_ready([fresh])
        self._slots[s.index] = fresh

    # -- the driver loop ----------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self._publish()
                for s in self._slots:
                    while len(s.pending) < self.per_actor:
                        s.pending[s.handle.round.remote(self.next_problems())] = time.monotonic()
                self._collect()
        except BaseException as e:  # surfaced by the loop, which stops the run
            log.error("ray rollouts failed: %r", e)
            self.error = e
        finally:
            self._shutdown()

    def _publish(self) -> None:
        fresh = self.weights.take()
        if fresh is None:
            return
        state, version = fresh
        with self.clock.time("sync"):
            self._latest = (self._ray.put(state), version)  # one copy, shared by all actors
            self.version = version
            for s in self._slots:  # runs before each actor's next round (actor calls are ordered)
                s.handle.load_weights.remote(*self._latest)

    def _collect(self) -> None:
        ray = self._ray
        pending = {ref: s for s in self._slots for ref in s.pending}
        if not pending:
            return
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_S)
        for ref in ready:
            s = pending[ref]
            if self._slots[s.index] is not s:
                continue  # its actor was replaced meanwhile
            s.pending.pop(ref)
            try:
                report, seconds = ray.get(ref, timeout=_RPC_TIMEOUT_S)
            except ray.exceptions.RayError as e:
                self._replace(s, type(e).__name__)
                continue
            for stage, sec in seconds.items():  # cumulative on the actor: add what is new
                self.clock.add(stage, sec - s.seconds.get(stage, 0.0))
            s.seconds = seconds
            self.stats[f"rounds/actor{s.index}"] += 1
            self.buffer.push(report.scored)
            self.reports.put(report)
        now = time.monotonic()
        for s in list(self._slots):
            if any(now - t > self.cluster.round_timeout for t in s.pending.values()):
                self._replace(s, f"a round ran over {self.cluster.round_timeout:g} s")

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        if self.ident is None:  # never started: the actors still need stopping
            self._shutdown()
            return
        self.join(timeout)
        if self.is_alive():
            log.warning("ray rollouts still stopping; leaving them behind (daemon thread)")

    def _shutdown(self) -> None:
        ray = self._ray
        slots, self._slots = getattr(self, "_slots", []), []
        with contextlib.suppress(ray.exceptions.RayError):
            # Only actors that started: a close queued on one still waiting for resources never runs.
            ray.get([s.handle.close.remote() for s in slots if s.ready], timeout=_RPC_TIMEOUT_S)
        for s in slots:
            with contextlib.suppress(Exception):
                ray.kill(s.handle)
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False
