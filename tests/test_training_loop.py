"""The online loop end to end on a tiny model, with an in-process judge instead of the sandbox
(fast): metrics, checkpoints, async overlap, failures skipped, SIGTERM + exact resume."""

import json
import os
import signal
from concurrent.futures import Future
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rltf.config import from_dict
from rltf.records import ErrorInfo, Problem, Verdict
from rltf.training.config import TrainConfig
from rltf.training.loop import run_train

PROBLEMS = Path(__file__).parent / "fixtures" / "training" / "problems.jsonl"


class JudgePool:
    """Judges by ``compile()`` and comparison with the references: enough to exercise rewards
    (compile errors with a line, wrong answers, passes) without processes."""

    def __init__(self, fail_every: int = 0, on_submit=None) -> None:
        self.submitted = 0
        self.fail_every = fail_every
        self.on_submit = on_submit

    def submit(self, problem: Problem, program: str, mode: str = "train") -> Future:
        self.submitted += 1
        if self.on_submit is not None:
            self.on_submit(self.submitted)
        fut: Future = Future()
        n = problem.num_tests
        if self.fail_every and self.submitted % self.fail_every == 0:
            fut.set_exception(RuntimeError("worker died"))
            return fut
        try:
            compile(program, "<program>", "exec")
        except SyntaxError as e:
            line = e.lineno if e.lineno and e.lineno <= program.count("\n") + 1 else None
            err = ErrorInfo("SyntaxError", str(e.msg), line, "line" if line else "ignore")
            fut.set_result(Verdict("compile_error", total=n, error=err))
            return fut
        if program.strip() in {s.strip() for s in problem.solutions}:
            fut.set_result(Verdict("passed", passed=n, total=n))
        else:
            fut.set_result(Verdict("failed", passed=0, total=n))
        return fut


def make_config(
    tmp_path: Path, name: str = "run", data: str = f"jsonl:{PROBLEMS}", **loop
) -> TrainConfig:
    loop_cfg = {
        "steps": 4,
        "samples_per_problem": 2,
        "problems_per_round": 2,
        "sl_batch_size": 4,
        "rl_batch_size": 4,
        "synchronous": True,
        "deterministic": True,
        "torch_threads": 1,
        **loop,
    }
    return from_dict(
        TrainConfig,
        {
            "run_dir": str(tmp_path / name),
            "policy": {"model": "tiny"},
            "tiny": {"n_layer": 1, "n_embd": 32, "n_head": 2, "vocab_size": 300},
            "data": {"train": data, "limit": 6},
            "generation": {"max_new_tokens": 16, "batch_size": 16},
            "optim": {"lr": 1e-3},
            "loop": loop_cfg,
            "checkpoint": {"every": 2},
            "metrics": {"tensorboard": False, "sample_log_every": 2},
        },
    )


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def final_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(sorted((run / "checkpoints").glob("ckpt-*"))[-1] / "model.safetensors"))


def test_synchronous_loop_trains_logs_and_checkpoints(tmp_path):
    cfg = make_config(tmp_path, data="builtin:basic:train")  # a handful of built-in problems
    pool = JudgePool()
    assert run_train(cfg, pool=pool) == 0
    run = tmp_path / "run"
    metrics = rows(run / "metrics.jsonl")
    assert [r["step"] for r in metrics] == [1, 2, 3, 4]
    sl, rl = metrics[0], metrics[1]
    assert "loss/sl" in sl and "loss/rl" in rl
    for key in ("loss/rl_coarse", "loss/rl_fine", "loss/rl_adaptive", "staleness/mean"):
        assert key in rl
    # the outcome mix, pass rate, rewards, throughput and time shares of the actor's round
    for key in ("outcome/compile_error", "actor/pass_rate", "reward/coarse", "reward/fine"):
        assert key in rl, key
    for key in ("throughput/programs_per_s", "throughput/gen_tokens_per_s", "time/share_learn"):
        assert key in metrics[-1]
    assert abs(sum(rl[f"outcome/{o}"] for o in ("passed", "failed", "compile_error")) - 1) < 1e-9
    samples = rows(run / "samples.jsonl")
    assert samples and {"program", "outcome", "reward", "problem_id"} <= samples[0].keys()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["counts"]["rl_steps"] == 4
    assert {"generate", "learn", "reward"} <= summary["time_shares"].keys()
    assert [p.name for p in sorted((run / "checkpoints").iterdir())] == [
        "ckpt-00000002",
        "ckpt-00000004",
    ]
    assert (run / "final" / "model.safetensors").is_file()
    # one round a step, 4 × 2 problems × (2 samples + 1 greedy); every sample trains, once
    assert pool.submitted == 24
    assert all(r["learner/rl_samples"] == 4 for r in metrics)
    assert all(r["staleness/max"] == 0 for r in metrics)  # synchronous: on-policy


def test_warm_start_steps_are_sl_only_then_every_step_is_joint(tmp_path):
    cfg = make_config(tmp_path, warm_start_steps=2)
    pool = JudgePool()
    assert run_train(cfg, pool=pool) == 0
    metrics = rows(tmp_path / "run" / "metrics.jsonl")
    assert ["loss/rl" in r for r in metrics] == [False, False, True, True]
    assert all("loss/sl" in r for r in metrics)
    assert pool.submitted == 12


def test_a_round_of_sandbox_errors_stops_the_run(tmp_path):
    class Broken(JudgePool):
        def submit(self, problem, program, mode="train"):
            fut: Future = Future()
            fut.set_result(Verdict("sandbox_error", total=problem.num_tests))
            return fut

    with pytest.raises(RuntimeError, match=r"sandbox_error.*max_sandbox_error_share"):
        run_train(make_config(tmp_path), pool=Broken())
    # below the threshold the run goes on (the worker failures of JudgePool count too)
    cfg = make_config(tmp_path, "ok", max_sandbox_error_share=0.5)
    assert run_train(cfg, pool=JudgePool(fail_every=5)) == 0


def test_async_loop_overlaps_and_skips_worker_failures(tmp_path):
    cfg = make_config(tmp_path, synchronous=False, deterministic=False, steps=6, max_staleness=8)
    pool = JudgePool(fail_every=5)
    assert run_train(cfg, pool=pool) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["rl_steps"] == 6
    assert summary["counts"]["exec_failures"] >= 1  # counted and skipped, the run goes on
    metrics = rows(tmp_path / "run" / "metrics.jsonl")
    assert any("staleness/max" in r for r in metrics)
    # the actor ran in its own thread while the learner trained: both stages have busy time
    assert summary["time_shares"]["generate"] > 0 and summary["time_shares"]["learn"] > 0
    assert "time/share_generate" in metrics[-1]


def test_sigterm_writes_a_checkpoint_and_resume_is_bit_identical(tmp_path):
    reference = make_config(tmp_path, "reference", steps=6)
    assert run_train(reference, pool=JudgePool()) == 0

    # the second round's submissions raise SIGTERM: the step finishes, a checkpoint is written
    def kill(n: int) -> None:
        if n == 7:
            os.kill(os.getpid(), signal.SIGTERM)

    interrupted = make_config(tmp_path, "interrupted", steps=6)
    assert run_train(interrupted, pool=JudgePool(on_submit=kill)) == 128 + signal.SIGTERM
    run = tmp_path / "interrupted"
    assert not (run / "final").exists()
    last = sorted((run / "checkpoints").glob("ckpt-*"))[-1].name
    assert last not in ("ckpt-00000006",)
    assert run_train(interrupted, resume=True, pool=JudgePool()) == 0
    a, b = final_weights(tmp_path / "reference"), final_weights(run)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the resumed run's metrics read like an uninterrupted run's
    assert [r["step"] for r in rows(run / "metrics.jsonl")] == [1, 2, 3, 4, 5, 6]


def test_existing_run_dir_needs_resume_or_overwrite(tmp_path):
    from rltf.config import ConfigError

    cfg = make_config(tmp_path, steps=2)
    assert run_train(cfg, pool=JudgePool()) == 0
    with pytest.raises(ConfigError, match="--resume"):
        run_train(cfg, pool=JudgePool())
    assert run_train(cfg, overwrite=True, pool=JudgePool()) == 0


def test_lora_checkpoints_hold_only_the_adapters(tmp_path):
    cfg = make_config(tmp_path, steps=2)
    from dataclasses import replace

    from rltf.policy import LoraSettings

    cfg = replace(cfg, policy=replace(cfg.policy, lora=LoraSettings(r=2, alpha=4)))
    assert run_train(cfg, pool=JudgePool()) == 0
    weights = final_weights(tmp_path / "run")
    assert weights and all("lora_" in k for k in weights)
    assert (tmp_path / "run" / "final" / "adapter_config.json").is_file()
