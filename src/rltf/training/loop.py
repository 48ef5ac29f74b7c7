"""``rltf train``: the online RLTF loop (DESIGN.md §3).

    actor thread:  problems ─► generate k (+ greedy) ─► submit to pool ─► verdicts ─► rewards ─► buffer
    main thread:   learner step t: SL batch (references) or RL batch (buffer), AdamW update;
                   every sync_every steps the weights are published to the actor (version = t)

Generation (actor thread, torch.inference_mode on its own copy of the policy), execution (the
pool's worker processes) and learning (main thread) overlap. ``loop.synchronous`` runs the actor in
the main thread instead (one round per ``rl_steps_per_round`` RL steps); with ``deterministic`` a
run killed at any moment and resumed ends with bit-identical weights.
"""

from __future__ import annotations

import json
import logging
import queue
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from rltf.config import to_dict
from rltf.console import make_progress
from rltf.records import Problem
from rltf.training.actor import Actor, ActorThread, Pool, RoundReport, WeightSlot
from rltf.training.buffer import ReplayBuffer, ScoredSample
from rltf.training.checkpoint import (
    CheckpointManager,
    capture_rng,
    load_trainable_state,
    restore_rng,
    trainable_state,
)
from rltf.training.config import LoopConfig, TrainConfig
from rltf.training.data import (
    EpochSampler,
    SLExample,
    build_policy,
    load_problems,
    make_prompts,
    sl_examples,
)
from rltf.training.learner import Learner
from rltf.training.metrics import MetricsLogger
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
MAX_EMPTY_ROUNDS = 20  # synchronous mode: rounds in a row without enough samples before giving up


def step_kind(step: int, loop: LoopConfig) -> Literal["sl", "rl"]:
    """SL or RL for learner step ``step`` (0-based): warm start, then the SL:RL pattern."""
    if step < loop.warm_start_steps or loop.rl_batches == 0:
        return "sl"
    if loop.sl_batches == 0:
        return "rl"
    j = (step - loop.warm_start_steps) % (loop.sl_batches + loop.rl_batches)
    return "sl" if j < loop.sl_batches else "rl"


def run_train(
    cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False, pool: Pool | None = None
) -> int:
    """Run the online loop to ``cfg.loop.steps`` learner steps. Returns 0, or 128+signal when a
    signal stopped it early (after a final checkpoint). ``pool``: an execution pool to use
    instead of a fresh :class:`rltf.execution.ExecutionPool` (tests); it is not closed here."""
    loop = cfg.loop
    clock = StageClock()
    run_dir, manager = prepare_run_dir(cfg.run_dir, cfg.checkpoint.dir, resume, overwrite)
    manager.keep_last = cfg.checkpoint.keep_last
    seed_everything(cfg.seed, loop.deterministic, loop.torch_threads)

    # ---- data and models ----------------------------------------------------------------
    problems = load_problems(cfg.data)
    policy = build_policy(cfg.policy, cfg.tiny, run_dir, problems, cfg.seed)
    actor_policy = build_policy(cfg.policy, cfg.tiny, run_dir, problems, cfg.seed)
    actor_policy.load_weights(policy.trainable_state(), 0, partial=True)
    prompts = make_prompts(problems, cfg.data.prompt_style, policy.tokenizer)
    max_prompt = cfg.data.max_prompt_tokens or cfg.generation.max_prompt_tokens
    with_refs = [p for p in problems if p.solutions]
    needs_sl = loop.sl_batches > 0 or loop.warm_start_steps > 0
    if needs_sl and not with_refs:
        raise ValueError(
            f"data.train {cfg.data.train!r} has no reference solutions: SL steps need them "
            "(set loop.sl_batches: 0 and loop.warm_start_steps: 0 for RL only)"
        )
    examples = sl_examples(with_refs, prompts, policy, max_prompt, cfg.data.max_target_tokens)
    sl_sampler: EpochSampler[SLExample] | None = (
        EpochSampler(examples, cfg.seed) if examples else None
    )
    rl_sampler: EpochSampler[Problem] = EpochSampler(problems, cfg.seed + 1)
    learner = Learner(policy, cfg.optim, loop.steps)
    buffer = ReplayBuffer(loop.buffer_capacity)
    totals = Totals()

    # ---- resume -------------------------------------------------------------------------
    latest = manager.latest() if resume else None
    if latest is not None:
        ck = CheckpointManager.load(latest)
        changed = config_changes(ck.state.get("config", {}), cfg)
        if changed:
            log.warning("resuming with a changed config: %s", ", ".join(changed))
        load_trainable_state(policy.model, ck.weights)
        learner.load_state_dict(ck.trainer["learner"], ck.step, ck.state["skipped_nonfinite"])
        if ck.actor_weights is not None:
            actor_policy.load_weights(ck.actor_weights, ck.state["actor_version"], partial=True)
        else:
            actor_policy.load_weights(policy.trainable_state(), learner.step, partial=True)
        if ck.buffer is not None:
            buffer.load_state_dict(ck.buffer)
        rl_sampler.load_state_dict(ck.state["rl_sampler"])
        if sl_sampler is not None and ck.state.get("sl_sampler"):
            sl_sampler.load_state_dict(ck.state["sl_sampler"])
        totals.load_state_dict(ck.state["totals"])
        restore_rng(ck.trainer["rng"], ck.state["rng"])
        log.info("resumed from %s (step %d, buffer %d)", latest, ck.step, len(buffer))
    elif resume:
        log.info("--resume: no checkpoint in %s, starting from scratch", manager.root)
    save_config(cfg, run_dir)

    def save() -> Path:
        with clock.time("checkpoint"):
            rng_t, rng_p = capture_rng()
            actor_differs = loop.synchronous and actor_policy.version != learner.step
            state: dict[str, Any] = {
                "kind": "train",
                "config": to_dict(cfg),
                "actor_version": actor_policy.version,
                "rl_sampler": rl_sampler.state_dict(),
                "sl_sampler": sl_sampler.state_dict() if sl_sampler else None,
                "totals": totals.state_dict(),
                "skipped_nonfinite": learner.skipped_nonfinite,
                "rng": rng_p,
            }
            return manager.save(
                learner.step,
                weights=trainable_state(policy.model),
                actor_weights=trainable_state(actor_policy.model) if actor_differs else None,
                trainer={"learner": learner.state_dict(), "rng": rng_t},
                state=state,
                buffer=buffer.state_dict() if cfg.checkpoint.save_buffer else None,
            )

    # ---- the loop -----------------------------------------------------------------------
    stop = StopRequest()
    slot = WeightSlot()
    reports: queue.Queue[RoundReport] = queue.Queue()
    uses_rl = loop.rl_batches > 0
    owned = None
    if pool is None:
        from rltf.execution import ExecutionPool

        owned = ExecutionPool(workers=loop.exec_workers, config=cfg.execution)
        pool = owned
    examples_per_round = max(1, cfg.metrics.samples_logged)
    actor = Actor(
        actor_policy,
        pool,
        prompts,
        cfg.generation,
        loop.samples_per_problem,
        cfg.rewards,
        clock,
        examples_per_round,
    )
    thread: ActorThread | None = None
    if uses_rl and not loop.synchronous:
        thread = ActorThread(
            actor,
            lambda: rl_sampler.next(loop.problems_per_round),
            buffer,
            slot,
            reports,
            loop.rounds_in_flight,
        )
    metrics = MetricsLogger(
        run_dir,
        tensorboard=cfg.metrics.tensorboard,
        resume_step=learner.step if latest is not None else None,
    )

    def drain() -> None:
        while True:
            try:
                totals.add_report(reports.get_nowait())
            except queue.Empty:
                return

    def sync_round() -> None:
        fresh = slot.take()
        if fresh is not None:
            actor.load_weights(*fresh)
        report = actor.finish_round(actor.start_round(rl_sampler.next(loop.problems_per_round)))
        buffer.push(report.scored)
        totals.add_report(report)

    def rl_batch(rl_index: int) -> list[ScoredSample] | None:
        """The RL batch of this step; None when a stop request interrupted the wait (async)."""
        need = loop.min_samples
        if loop.synchronous:
            if rl_index % loop.rl_steps_per_round == 0:
                sync_round()
            for _ in range(MAX_EMPTY_ROUNDS):
                buffer.drop_stale(learner.step, loop.max_staleness)
                if len(buffer) >= need:
                    break
                sync_round()
            else:
                raise RuntimeError(
                    f"{MAX_EMPTY_ROUNDS} actor rounds without {need} usable samples "
                    "(every program failed to execute? see the log)"
                )
        else:
            assert thread is not None
            with clock.time("learner_wait"):
                while not stop:
                    if thread.error is not None:
                        raise RuntimeError("the actor thread failed") from thread.error
                    buffer.drop_stale(learner.step, loop.max_staleness)
                    if len(buffer) >= need or buffer.wait_for(need, timeout=0.2):
                        break
                else:
                    return None
        rng = random.Random(f"{cfg.seed}:rl:{learner.step}:{rl_index}")
        return buffer.sample(loop.rl_batch_size * cfg.optim.grad_accum, rng)

    def split(items: list[Any], size: int) -> list[list[Any]]:
        return [items[i : i + size] for i in range(0, len(items), size)]

    publish: Callable[[], None]
    if loop.synchronous:

        def publish() -> None:
            actor.load_weights(policy.trainable_state(), learner.step)

    else:

        def publish() -> None:
            slot.publish(policy.trainable_state(), learner.step)

    consecutive_skips = 0
    clock.restart()
    try:
        with stop.installed(), metrics, make_progress() as progress:
            bar = progress.add_task("train", total=loop.steps, completed=learner.step, status="")
            while learner.step < loop.steps and not stop:
                kind = step_kind(learner.step, loop)
                if thread is not None and thread.ident is None and kind == "rl":
                    thread.start()  # not during the warm start: its samples would be stale
                before = learner.step
                stats: dict[str, Any]
                if kind == "sl":
                    assert sl_sampler is not None
                    batch = sl_sampler.next(loop.sl_batch_size * cfg.optim.grad_accum)
                    with clock.time("learn"):
                        stats = learner.sl_step(
                            split(batch, loop.sl_batch_size), loop.sl_loss_reduction
                        )
                else:
                    rl_index = totals.counts["rl_steps"]
                    samples = rl_batch(rl_index)
                    if samples is None:
                        break
                    staleness = [learner.step - s.version for s in samples]
                    with clock.time("learn"):
                        stats = learner.rl_step(
                            split(samples, loop.rl_batch_size),
                            loop.rl_loss_reduction,
                            loop.rl_loss_weight,
                        )
                    stats["staleness/mean"] = sum(staleness) / len(staleness)
                    stats["staleness/max"] = max(staleness)
                if learner.step == before:  # a non-finite update was skipped
                    consecutive_skips += 1
                    if consecutive_skips >= 10:
                        raise RuntimeError("10 consecutive non-finite updates: lower optim.lr")
                    continue
                consecutive_skips = 0
                totals.counts[f"{kind}_steps"] += 1
                totals.counts["learner_tokens"] += int(stats.get("learner/tokens", 0))
                step = learner.step
                if step % loop.sync_every == 0:
                    with clock.time("sync"):
                        publish()
                with clock.time("log"):
                    drain()
                    if step % cfg.metrics.log_every == 0 or step == loop.steps:
                        row = metrics_row(stats, kind, totals, buffer, clock, actor.version, step)
                        metrics.log(step, row)
                        progress.update(bar, status=status_text(row, len(buffer)))
                    if step % cfg.metrics.sample_log_every == 0 and totals.recent:
                        recent = list(totals.recent)[-cfg.metrics.samples_logged :]
                        metrics.log_samples(step, recent)
                    progress.update(bar, completed=step)
                if cfg.checkpoint.every and step % cfg.checkpoint.every == 0:
                    save()
            save()
    finally:
        if thread is not None and thread.is_alive():
            thread.stop(timeout=60)
            drain()
        if owned is not None:
            owned.close()
    summary = run_summary(totals, clock, learner.step)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log.info("wall-time shares: %s", shares_text(summary["time_shares"]))
    if cfg.checkpoint.export_final and learner.step >= loop.steps:
        policy.version = learner.step
        log.info("final model: %s", policy.save(run_dir / "final"))
    return stop.exit_code
