"""Head-to-head on builtin:basic: TRL's GRPOTrainer with rltf's CodeReward vs rltf's own learner
with full RLTF rewards, from the same warm start, for the same wall time on the same CPU.

    .venv/bin/python benchmarks/head_to_head.py --warm runs/demo/sft/final \\
        --out runs/head-to-head --rltf-steps 100 --n 16 --seeds 0 1 2 \\
        --trl-lr 5e-4 5e-5 --rl-only-lr 5e-4 5e-5

1. rltf arm: the tiny demo preset's RLTF stage (rltf.demo.PRESETS["tiny"].train: 8 problems x 8
   samples a step at T = 0.6, SL batch of 16 + RL batch of 64 in one AdamW step, lr 5e-4, full
   RLTF rewards with leave-one-out baselines and group normalisation) for ``--rltf-steps`` steps;
   its training wall time W is read from its summary.json. With ``--rl-only-lr`` also the
   same learner without its SL term (``loop.sl_batch_size 0``), one arm per learning rate: the
   RL-against-RL comparison.
2. TRL arm: GRPOTrainer from the same warm start with CodeReward(kind="coarse"), the same
   sampling (8 x 8 a step, T = 0.6, top-p 0.95, 128 new tokens), warmup and clipping, stopped
   by a callback once its training has run W seconds; one arm per ``--trl-lr`` (TRL has no SL
   term to anchor it, so the rltf preset's lr need not suit it).
3. Held-out pass@k of the warm start and of both final models with rltf's evaluation (easy tier
   of builtin:basic:test, ``--n`` samples a problem, T = 0.6, evaluation seed 1234).

Each arm of each ``--seeds`` seed is kept in ``<out>/seed<S>/<arm>/result.json`` (an interrupted
run resumes arm by arm). Writes ``<out>/head_to_head.json`` and prints a markdown table: means
over seeds, pass@1 with a bootstrap CI, and rltf minus each TRL arm, paired by seed and problem.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rltf.evaluation.report import EvalReport

EVAL_SEED = 1234


def rltf_arm(
    warm: Path, out: Path, steps: int, seed: int, sl: bool = True, lr: float | None = None
) -> dict[str, Any]:
    """The preset's RLTF stage; ``sl=False``: the same with no SL term (RL only, as TRL);
    ``lr``: instead of the preset's learning rate."""
    from rltf.config import from_dict
    from rltf.demo import PRESETS, deep_merge
    from rltf.training.config import TrainConfig
    from rltf.training.loop import run_train

    preset = PRESETS["tiny"]
    loop = {"steps": steps} if sl else {"steps": steps, "sl_batch_size": 0}
    cfg = from_dict(
        TrainConfig,
        deep_merge(
            preset.train,
            {
                "run_dir": str(out),
                "seed": seed,
                "policy": {"model": str(warm)},
                "loop": loop,
                **({"optim": {"lr": lr}} if lr is not None else {}),
            },
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
        "seed": seed,
        "train_wall_s": summary["wall_s"],
        "total_wall_s": time.monotonic() - start,
        "programs": summary["counts"]["programs"],
        "samples_per_s": summary["counts"]["programs"] / summary["wall_s"],
    }


def trl_arm(warm: Path, out: Path, seconds: float, seed: int, lr: float) -> dict[str, Any]:
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
        learning_rate=lr,
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
        "seed": seed,
        "lr": lr,
        "train_wall_s": wall,
        "programs": steps * 64,
        "samples_per_s": steps * 64 / wall,
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
    }


def evaluate(model: Path, out: Path, n: int) -> EvalReport:
    from rltf.demo import PRESETS, evaluate_held_out

    return evaluate_held_out(model, out, PRESETS["tiny"], EVAL_SEED, n=n, quiet=True)


def per_problem(report: EvalReport) -> dict[str, float]:
    return {p.problem_id: p.c / p.n if p.n else 0.0 for p in report.problems}


def arm(out: Path, train: Callable[[], dict[str, Any]], n: int) -> dict[str, Any]:
    """Train and evaluate one arm, or reuse ``out/result.json`` from a finished run (an
    interrupted head-to-head resumes arm by arm)."""
    done = out / "result.json"
    if done.is_file():
        return dict(json.loads(done.read_text()))
    res = train()
    report = evaluate(Path(res["final"]), out / "eval", n)
    res["pass_at_k"] = {str(k): float(v) for k, v in report.pass_at_k.items()}
    res["per_problem"] = per_problem(report)
    done.write_text(json.dumps(res, indent=2) + "\n")
    return res


def table(res: dict[str, Any], arms: list[str]) -> str:
    """Markdown: each arm's mean over seeds, and rltf minus each TRL arm (paired bootstrap over
    seeds and problems: the same evaluation draws for every model)."""
    from rltf.evaluation.bootstrap import bootstrap_mean, paired_difference

    seeds = res["seeds"]
    ks = sorted(res["warm_start"]["pass_at_k"], key=int)[1:]
    runs = {a: [res[f"seed{s}"][a] for s in seeds] for a in arms}
    scores = {
        a: {s: r["per_problem"] for s, r in zip(seeds, rs, strict=True)} for a, rs in runs.items()
    }
    lines = [
        "| arm | steps | train wall s | samples/s | pass@1 (%) [95% CI] | rltf − arm (points) |"
        + "".join(f" pass@{k} (%) |" for k in ks),
        "|---" * (6 + len(ks)) + "|",
    ]
    warm = res["warm_start"]["pass_at_k"]
    lines.append(
        f"| warm start | 0 | 0 | - | {100 * warm['1']:.2f} | - |"
        + "".join(f" {100 * warm[k]:.2f} |" for k in ks)
    )
    for a, rs in runs.items():
        mean = {key: sum(float(r[key]) for r in rs) / len(rs) for key in ("steps", "train_wall_s")}
        sps = sum(float(r["samples_per_s"]) for r in rs) / len(rs)
        iv = bootstrap_mean(scores[a])
        diff = "—" if a == "rltf" else paired_difference(scores["rltf"], scores[a]).fmt()
        pk = [sum(float(r["pass_at_k"][k]) for r in rs) / len(rs) for k in ks]
        lines.append(
            f"| {a} | {mean['steps']:.0f} | {mean['train_wall_s']:.0f} | {sps:.1f} | "
            f"{100 * iv.mean:.2f} [{100 * iv.low:.2f}, {100 * iv.high:.2f}] | {diff} |"
            + "".join(f" {100 * v:.2f} |" for v in pk)
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--warm", type=Path, required=True, help="warm-start model directory")
    ap.add_argument("--out", type=Path, default=Path("runs/head-to-head"))
    ap.add_argument("--rltf-steps", type=int, default=30)
    ap.add_argument("--n", type=int, default=4, help="held-out samples per problem")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument(
        "--trl-lr", type=float, nargs="+", default=[5e-4], help="one TRL arm per learning rate"
    )
    ap.add_argument(
        "--rl-only-lr",
        type=float,
        nargs="*",
        default=[],
        help="also rltf's learner without its SL term (RL only, as TRL), one arm per lr",
    )
    a = ap.parse_args()
    if not (a.warm / "config.json").is_file():
        raise SystemExit(f"--warm {a.warm}: no config.json (not a model directory)")
    a.out.mkdir(parents=True, exist_ok=True)
    warm = evaluate(a.warm, a.out / "eval-warm", a.n)
    res: dict[str, Any] = {"warm": str(a.warm), "n": a.n, "eval_seed": EVAL_SEED, "seeds": a.seeds}
    res["warm_start"] = {"pass_at_k": {str(k): v for k, v in warm.pass_at_k.items()}}
    trl_arms = {f"trl lr={lr:g}": lr for lr in a.trl_lr}
    rl_only_arms = {f"rltf RL only lr={lr:g}": lr for lr in a.rl_only_lr}
    for seed in a.seeds:
        d = a.out / f"seed{seed}"
        ours = arm(d / "rltf", partial(rltf_arm, a.warm, d / "rltf", a.rltf_steps, seed), a.n)
        res[f"seed{seed}"] = {"rltf": ours}
        for name, lr in rl_only_arms.items():
            out = d / f"rltf-rl-only-lr{lr:g}"
            train = partial(rltf_arm, a.warm, out, a.rltf_steps, seed, False, lr)
            res[f"seed{seed}"][name] = arm(out, train, a.n)
        for name, lr in trl_arms.items():
            out = d / f"trl-lr{lr:g}"
            train = partial(trl_arm, a.warm, out, ours["train_wall_s"], seed, lr)
            res[f"seed{seed}"][name] = arm(out, train, a.n)
    (a.out / "head_to_head.json").write_text(json.dumps(res, indent=2) + "\n")
    print(table(res, ["rltf", *rl_only_arms, *trl_arms]))


if __name__ == "__main__":
    main()
