"""``rltf sft``: the supervised warm start RLTF begins from (CodeRL §4: cross-entropy on the
reference solutions of the training problems, prompt tokens masked)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from rltf.config import to_dict
from rltf.console import make_progress
from rltf.training.checkpoint import (
    CheckpointManager,
    capture_rng,
    load_trainable_state,
    restore_rng,
    trainable_state,
)
from rltf.training.config import SFTConfig
from rltf.training.data import (
    EpochSampler,
    build_policy,
    load_problems,
    make_prompts,
    sl_examples,
)
from rltf.training.learner import Learner
from rltf.training.metrics import MetricsLogger
from rltf.training.run import (
    StopRequest,
    config_changes,
    prepare_run_dir,
    save_config,
    seed_everything,
)

log = logging.getLogger("rltf.training")


def run_sft(cfg: SFTConfig, *, resume: bool = False, overwrite: bool = False) -> int:
    """Train ``cfg.sft.steps`` optimizer steps; returns 0, or 128+signal when stopped early
    (after writing a checkpoint)."""
    run_dir, manager = prepare_run_dir(cfg.run_dir, cfg.checkpoint.dir, resume, overwrite)
    manager.keep_last = cfg.checkpoint.keep_last
    seed_everything(cfg.seed, cfg.deterministic, cfg.sft.torch_threads)
    problems = [p for p in load_problems(cfg.data) if p.solutions]
    if not problems:
        raise ValueError(f"data.train {cfg.data.train!r}: no problem has a reference solution")
    policy = build_policy(cfg.policy, cfg.tiny, run_dir, problems, cfg.seed)
    prompts = make_prompts(problems, cfg.data.prompt_style, policy.tokenizer)
    examples = sl_examples(
        problems, prompts, policy, cfg.data.max_prompt_tokens, cfg.data.max_target_tokens
    )
    sampler = EpochSampler(examples, cfg.seed)
    learner = Learner(policy, cfg.optim, cfg.sft.steps)
    tokens_total = 0

    latest = manager.latest() if resume else None
    if latest is not None:
        ck = CheckpointManager.load(latest)
        changed = config_changes(ck.state.get("config", {}), cfg)
        if changed:
            log.warning("resuming with a changed config: %s", ", ".join(changed))
        load_trainable_state(policy.model, ck.weights)
        learner.load_state_dict(ck.trainer["learner"], ck.step, ck.state["skipped_nonfinite"])
        sampler.load_state_dict(ck.state["sampler"])
        tokens_total = int(ck.state["tokens"])
        restore_rng(ck.trainer["rng"], ck.state["rng"])
        log.info("resumed from %s (step %d)", latest, ck.step)
    elif resume:
        log.info("--resume: no checkpoint in %s, starting from scratch", manager.root)
    save_config(cfg, run_dir)

    def save() -> Path:
        rng_t, rng_p = capture_rng()
        state: dict[str, Any] = {
            "kind": "sft",
            "config": to_dict(cfg),
            "sampler": sampler.state_dict(),
            "tokens": tokens_total,
            "skipped_nonfinite": learner.skipped_nonfinite,
            "rng": rng_p,
        }
        trainer = {"learner": learner.state_dict(), "rng": rng_t}
        return manager.save(
            learner.step, weights=trainable_state(policy.model), trainer=trainer, state=state
        )

    stop = StopRequest()
    metrics = MetricsLogger(
        run_dir,
        tensorboard=cfg.metrics.tensorboard,
        resume_step=learner.step if latest is not None else None,
    )
    t_start = time.perf_counter()
    with stop.installed(), metrics, make_progress() as progress:
        bar = progress.add_task("sft", total=cfg.sft.steps, completed=learner.step, status="")
        consecutive_skips = 0
        while learner.step < cfg.sft.steps and not stop:
            batches = [sampler.next(cfg.sft.batch_size) for _ in range(cfg.optim.grad_accum)]
            before = learner.step
            stats = learner.sl_step(batches, cfg.sft.loss_reduction)
            if learner.step == before:
                consecutive_skips += 1
                if consecutive_skips >= 10:
                    raise RuntimeError("10 consecutive non-finite SL steps: lower optim.lr")
                continue
            consecutive_skips = 0
            tokens_total += int(stats["learner/tokens"])
            step = learner.step
            if step % cfg.metrics.log_every == 0 or step == cfg.sft.steps:
                wall = time.perf_counter() - t_start
                stats["learner/tokens_per_s"] = stats["learner/tokens"] / stats["learner/seconds"]
                stats["sampler/epoch"] = sampler.epoch
                stats["time/wall_s"] = wall
                metrics.log(step, stats)
            progress.update(bar, completed=step, status=f"loss {stats['loss/sl']:.3f}")
            if cfg.checkpoint.every and step % cfg.checkpoint.every == 0:
                save()
        path = save()
        log.info("checkpoint %s", path)
    if cfg.checkpoint.export_final and learner.step >= cfg.sft.steps:
        policy.version = learner.step
        out = policy.save(run_dir / "final")
        log.info("final model: %s (use it as policy.model of `rltf train`)", out)
    return stop.exit_code
