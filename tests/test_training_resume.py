"""Exact resume: `rltf train` killed with SIGKILL at an arbitrary moment after its first checkpoint
and resumed with the same command ends with weights bit-identical to an uninterrupted run
(deterministic mode: synchronous actor, fixed seed, CPU; real sandboxed execution)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

PROBLEMS = Path(__file__).parent / "fixtures" / "training" / "problems.jsonl"
KILL_SEED = 17  # default seed of the kill moment; override with RLTF_KILL_SEED


def write_config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"""
run_dir: {tmp_path / name}
seed: 3
policy: {{model: tiny}}
tiny: {{n_layer: 1, n_embd: 32, n_head: 2, vocab_size: 300}}
data: {{train: "jsonl:{PROBLEMS}"}}
generation: {{max_new_tokens: 24, batch_size: 16}}
rewards: {{baseline: greedy}}
execution: {{timeout_per_test: 2.0, timeout_per_program: 4.0}}
optim: {{lr: 3.0e-3, warmup_steps: 3, schedule: cosine}}
loop:
  steps: 16
  samples_per_problem: 2
  problems_per_round: 2
  sl_batch_size: 4
  rl_batch_size: 4
  warm_start_steps: 2
  max_staleness: 6
  synchronous: true
  deterministic: true
  torch_threads: 1
  exec_workers: 2
checkpoint: {{every: 2, keep_last: 2}}
metrics: {{tensorboard: false, sample_log_every: 4}}
"""
    )
    return path


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "rltf", "train", "-q", "--config", str(config), "--resume"]


def run(config: Path) -> None:
    proc = subprocess.run(command(config), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{config.name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"


def last_checkpoint(run_dir: Path) -> Path:
    return sorted((run_dir / "checkpoints").glob("ckpt-*"))[-1]


def losses(run_dir: Path) -> list[tuple[int, float]]:
    out = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        out.append((row["step"], row.get("loss/sl", row.get("loss/rl"))))
    return out


def test_sigkill_and_resume_is_bit_identical(tmp_path):
    reference = write_config(tmp_path, "reference")
    run(reference)

    killed = write_config(tmp_path, "killed")
    ckpts = tmp_path / "killed" / "checkpoints"
    # a new session, so that SIGKILL takes the trainer and its execution workers at once,
    # like a machine losing power
    stderr = tmp_path / "killed.stderr"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(
            command(killed), stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        deadline = time.monotonic() + 120

        def wait_for_checkpoint_after(name: str) -> str:
            while True:
                names = sorted(c.name for c in ckpts.glob("ckpt-*")) if ckpts.is_dir() else []
                if names and names[-1] > name:
                    return names[-1]
                assert proc.poll() is None, stderr.read_text()[-3000:]
                assert time.monotonic() < deadline, "no new checkpoint within 120 s"
                time.sleep(0.01)

        # The kill lands at an arbitrary moment (mid-step, mid-save, mid-round) within one
        # checkpoint period, measured on this machine so that the run cannot finish first.
        first = wait_for_checkpoint_after("")
        t_first = time.monotonic()
        wait_for_checkpoint_after(first)
        period = time.monotonic() - t_first
        # Seeded, so that a failing kill moment can be replayed: RLTF_KILL_SEED=N reruns it
        # (the moment is the same fraction of the period, which this machine measures).
        seed = int(os.environ.get("RLTF_KILL_SEED", str(KILL_SEED)))
        fraction = random.Random(seed).random()
        delay = fraction * period
        print(f"kill seed {seed}: {fraction:.3f} of the {period:.2f} s checkpoint period")
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    replay = f"(replay with RLTF_KILL_SEED={seed})"
    assert proc.returncode == -signal.SIGKILL, f"{replay} " + stderr.read_text()[-3000:]
    at = last_checkpoint(tmp_path / "killed").name
    assert at != "ckpt-00000016", f"finished before the kill {replay}"
    print(f"killed {delay:.2f} s after the second checkpoint; newest complete: {at} {replay}")

    run(killed)  # the same command resumes from the newest complete checkpoint

    a = load_file(str(last_checkpoint(tmp_path / "reference") / "model.safetensors"))
    b = load_file(str(last_checkpoint(tmp_path / "killed") / "model.safetensors"))
    assert last_checkpoint(tmp_path / "killed").name == "ckpt-00000016"
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), replay
    assert losses(tmp_path / "killed") == losses(tmp_path / "reference"), replay
