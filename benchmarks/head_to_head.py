"""Head-to-head on builtin:basic: TRL's GRPOTrainer with rltf's CodeReward vs rltf's own learner
with full RLTF rewards, from the same warm start, for the same wall time on the same CPU.

    .venv/bin/python benchmarks/head_to_head.py --warm runs/demo/sft/final \\
        --out runs/head-to-head --rltf-steps 30 --n 4

1. rltf arm: the tiny demo preset's RLTF stage (rltf.demo.PRESETS["tiny"].train: 8 problems x 8
   samples a step at T = 0.6, SL batch of 16 + RL batch of 64 in one AdamW step, lr 5e-4, full
   RLTF rewards with leave-one-out baselines and group normalisation) for ``--rltf-steps`` steps;
   its training wall time W is read from its summary.json.
2. TRL arm: GRPOTrainer from the same warm start with CodeReward(kind="coarse"), the same
   sampling (8 x 8 a step, T = 0.6, top-p 0.95, 128 new tokens), lr, warmup and clipping, stopped
   by a callback once its training has run W seconds.
3. Held-out pass@k of the warm start and of both final models with rltf's evaluation (easy tier
   of builtin:basic:test, ``--n`` samples a problem, T = 0.6, evaluation seed 1234).

Writes ``<out>/head_to_head.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

EVAL_SEED = 1234


def rltf_arm(warm: Path, out: Path, steps: int, seed: int) -> dict[str, Any]:
    from rltf.config import from_dict
    from rltf.demo import PRESETS, deep_merge
    from rltf.training.config import TrainConfig
    from rltf.training.loop import run_train

    preset = PRESETS["tiny"]
    loop = {"steps": steps}
    cfg = from_dict(
        TrainConfig,
        deep_merge(
            preset.train,
            {"run_dir": str(out), "seed": seed, "policy": {"model": str(warm)}, "loop": loop},
        ),
        "head-to-head",
    )
    start = time.monotonic()
    if run_train(cfg, resume=True) != 0:
        raise SystemExit("rltf training stopped")
    summary = json.loads((out / "summary.json").read_text())
    return {
        "final": str(out / "final"),
        "steps": summary["steps"],
        "train_wall_s": summary["wall_s"],
        "total_wall_s": time.monotonic() - start,
        "programs": summary["counts"]["programs"],
        "samples_per_s": summary["counts"]["programs"] / summary["wall_s"],
    }


def trl_arm(warm: Path, out: Path, seconds: float, seed: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rltf.integrations.trl import CodeReward, to_dataset
    from rltf.tasks import load_dataset

    torch.set_num_threads(2)  # the rltf preset's torch_threads
    problems = [p for p in load_dataset("builtin:basic:train") if p.difficulty == "easy"]

    class TimeBudget(TrainerCallback):
        """Stop once training has run ``seconds`` (checked after each optimizer step)."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.start = time.monotonic()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if time.monotonic() - self.start >= seconds:
                control.should_training_stop = True

    args = GRPOConfig(
        output_dir=str(out),
        per_device_train_batch_size=64,
        num_generations=8,  # 8 problems x 8 samples a step, as the rltf preset
        max_completion_length=128,
        temperature=0.6,
        top_p=0.95,
        learning_rate=5e-4,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=10,
        max_grad_norm=1.0,
        max_steps=10_000,  # the callback stops it
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        seed=seed,
    )
    budget = TimeBudget()
    with CodeReward("coarse", workers=2) as reward:
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(warm),
            reward_funcs=reward,
            args=args,
            train_dataset=to_dataset(problems),
            processing_class=AutoTokenizer.from_pretrained(warm),
            callbacks=[budget],
        )
        result = trainer.train()
    final = out / "final"
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))  # type: ignore[union-attr]
    shutil.copy(warm / "rltf_policy.json", final / "rltf_policy.json")
    steps = trainer.state.global_step
    wall = float(result.metrics["train_runtime"])
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    return {
        "final": str(final),
        "steps": steps,
        "train_wall_s": wall,
        "programs": steps * 64,
        "samples_per_s": steps * 64 / wall,
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
    }


def evaluate(model: Path, out: Path, n: int) -> dict[int, float]:
    from rltf.demo import PRESETS, evaluate_held_out

    report = evaluate_held_out(model, out, PRESETS["tiny"], EVAL_SEED, n=n, quiet=True)
    return {int(k): float(v) for k, v in report.pass_at_k.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--warm", type=Path, required=True, help="warm-start model directory")
    ap.add_argument("--out", type=Path, default=Path("runs/head-to-head"))
    ap.add_argument("--rltf-steps", type=int, default=30)
    ap.add_argument("--n", type=int, default=4, help="held-out samples per problem")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not (a.warm / "config.json").is_file():
        raise SystemExit(f"--warm {a.warm}: no config.json (not a model directory)")
    a.out.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"warm": str(a.warm), "n": a.n, "eval_seed": EVAL_SEED}
    res["warm_start"] = {"pass_at_k": evaluate(a.warm, a.out / "eval-warm", a.n)}
    res["rltf"] = rltf_arm(a.warm, a.out / "rltf", a.rltf_steps, a.seed)
    res["trl"] = trl_arm(a.warm, a.out / "trl", res["rltf"]["train_wall_s"], a.seed)
    for arm in ("rltf", "trl"):
        res[arm]["pass_at_k"] = evaluate(Path(res[arm]["final"]), a.out / f"eval-{arm}", a.n)
    (a.out / "head_to_head.json").write_text(json.dumps(res, indent=2) + "\n")
    ks = sorted(res["warm_start"]["pass_at_k"])
    print(
        "| arm | steps | train wall s | samples/s | " + " | ".join(f"pass@{k}" for k in ks) + " |"
    )
    print("|---|---|---|---|" + "---|" * len(ks))
    for arm in ("warm_start", "rltf", "trl"):
        r = res[arm]
        cells = [f"{100 * r['pass_at_k'][k]:.2f}" for k in ks]
        steps, wall = r.get("steps", 0), r.get("train_wall_s", 0.0)
        sps = f"{r['samples_per_s']:.1f}" if "samples_per_s" in r else "-"
        print(f"| {arm} | {steps} | {wall:.0f} | {sps} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
