"""The actor: sample k programs per problem (plus the greedy baseline), run them in the
execution pool, turn verdicts into token rewards and hand scored samples to the buffer.

A round is split in two so execution overlaps generation: :meth:`Actor.start_round` generates and
*submits* (returns at once with futures); :meth:`Actor.finish_round` waits for the verdicts and
scores. :class:`ActorThread` keeps ``rounds_in_flight`` rounds executing while it generates the
next, and the learner trains in the main thread all the while.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import torch

from rltf.feedback import RewardConfig, score_round
from rltf.policy import GenerationConfig, Policy
from rltf.records import Problem, Sample, Verdict
from rltf.tasks.prompts import Prompt
from rltf.training.buffer import ReplayBuffer, ScoredSample
from rltf.training.run import StageClock

log = logging.getLogger("rltf.training")


class Pool(Protocol):
    """What the actor needs from :class:`rltf.execution.ExecutionPool`."""

    def submit(
        self, problem: Problem, program: str, mode: Literal["train", "eval"] = "train"
    ) -> cf.Future[Verdict]: ...


@dataclass
class Round:
    problems: list[Problem]
    samples: list[Sample]
    futures: list[cf.Future[Verdict]]
    greedy: dict[str, tuple[Sample, cf.Future[Verdict]]]


@dataclass
class RoundReport:
    """What one round produced, for the buffer and the metrics."""

    scored: list[ScoredSample] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    error_types: Counter[str] = field(default_factory=Counter)
    programs: int = 0
    generated_tokens: int = 0
    exec_failures: int = 0  # the pool raised instead of returning a verdict
    bad_samples: int = 0  # could not be scored
    baseline_fallbacks: int = 0  # greedy baseline unusable: group mean used instead
    examples: list[dict[str, Any]] = field(default_factory=list)


def _verdict_of(future: cf.Future[Verdict], what: str) -> Verdict | None:
    try:
        return future.result()
    except Exception as e:  # a worker failure costs one verdict, never the run
        log.warning("execution of %s failed: %r", what, e)
        return None


def example(s: Sample, v: Verdict, scored: ScoredSample | None) -> dict[str, Any]:
    """A program and its verdict as plain data for samples.jsonl (reward hacking shows here)."""
    err = v.error
    out: dict[str, Any] = {
        "problem_id": s.problem_id,
        "policy_version": s.policy_version,
        "program": s.program,
        "outcome": v.outcome,
        "passed": v.passed,
        "total": v.total,
        "error": None if err is None else f"{err.type} (line {err.line}): {err.message[:200]}",
        "truncated": s.truncated,
    }
    if scored is not None:
        r = scored.rewards
        out.update(
            reward=round(r.total / max(len(r), 1), 4),
            r_coarse=r.r_coarse,
            r_adaptive=r.r_adaptive,
            r_fine=r.r_fine,
            baseline=r.baseline.coarse,
            category=r.category,
        )
    return out


class Actor:
    def __init__(
        self,
        policy: Policy,
        pool: Pool,
        prompts: Mapping[str, Prompt],
        gen: GenerationConfig,
        k: int,
        rewards: RewardConfig,
        clock: StageClock,
        examples_per_round: int = 2,
    ) -> None:
        self.policy = policy
        self.pool = pool
        self.prompts = prompts
        self.gen = gen
        self.greedy_gen = replace(gen, do_sample=False)
        self.k = k
        self.rewards = rewards
        self.clock = clock
        self.examples_per_round = examples_per_round

    @property
    def version(self) -> int:
        return self.policy.version

    def load_weights(self, state: Mapping[str, torch.Tensor], version: int) -> None:
        self.policy.load_weights(state, version, partial=True)

    def _submit(self, problem: Problem, sample: Sample) -> cf.Future[Verdict]:
        self.clock.exec_started()
        try:
            future = self.pool.submit(problem, sample.program, "train")
        except Exception as e:
            self.clock.exec_finished()
            failed: cf.Future[Verdict] = cf.Future()
            failed.set_exception(e)
            return failed
        future.add_done_callback(lambda _: self.clock.exec_finished())
        return future

    def start_round(self, problems: Sequence[Problem]) -> Round:
        """Generate k samples (and a greedy decode when the baseline is greedy) per problem and
        submit every program; returns without waiting for the verdicts."""
        prompts = [self.prompts[p.id] for p in problems]
        ids = [p.id for p in problems]
        with torch.inference_mode(), self.clock.time("generate"):
            samples = self.policy.generate(prompts, ids, self.gen, n=self.k)
            greedy = []
            if self.rewards.baseline == "greedy":
                greedy = self.policy.generate(prompts, ids, self.greedy_gen, n=1)
        by_id = {p.id: p for p in problems}
        futures = [self._submit(by_id[s.problem_id], s) for s in samples]
        greedy_jobs = {s.problem_id: (s, self._submit(by_id[s.problem_id], s)) for s in greedy}
        return Round(list(problems), samples, futures, greedy_jobs)

    def finish_round(self, rnd: Round) -> RoundReport:
        """Wait for the verdicts, compute each sample's token rewards, count what happened."""
        with self.clock.time("actor_wait"):
            cf.wait([*rnd.futures, *(f for _, f in rnd.greedy.values())])
        with self.clock.time("reward"):
            return self._score(rnd)

    def _score(self, rnd: Round) -> RoundReport:
        report = RoundReport(programs=len(rnd.samples))
        verdicts: list[Verdict | None] = []
        for s, f in zip(rnd.samples, rnd.futures, strict=True):
            v = _verdict_of(f, f"a sample of {s.problem_id}")
            verdicts.append(v)
            report.generated_tokens += len(s.token_ids)
            if v is None:
                report.exec_failures += 1
                continue
            report.outcomes[v.outcome] += 1
            if v.error is not None:
                report.error_types[v.error.type] += 1
        greedy = {
            pid: (sample, _verdict_of(future, f"the greedy decode of {pid}"))
            for pid, (sample, future) in rnd.greedy.items()
        }
        scored = score_round(rnd.samples, verdicts, self.rewards, greedy)
        report.baseline_fallbacks = scored.fallbacks
        report.bad_samples = len(scored.errors)
        for i, message in scored.errors:
            log.warning("sample of %s skipped: %s", rnd.samples[i].problem_id, message)
        for s, v, tr in zip(rnd.samples, verdicts, scored.rewards, strict=True):
            if v is None or tr is None:
                continue  # not executed, or sandbox_error: never a reward
            item = ScoredSample(s, tr)
            report.scored.append(item)
            report.categories[tr.category] += 1
            if len(report.examples) < self.examples_per_round:
                report.examples.append(example(s, v, item))
        return report

    def run_round(self, problems: Sequence[Problem]) -> RoundReport:
        """A synchronous round: generate, execute, score."""
        return self.finish_round(self.start_round(problems))


def check_sandbox_errors(outcomes: Mapping[str, int], limit: float, what: str) -> None:
    """Stop the run when more than ``limit`` of the judged programs got ``sandbox_error``: the
    rest would be a biased sample (the failures are not random) and the sandbox is broken."""
    judged = sum(outcomes.values())
    bad = outcomes.get("sandbox_error", 0)
    if judged and bad / judged > limit:
        raise RuntimeError(
            f"{what}: {bad} of {judged} programs ({100 * bad / judged:.0f}%) got sandbox_error, "
            f"above loop.max_sandbox_error_share = {limit:g}: the sandbox is failing (see the "
            "log), and training on the remainder would be biased"
        )


class WeightSlot:
    """The learner publishes a weight snapshot; the actor takes the newest one between rounds,
    so the learner never waits for generation to finish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: tuple[dict[str, torch.Tensor], int] | None = None

    def publish(self, state: Mapping[str, torch.Tensor], version: int) -> None:
        snapshot = {k: v.detach().clone() for k, v in state.items()}
        with self._lock:
            self._item = (snapshot, version)

    def take(self) -> tuple[dict[str, torch.Tensor], int] | None:
        with self._lock:
            item, self._item = self._item, None
            return item


class ActorThread(threading.Thread):
    """Runs rounds back to back: generate round i+1 while rounds i-n+1..i execute."""

    def __init__(
        self,
        actor: Actor,
        next_problems: Callable[[], list[Problem]],
        buffer: ReplayBuffer,
        slot: WeightSlot,
        reports: queue.Queue[RoundReport],
        rounds_in_flight: int = 1,
    ) -> None:
        super().__init__(name="rltf-actor", daemon=True)
        self.actor = actor
        self.next_problems = next_problems
        self.buffer = buffer
        self.slot = slot
        self.reports = reports
        self.rounds_in_flight = rounds_in_flight
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        pending: deque[Round] = deque()
        try:
            while not self.stop_event.is_set():
                fresh = self.slot.take()
                if fresh is not None:
                    self.actor.load_weights(*fresh)
                pending.append(self.actor.start_round(self.next_problems()))
                while pending and (
                    len(pending) > self.rounds_in_flight
                    or all(f.done() for f in pending[0].futures)
                ):
                    self._finish(pending.popleft())
        except BaseException as e:  # surfaced by the loop, which stops the run
            log.error("actor failed: %r", e)
            self.error = e
        finally:
            for rnd in pending:
                for f in rnd.futures:
                    f.cancel()

    def _finish(self, rnd: Round) -> None:
        report = self.actor.finish_round(rnd)
        self.buffer.push(report.scored)
        self.reports.put(report)

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        if self.ident is None:
            return  # never started
        self.join(timeout)
        if self.is_alive():
            log.warning("the actor is still generating; leaving it behind (daemon thread)")
