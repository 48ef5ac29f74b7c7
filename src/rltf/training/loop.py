"""``rltf train``: the online RLTF loop (DESIGN.md §3).

The algorithm is :func:`rltf_step`, one short function (synchronous mode):

    generate k programs a problem ─► execute in the sandbox ─► verdicts ─► advantages (RLTF's
    per-token rewards − baseline) ─► L = L_sl + λ·L_rl (clipped ratio) ─► one AdamW step

Everything else here is around it: the run (data, models, resume, checkpoints, metrics) in
:class:`TrainingRun`, and the asynchronous mode, where an actor thread keeps generating and
executing into a FIFO buffer while the learner trains on batches drawn from it (stale samples are
corrected by the importance ratio and bounded by ``loop.max_staleness``). With
``loop.deterministic`` (synchronous) a run killed at any moment and resumed ends bit-identical.
"""

from __future__ import annotations

import json
import logging
import queue
import random
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rltf.config import to_dict
from rltf.console import make_progress
from rltf.policy import Policy
from rltf.records import Problem
from rltf.training.actor import (
    Actor,
    ActorThread,
    Pool,
    RoundReport,
    WeightSlot,
    check_sandbox_errors,
)
from rltf.training.buffer import ReplayBuffer, ScoredSample
from rltf.training.checkpoint import (
    CheckpointManager,
    capture_rng,
    load_trainable_state,
    restore_rng,
    trainable_state,
)
from rltf.training.config import TrainConfig
from rltf.training.data import (
    EpochSampler,
    SLExample,
    build_policy,
    load_problems,
    make_prompts,
    sl_examples,
)
from rltf.training.distributed import data_parallel
from rltf.training.learner import Learner
from rltf.training.metrics import MetricsLogger
from rltf.training.ray_rollouts import ActorSpec, RayRollouts
from rltf.training.run import (
    StageClock,
    StopRequest,
    config_changes,
    prepare_run_dir,
    save_config,
    seed_everything,
)
from rltf.training.stats import Totals, metrics_row, shares_text, status_text
from rltf.training.stats import summary as run_summary

log = logging.getLogger("rltf.training")


def rltf_step(
    actor: Actor, learner: Learner, problems: list[Problem], sl_batches: list[list[SLExample]]
) -> tuple[RoundReport, dict[str, float]]:
    """One synchronous RLTF iteration: the whole algorithm, top to bottom.

    ``sl_batches``: one batch of reference solutions per optimizer step (``learner.epochs``
    steps on the same round's samples; each is an empty list when SL is off)."""
    rnd = actor.start_round(problems)  # k samples (+ greedy decode) a problem, submitted
    report = actor.finish_round(rnd)  # verdicts -> per-token advantages (feedback.score_round)
    stats: dict[str, float] = {}
    for sl in sl_batches:  # every executed sample trains (epochs >= 1 times)
        if sl or report.scored or learner.dp:  # data-parallel: every rank joins every step
            stats = learner.train_step(sl, report.scored)  # L_sl + λ·L_rl, one update
    return report, stats


class TrainingRun:
    """The state of one ``rltf train`` run: data, the learner's and the actor's policies, the
    samplers, buffer and counters, and how they are checkpointed and resumed."""

    def __init__(self, cfg: TrainConfig, resume: bool, overwrite: bool) -> None:
        self.cfg = cfg
        loop = cfg.loop
        self.clock = StageClock()
        self.dp = data_parallel(cfg.cluster.fsdp)  # several processes: data-parallel
        self.rank = self.dp.rank if self.dp else 0
        with self.dp.main_first() if self.dp else nullcontext():
            self.run_dir, self.manager = prepare_run_dir(
                cfg.run_dir, cfg.checkpoint.dir, resume, overwrite
            )
            seed_everything(self.seed(cfg.seed), loop.deterministic, loop.torch_threads)
            problems = load_problems(cfg.data)
            self.policy = build_policy(cfg.policy, cfg.tiny, self.run_dir, problems, cfg.seed)
            self.actor_policy = build_policy(cfg.policy, cfg.tiny, self.run_dir, problems, cfg.seed)
        self.manager.keep_last = cfg.checkpoint.keep_last
        if self.dp:
            self.dp.broadcast_model(self.policy.model)
        self.actor_policy.load_weights(self.policy.trainable_state(), 0, partial=True)
        self.prompts = make_prompts(problems, cfg.data.prompt_style, self.policy.tokenizer)
        self.sl_sampler = self._sl_sampler(problems)
        self.rl_sampler: EpochSampler[Problem] = EpochSampler(problems, self.seed(cfg.seed + 1))
        self.learner = Learner(
            self.policy, cfg.optim, loop.steps, cfg.learner, cfg.generation.temperature, self.dp
        )
        self.buffer = ReplayBuffer(loop.buffer_capacity)
        self.totals = Totals()
        self.resumed = self._resume() if resume else False
        if self.is_main:
            save_config(cfg, self.run_dir)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """This process's seed (data-parallel ranks draw their own problems and samples)."""
        return self.dp.seed(seed) if self.dp else seed

    def _sl_sampler(self, problems: list[Problem]) -> EpochSampler[SLExample] | None:
        cfg = self.cfg
        if cfg.loop.sl_batch_size == 0:
            return None
        with_refs = [p for p in problems if p.solutions]
        if not with_refs:
            raise ValueError(
                f"data.train {cfg.data.train!r} has no reference solutions: the SL term needs "
                "them (set loop.sl_batch_size: 0 and loop.warm_start_steps: 0 for RL only)"
            )
        max_prompt = cfg.data.max_prompt_tokens or cfg.generation.max_prompt_tokens
        examples = sl_examples(
            with_refs, self.prompts, self.policy, max_prompt, cfg.data.max_target_tokens
        )
        return EpochSampler(examples, self.seed(cfg.seed))

    def next_sl(self) -> list[SLExample]:
        return self.sl_sampler.next(self.cfg.loop.sl_batch_size) if self.sl_sampler else []

    def _resume(self) -> bool:
        latest = self.manager.latest()
        if latest is None:
            log.info("--resume: no checkpoint in %s, starting from scratch", self.manager.root)
            return False
        ck = CheckpointManager.load(latest)
        if changed := config_changes(ck.state.get("config", {}), self.cfg):
            log.warning("resuming with a changed config: %s", ", ".join(changed))
        load_trainable_state(self.policy.model, ck.weights)
        self.learner.load_state_dict(ck.trainer["learner"], ck.step, ck.state["skipped_nonfinite"])
        actor_state = ck.actor_weights or self.policy.trainable_state()
        self.actor_policy.load_weights(actor_state, ck.state["actor_version"], partial=True)
        if ck.buffer is not None and self.is_main:  # the buffer of rank 0 (async mode)
            self.buffer.load_state_dict(ck.buffer)
        self.rl_sampler.load_state_dict(ck.state["rl_sampler"])
        if self.sl_sampler is not None and ck.state.get("sl_sampler"):
            self.sl_sampler.load_state_dict(ck.state["sl_sampler"])
        rng_t, rng_p = ck.trainer["rng"], ck.state["rng"]
        if self.dp:
            rng_t, rng_p = self._resume_rank(ck.trainer, ck.state)
        if self.is_main:
            self.totals.load_state_dict(ck.state["totals"])
        restore_rng(rng_t, rng_p)
        log.info("resumed from %s (step %d, buffer %d)", latest, ck.step, len(self.buffer))
        return True

    def _rank_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """This process's own streams: (tensors for trainer.pt, plain data for state.json)."""
        rng_t, rng_p = capture_rng()
        plain = {
            "rng": rng_p,
            "rl_sampler": self.rl_sampler.state_dict(),
            "sl_sampler": self.sl_sampler.state_dict() if self.sl_sampler else None,
        }
        return rng_t, plain

    def _resume_rank(
        self, trainer: dict[str, Any], state: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.dp is not None
        ranks = state.get("ranks") or []
        if len(ranks) != self.dp.world_size:
            raise ValueError(
                f"--resume: the checkpoint was written by {len(ranks) or 1} process(es), this "
                f"run has {self.dp.world_size}: resume with the same number of processes"
            )
        mine = ranks[self.rank]
        self.rl_sampler.load_state_dict(mine["rl_sampler"])
        if self.sl_sampler is not None and mine["sl_sampler"]:
            self.sl_sampler.load_state_dict(mine["sl_sampler"])
        return trainer["ranks"][self.rank], mine["rng"]

    def final_policy(self) -> Policy:
        """The policy to export: the learner's, or with FSDP (whose learner holds shards) the
        actor's full copy loaded with the learner's gathered weights (every rank calls this)."""
        if not self.learner.sharded:
            return self.policy
        self.actor_policy.load_weights(
            self.policy.trainable_state(), self.learner.step, partial=True
        )
        return self.actor_policy

    def save(self) -> Path | None:
        """Write a checkpoint (data-parallel: every rank calls this; rank 0 writes every
        rank's streams). Returns its path on rank 0."""
        with self.clock.time("checkpoint"):
            rng_t, mine = self._rank_state()
            ranks = self.dp.gather((rng_t, mine)) if self.dp else [(rng_t, mine)]
            if not self.is_main and not self.learner.sharded:
                return None
            # FSDP: gathering the whole weights and optimizer state takes every rank
            weights, learner_state = trainable_state(self.policy.model), self.learner.state_dict()
            if not self.is_main:
                return None
            actor_differs = self.actor_policy.version != self.learner.step
            state: dict[str, Any] = {
                "kind": "train",
                "config": to_dict(self.cfg),
                "actor_version": self.actor_policy.version,
                **{k: mine[k] for k in ("rl_sampler", "sl_sampler", "rng")},
                "totals": self.totals.state_dict(),
                "skipped_nonfinite": self.learner.skipped_nonfinite,
            }
            trainer: dict[str, Any] = {"learner": learner_state, "rng": rng_t}
            if self.dp:
                state["ranks"] = [plain for _, plain in ranks]
                trainer["ranks"] = [tensors for tensors, _ in ranks]
            return self.manager.save(
                self.learner.step,
                weights=weights,
                actor_weights=trainable_state(self.actor_policy.model) if actor_differs else None,
                trainer=trainer,
                state=state,
                buffer=self.buffer.state_dict() if self.cfg.checkpoint.save_buffer else None,
            )


def run_train(
    cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False, pool: Pool | None = None
) -> int:
    """Run the online loop to ``cfg.loop.steps`` learner steps. Returns 0, or 128+signal when a
    signal stopped it early (after a final checkpoint). ``pool``: an execution pool to use
    instead of a fresh :class:`rltf.execution.ExecutionPool` (tests); it is not closed here."""
    run = TrainingRun(cfg, resume, overwrite)
    owned = None
    if pool is None:
        owned = pool = _execution_pool(cfg)
    actor = Actor(
        run.actor_policy,
        pool,
        run.prompts,
        cfg.generation,
        cfg.loop.samples_per_problem,
        cfg.rewards,
        run.clock,
        max(1, cfg.metrics.samples_logged),
    )
    metrics = MetricsLogger(
        run.run_dir if run.is_main else run.run_dir / f"rank{run.rank}",
        tensorboard=cfg.metrics.tensorboard,
        resume_step=run.learner.step if run.resumed else None,
    )
    stop = StopRequest()
    loop_driver = _Loop(run, actor, metrics, stop)
    run.clock.restart()
    try:
        with stop.installed(), metrics:
            loop_driver.drive()
            run.save()
    finally:
        loop_driver.close()
        if owned is not None:
            owned.close()
    final = run.final_policy() if cfg.checkpoint.export_final else None
    summary = run_summary(run.totals, run.clock, run.learner.step)
    if isinstance(loop_driver.thread, RayRollouts):  # rounds per actor, lost actors
        summary["ray_rollouts"] = dict(loop_driver.thread.stats)
    if not run.is_main:  # its metrics are in <run_dir>/rank<r>; the run's files are rank 0's
        return stop.exit_code
    (run.run_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", "utf-8")
    log.info("wall-time shares: %s", shares_text(summary["time_shares"]))
    if final is not None and run.learner.step >= cfg.loop.steps:
        final.version = run.learner.step
        log.info("final model: %s", final.save(run.run_dir / "final"))
    return stop.exit_code


class _OnRolloutActors:
    """The pool of a run whose rollout actors execute their own programs (Ray rollouts)."""

    def submit(self, problem: Problem, program: str, mode: str = "train") -> Any:
        raise RuntimeError("programs run on the Ray rollout actors, not in the learner")

    def close(self) -> None:
        pass


def _execution_pool(cfg: TrainConfig) -> Any:
    """Where the actor's programs run: a local sandbox pool, or (cluster.backend ray) the
    distributed pool; none here when Ray rollout actors execute their own."""
    c = cfg.cluster
    if c.ray_rollouts:
        return _OnRolloutActors()
    if c.backend == "ray":
        from rltf.execution.ray_pool import RayExecutionPool

        return RayExecutionPool(
            address=c.address,
            config=cfg.execution,
            num_cpus=c.num_cpus,
            max_nodes=c.execution_nodes,
            start_timeout=c.start_timeout,
        )
    from rltf.execution import ExecutionPool

    return ExecutionPool(workers=cfg.loop.exec_workers, config=cfg.execution)


class _Loop:
    """Drives :func:`rltf_step` (synchronous) or the actor thread + buffer (async) to the last
    step, and after each step publishes weights, logs and checkpoints."""

    def __init__(
        self, run: TrainingRun, actor: Actor, metrics: MetricsLogger, stop: StopRequest
    ) -> None:
        self.run, self.actor, self.metrics, self.stop = run, actor, metrics, stop
        cfg = run.cfg
        self.uses_rl = cfg.learner.rl_weight > 0 and cfg.rewards.any_reward
        self.slot = WeightSlot()
        self.reports: queue.Queue[RoundReport] = queue.Queue()
        self.thread: ActorThread | RayRollouts | None = None
        if cfg.cluster.ray_rollouts:
            self.thread = _ray_rollouts(run, actor, self.slot, self.reports)
        elif not cfg.loop.synchronous:
            self.thread = ActorThread(
                actor,
                lambda: run.rl_sampler.next(cfg.loop.problems_per_round),
                run.buffer,
                self.slot,
                self.reports,
                cfg.loop.rounds_in_flight,
            )
        self.window_outcomes: Counter[str] = Counter()
        self.consecutive_skips = 0

    def drive(self) -> None:
        run, loop = self.run, self.run.cfg.loop
        with make_progress() as progress:
            bar = progress.add_task(
                "train", total=loop.steps, completed=run.learner.step, status=""
            )
            while run.learner.step < loop.steps and not self._stopping():
                before = run.learner.step
                stats = self._iteration(before < loop.warm_start_steps)
                if stats is None:
                    break  # a stop request interrupted the wait for samples
                self._after(before, stats)
                progress.update(
                    bar, completed=run.learner.step, status=status_text(stats, len(run.buffer))
                )

    def _iteration(self, warm: bool) -> dict[str, float] | None:
        run, loop, clock = self.run, self.run.cfg.loop, self.run.clock
        epochs = run.cfg.learner.epochs
        if warm or not self.uses_rl:
            with clock.time("learn"):
                return run.learner.train_step(run.next_sl(), [])
        if loop.synchronous:
            self._refresh_actor()
            problems = run.rl_sampler.next(loop.problems_per_round)
            sl = [run.next_sl() for _ in range(epochs)]
            report, stats = rltf_step(self.actor, run.learner, problems, sl)
            clock.add("learn", stats.get("learner/seconds", 0.0) * epochs)
            self._add_report(report)
            return self._with_staleness(stats, report.scored, run.learner.step - 1)
        samples = self._async_batch()
        if samples is None:
            return None
        with clock.time("learn"):
            for _ in range(epochs):
                stats = run.learner.train_step(run.next_sl(), samples)
        return self._with_staleness(stats, samples, run.learner.step - 1)

    def _stopping(self) -> bool:
        """A stop request here (data-parallel: on any rank, so all stop at the same step)."""
        dp = self.run.dp
        return dp.any_true(bool(self.stop)) if dp else bool(self.stop)

    def _refresh_actor(self) -> None:
        fresh = self.slot.take()
        if fresh is not None:
            self.actor.load_weights(*fresh)

    def _async_batch(self) -> list[ScoredSample] | None:
        run, loop = self.run, self.run.cfg.loop
        assert self.thread is not None
        if self.thread.ident is None:
            self.thread.start()  # not during the warm start: its samples would be stale
        with run.clock.time("learner_wait"):
            # Data-parallel ranks keep waiting on a local stop: they stop together, in drive().
            while not self.stop or self.run.dp:
                if self.thread.error is not None:
                    raise RuntimeError("the actor thread failed") from self.thread.error
                self._drain()
                run.buffer.wait_for(loop.min_samples, timeout=0.2)
                # Dropped after the wait: a round that arrives during it may predate the newest
                # weights. sample() filters again, for a push between the two.
                step, bound = run.learner.step, loop.max_staleness
                run.buffer.drop_stale(step, bound)
                if len(run.buffer) >= loop.min_samples:
                    rng = random.Random(f"{run.cfg.seed}:rl:{step}")
                    oldest = None if bound is None else step - bound
                    return run.buffer.sample(loop.rl_batch_size, rng, min_version=oldest)
        return None

    @staticmethod
    def _with_staleness(
        stats: dict[str, float], samples: list[ScoredSample], step: int
    ) -> dict[str, float]:
        if samples:
            lag = [step - s.version for s in samples]
            stats = {**stats, "staleness/mean": sum(lag) / len(lag), "staleness/max": max(lag)}
        return stats

    def _add_report(self, report: RoundReport) -> None:
        loop = self.run.cfg.loop
        outcomes = Counter(report.outcomes)
        outcomes["sandbox_error"] += report.exec_failures
        self.run.totals.add_report(report)
        if loop.synchronous:
            check_sandbox_errors(outcomes, loop.max_sandbox_error_share, "an actor round")
            return
        self.window_outcomes.update(outcomes)
        if sum(self.window_outcomes.values()) >= 50:
            check_sandbox_errors(self.window_outcomes, loop.max_sandbox_error_share, "the run")

    def _drain(self) -> None:
        while True:
            try:
                self._add_report(self.reports.get_nowait())
            except queue.Empty:
                return

    def _after(self, before: int, stats: dict[str, float]) -> None:
        run, cfg = self.run, self.run.cfg
        step = run.learner.step
        if step == before:  # a non-finite update was skipped
            self.consecutive_skips += 1
            if self.consecutive_skips >= 10:
                raise RuntimeError("10 consecutive non-finite updates: lower optim.lr")
            return
        self.consecutive_skips = 0
        kind = "rl" if "loss/rl" in stats else "sl"
        run.totals.counts[f"{kind}_steps"] += step - before
        run.totals.counts["learner_tokens"] += int(stats.get("learner/tokens", 0))
        if _crossed(before, step, cfg.loop.sync_every):
            with run.clock.time("sync"):
                if cfg.loop.synchronous:
                    self.actor.load_weights(run.policy.trainable_state(), step)
                else:
                    self.slot.publish(run.policy.trainable_state(), step)
        with run.clock.time("log"):
            self._drain()
            totals = run.totals
            if _crossed(before, step, cfg.metrics.log_every) or step >= cfg.loop.steps:
                row = metrics_row(
                    stats, kind, totals, run.buffer, run.clock, self.actor_version, step
                )
                self.metrics.log(step, row)
            if _crossed(before, step, cfg.metrics.sample_log_every) and totals.recent:
                self.metrics.log_samples(step, list(totals.recent)[-cfg.metrics.samples_logged :])
        if cfg.checkpoint.every and _crossed(before, step, cfg.checkpoint.every):
            run.save()

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop(timeout=60)
            self._drain()

    @property
    def actor_version(self) -> int:
        if isinstance(self.thread, RayRollouts):
            return self.thread.version
        return self.actor.version


def _ray_rollouts(
    run: TrainingRun, actor: Actor, slot: WeightSlot, reports: queue.Queue[RoundReport]
) -> RayRollouts:
    """Rollout actors on Ray, built from the local actor's settings (cfg.cluster)."""
    cfg = run.cfg
    spec = ActorSpec(
        policy=run.actor_policy,
        prompts=run.prompts,
        generation=cfg.generation,
        samples_per_problem=cfg.loop.samples_per_problem,
        rewards=cfg.rewards,
        execution=cfg.execution.to_dict(),
        exec_workers=cfg.cluster.exec_workers_per_actor,
        torch_threads=cfg.cluster.torch_threads_per_actor,
        examples_per_round=actor.examples_per_round,
    )
    return RayRollouts(
        spec,
        cfg.cluster,
        lambda: run.rl_sampler.next(cfg.loop.problems_per_round),
        run.buffer,
        slot,
        reports,
        run.clock,
        cfg.seed,
        cfg.loop.rounds_in_flight,
    )


def _crossed(before: int, after: int, every: int) -> bool:
    """Whether a multiple of ``every`` lies in (before, after] (a step may advance by epochs)."""
    return after // every > before // every
