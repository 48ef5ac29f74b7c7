"""Generation speed: rltf's sampler vs HF ``generate()`` vs the model's forward-only floor.

    .venv/bin/python benchmarks/generation.py                      # default run (~5 min idle)
    .venv/bin/python benchmarks/generation.py --models smollm2 --batches 64 --new-tokens 128

Same model, prompts (built-in problems' statements) and sampling settings (temperature 0.8,
top-p 0.95) for every engine, in one process, for fp32 and bf16:

* ``rltf``: ``Policy.generate`` (whole call: tokenisation, sampling, log-probs, offsets, Samples);
  its bf16 run uses ``GenerationConfig(dtype="bfloat16")`` (a bf16 copy of the fp32 model);
* ``hf``: ``model.generate(do_sample=True, temperature, top_p)`` on the same left-padded batch;
* ``rltf ... keep``: the same bf16 call with finished rows kept in the batch to the end (the
  baseline of dropping them), and a breakdown of one bf16 call's time (prefill, decode steps,
  sampler, the rest);
* ``rltf ... n4``: an RL round, batch / 4 prompts x 4 samples each, with the shared prompt
  prefilled once (``_noshare``: every row prefilled, the baseline);
* ``floor``: the prefill plus one cached forward step per token feeding back the argmax, nothing
  else: what any engine built on this model in eager PyTorch pays at least.

tokens/s counts generated tokens (up to and including EOS). Ratios measured in one run are what
counts when the machine is shared. Also measured: the bf16 weight push (a learner-to-actor sync),
the agreement of bf16 behaviour log-probs with the fp32 learner's (mean/max |diff| and the
importance ratio's spread) and the learner step (forward + backward + AdamW) with and without
bf16 autocast, with the loss and gradient agreement.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from unittest import mock

import torch

from rltf.policy import GenerationConfig, Policy, build_tiny_model, load_policy, sampling
from rltf.policy.precision import GenerationModel, cpu_supports_bf16
from rltf.policy.sampling import (
    accepts,
    cache_keyword,
    left_pad,
    output_cache,
    pick,
    position_ids,
    top_p_filter,
)
from rltf.records import Sample
from rltf.tasks import load_dataset
from rltf.tasks.prompts import Prompt


def prompts_for(batch: int) -> tuple[list[Prompt], list[str]]:
    """``batch`` problem statements of the built-in benchmark (varied lengths), as plain text."""
    problems = load_dataset("builtin:basic:test")[:batch]
    if len(problems) < batch:
        raise SystemExit(f"--batches: at most {len(problems)} built-in problems, asked {batch}")
    return [Prompt(p.prompt + "\n") for p in problems], [p.id for p in problems]


def load(name: str, workdir: str) -> Policy:
    if name == "tiny":
        corpus = [s for p in load_dataset("builtin:basic:train") for s in p.solutions]
        path = build_tiny_model(os.path.join(workdir, "tiny"), corpus, vocab_size=512, seed=0)
        return load_policy(str(path))
    if name == "smollm2":
        return load_policy("smollm2-135m")
    raise SystemExit(f"--models: unknown model {name!r} (tiny, smollm2)")


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def generated_count(rows: Sequence[Sequence[int]], eos: frozenset[int]) -> int:
    total = 0
    for row in rows:
        n = next((i + 1 for i, t in enumerate(row) if t in eos), len(row))
        total += n
    return total


@torch.inference_mode()
def floor(model: torch.nn.Module, encoded: list[list[int]], pad: int, new: int) -> int:
    """Prefill + ``new - 1`` cached steps feeding back the argmax: the forward-only floor."""
    ids, mask = left_pad(encoded, pad, "cpu")
    pos = position_ids(mask)
    keep = {"logits_to_keep": 1} if accepts(model, "logits_to_keep") else {}
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **keep)
    nxt, cache_kw = pos[:, -1:] + 1, cache_keyword(model)
    for _ in range(new - 1):
        tok = out.logits[:, -1].argmax(-1, keepdim=True)
        mask = torch.cat([mask, mask.new_ones((len(ids), 1))], dim=-1)
        out = model(
            input_ids=tok,
            attention_mask=mask,
            position_ids=nxt,
            use_cache=True,
            **{cache_kw: output_cache(out)},
        )
        nxt = nxt + 1
    return len(encoded) * new


@torch.inference_mode()
def hf_generate(
    model: torch.nn.Module,
    encoded: list[list[int]],
    pol: Policy,
    gen: GenerationConfig,
    **extra: Any,
) -> int:
    ids, mask = left_pad(encoded, pol.pad_id, "cpu")
    out = model.generate(  # type: ignore[operator]
        input_ids=ids,
        attention_mask=mask,
        do_sample=True,
        temperature=gen.temperature,
        top_p=gen.top_p,
        top_k=0,
        max_new_tokens=gen.max_new_tokens,
        pad_token_id=pol.pad_id,
        **extra,
    )
    return generated_count(out[:, ids.shape[1] :].tolist(), pol.eos_ids)


def logprob_agreement(pol: Policy, samples: list[Sample], temperature: float) -> dict[str, float]:
    """bf16 behaviour log-probs vs the fp32 learner's recomputation at the same temperature."""
    with torch.no_grad():
        learner = pol.token_logprobs(
            [s.prompt_ids for s in samples], [s.token_ids for s in samples], temperature
        )
    diff = torch.cat(
        [lp - torch.tensor(s.logprobs) for lp, s in zip(learner, samples, strict=True)]
    )
    ratio = diff.exp()  # pi_learner / pi_behaviour, per token
    return {
        "tokens": float(diff.numel()),
        "mean_abs_diff": float(diff.abs().mean()),
        "max_abs_diff": float(diff.abs().max()),
        "ratio_std": float(ratio.std()),
        "ratio_min": float(ratio.min()),
        "ratio_max": float(ratio.max()),
        "ratio_outside_0.8_1.2": float(((ratio < 0.8) | (ratio > 1.2)).float().mean()),
    }


def learner_step(
    pol: Policy, samples: list[Sample], dtype: torch.dtype | None, repeat: int
) -> dict[str, Any]:
    """Seconds per forward + backward + AdamW step on ``samples``; loss and flat gradient of the
    first step (from the same weights: the step is undone by reloading a saved state)."""
    saved = copy.deepcopy(pol.model.state_dict())
    opt = torch.optim.AdamW(pol.model.parameters(), lr=1e-5)
    pol.learner_dtype = dtype
    pol.model.train()
    times, loss0, grad0 = [], 0.0, torch.zeros(0)
    try:
        for i in range(repeat):
            t0 = time.perf_counter()
            lps = pol.token_logprobs(
                [s.prompt_ids for s in samples], [s.token_ids for s in samples]
            )
            loss = -sum(lp.sum() for lp in lps) / sum(len(s.token_ids) for s in samples)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[union-attr]
            if i == 0:
                loss0 = float(loss.detach())  # type: ignore[union-attr]
                grad0 = torch.cat(
                    [p.grad.flatten() for p in pol.model.parameters() if p.grad is not None]
                )
            opt.step()
            times.append(time.perf_counter() - t0)
    finally:
        pol.learner_dtype = None
        pol.model.load_state_dict(saved)
        pol.model.eval()
    return {"seconds": min(times), "loss": loss0, "grad": grad0}


def bench_batch(pol: Policy, name: str, batch: int, args: argparse.Namespace) -> dict[str, Any]:
    prompts, ids = prompts_for(batch)
    gen = GenerationConfig(
        temperature=0.8, top_p=0.95, max_new_tokens=args.new_tokens, batch_size=batch, seed=0
    )
    encoded = [pol.encode_prompt(p) for p in prompts]
    copies = GenerationModel()
    bf16 = copies.get(pol.model, torch.bfloat16)
    res: dict[str, Any] = {"model": name, "batch": batch, "new_tokens": args.new_tokens}
    runs: dict[str, Callable[[], int]] = {
        "floor_fp32": lambda: floor(pol.model, encoded, pol.pad_id, args.new_tokens),
        "floor_bf16": lambda: floor(bf16, encoded, pol.pad_id, args.new_tokens),
        "hf_fp32": lambda: hf_generate(pol.model, encoded, pol, gen),
        "hf_bf16": lambda: hf_generate(bf16, encoded, pol, gen),
        "rltf_fp32": lambda: sum(len(s.token_ids) for s in pol.generate(prompts, ids, gen)),
        "rltf_bf16": lambda: sum(len(s.token_ids) for s in pol.generate(prompts, ids, _bf16(gen))),
    }
    # the baseline of dropping finished rows: keep them in the batch to the end
    runs["rltf_bf16_keep"] = _patched("DROP_FINISHED_SHARE", math.inf, runs["rltf_bf16"])
    if batch % SHARED == 0:  # an RL round: batch / 4 prompts x 4 samples, shared prefill or not
        few, few_ids = prompts[: batch // SHARED], ids[: batch // SHARED]
        runs["rltf_bf16_n4"] = lambda: sum(
            len(s.token_ids) for s in pol.generate(few, few_ids, _bf16(gen), n=SHARED)
        )
        runs["rltf_bf16_n4_noshare"] = _patched("SHARE_PROMPT_PREFILL", False, runs["rltf_bf16_n4"])
    if args.compile:
        runs.update(compiled_runs(bf16, encoded, pol, gen, res))
    for key, fn in runs.items():
        tokens, seconds = timed(fn)
        for _ in range(args.gen_repeat - 1):  # best of N: the machine is shared
            tokens, again = timed(fn)
            seconds = min(seconds, again)
        res[key] = tokens / seconds
        print(f"  {name} b={batch} {key:<14} {tokens:6d} tok {seconds:7.2f} s "
              f"{res[key]:8.1f} tok/s", flush=True)  # fmt: skip
    res["rltf_bf16_breakdown_s"] = breakdown(lambda: pol.generate(prompts, ids, _bf16(gen)))
    print(f"  {name} b={batch} rltf_bf16 breakdown (s): {res['rltf_bf16_breakdown_s']}")
    _, res["weight_push_s"] = timed(lambda: _push(copies, pol))
    samples = pol.generate(prompts, ids, _bf16(gen))
    res["bf16_logprobs"] = logprob_agreement(pol, samples, gen.temperature)
    return res


def compiled_runs(
    bf16: torch.nn.Module,
    encoded: list[list[int]],
    pol: Policy,
    gen: GenerationConfig,
    res: dict[str, Any],
) -> dict[str, Callable[[], int]]:
    """``--compile``: does torch.compile (inductor, CPU) raise the floor? The bf16 forward
    compiled with dynamic shapes on our dynamic KV cache, and HF's own compiled path (a static
    cache, ``generate`` compiling the forward; on CPU only when asked). The first call of each
    (the compilation) is timed apart, into ``res``."""
    from transformers import CompileConfig

    model = copy.deepcopy(bf16)
    model.forward = torch.compile(model.forward, dynamic=True)  # type: ignore[method-assign]
    static = copy.deepcopy(bf16)
    config = CompileConfig(mode="default", dynamic=False)
    config._compile_all_devices = True  # HF compiles only on accelerators unless told
    static_gen = {"cache_implementation": "static", "compile_config": config}
    runs: dict[str, Callable[[], int]] = {
        "floor_bf16_compiled": lambda: floor(model, encoded, pol.pad_id, gen.max_new_tokens),
        "hf_bf16_static_compiled": lambda: hf_generate(static, encoded, pol, gen, **static_gen),
    }
    for key, fn in runs.items():
        _, res[f"{key}_first_call_s"] = timed(fn)
        print(f"  {key}: first call (compiling) {res[f'{key}_first_call_s']:.1f} s", flush=True)
    return runs


SHARED = 4  # samples per prompt of the RL-round measurement (the smollm2 preset's k)


def _patched(name: str, value: Any, fn: Callable[[], int]) -> Callable[[], int]:
    """``fn`` run with ``rltf.policy.sampling.<name>`` set to ``value`` (restored after)."""

    def run() -> int:
        with mock.patch.object(sampling, name, value):
            return fn()

    return run


def breakdown(fn: Callable[[], Any]) -> dict[str, float]:
    """Where one rltf generation's wall time goes: the prefill, the cached decode steps, the
    sampler (``pick``: log-softmax, top-p, draw), dropping finished rows, and the rest (stop
    strings, tokenisation, bookkeeping). Wraps the module's functions with timers (a separate,
    untimed run: the timers add a few microseconds a call)."""
    spent: dict[str, float] = {}
    names = {"prefill": "_prefill", "decode": "_decode_step", "sampler": "pick",
             "drop": "_drop_finished"}  # fmt: skip
    originals = {key: getattr(sampling, attr) for key, attr in names.items()}

    def timer(key: str) -> Callable[..., Any]:
        def wrapped(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return originals[key](*a, **kw)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0

        return wrapped

    with contextlib.ExitStack() as patches:
        for key, attr in names.items():
            patches.enter_context(mock.patch.object(sampling, attr, timer(key)))
        _, total = timed(fn)
    spent["other"] = total - sum(spent.values())
    spent["total"] = total
    return {k: round(v, 3) for k, v in spent.items()}


def _bf16(gen: GenerationConfig) -> GenerationConfig:
    return GenerationConfig(**{**gen.__dict__, "dtype": "bfloat16"})


def _push(copies: GenerationModel, pol: Policy) -> None:
    """A sync: the fp32 weights change in place, the bf16 copy picks them up."""
    with torch.no_grad():
        for p in pol.model.parameters():
            p.add_(0.0)  # bumps the version counter like optimizer.step() does
    copies.get(pol.model, torch.bfloat16)


def bench_learner(pol: Policy, name: str, args: argparse.Namespace) -> dict[str, Any]:
    prompts, ids = prompts_for(args.learner_batch)
    gen = GenerationConfig(max_new_tokens=args.learner_tokens, batch_size=64, seed=1)
    samples = pol.generate(prompts, ids, gen)
    fp32 = learner_step(pol, samples, None, args.repeat)
    bf16 = learner_step(pol, samples, torch.bfloat16, args.repeat)
    cos = torch.nn.functional.cosine_similarity(fp32["grad"].double(), bf16["grad"].double(), dim=0)
    rel = (bf16["grad"] - fp32["grad"]).norm() / fp32["grad"].norm()
    out = {
        "model": name,
        "sequences": len(samples),
        "tokens": sum(len(s.token_ids) for s in samples),
        "step_fp32_s": fp32["seconds"],
        "step_bf16_s": bf16["seconds"],
        "speedup": fp32["seconds"] / bf16["seconds"],
        "loss_rel_diff": abs(bf16["loss"] - fp32["loss"]) / abs(fp32["loss"]),
        "grad_cosine": float(cos),
        "grad_rel_l2": float(rel),
    }
    print(f"  {name} learner " + json.dumps({k: _round(v) for k, v in out.items()}), flush=True)
    return out


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) and math.isfinite(v) else v


def bench_sampler(vocab: int, batch: int, repeat: int) -> dict[str, float]:
    """One sampling step alone, on random logits of SmolLM2's vocabulary: the previous
    implementation (full sort for top-p, ``torch.multinomial`` over the vocabulary, logsumexp)
    vs :func:`rltf.policy.sampling.pick`. Milliseconds per step (best of ``repeat``)."""
    logits = torch.randn(batch, vocab) * 3
    gen = GenerationConfig(temperature=0.8, top_p=0.95)
    g = torch.Generator().manual_seed(0)

    def previous() -> None:
        scaled = logits / gen.temperature
        probs = torch.softmax(top_p_filter(scaled, gen.top_p), dim=-1)
        tok = torch.multinomial(probs, 1, generator=g)
        _ = scaled.gather(-1, tok) - torch.logsumexp(scaled, -1, keepdim=True)

    def current() -> None:
        pick(logits, gen, g)

    out = {}
    for name, fn in (("previous_ms", previous), ("current_ms", current)):
        out[name] = 1e3 * min(timed(fn)[1] for _ in range(repeat))
    out["speedup"] = out["previous_ms"] / out["current_ms"]
    print(f"  sampler step {batch}x{vocab}: " + json.dumps({k: _round(v) for k, v in out.items()}))
    return out


def report(rows: list[dict[str, Any]]) -> None:
    print("\nmodel    batch  floor32  floor16   hf32   hf16  rltf32 rltf16 | rltf16/hf_best "
          "rltf16/floor16 rltf32/hf32 drop/keep push_s")  # fmt: skip
    for r in rows:
        hf_best = max(r["hf_fp32"], r["hf_bf16"])
        print(
            f"{r['model']:<8} {r['batch']:5d} {r['floor_fp32']:8.1f} {r['floor_bf16']:8.1f} "
            f"{r['hf_fp32']:6.1f} {r['hf_bf16']:6.1f} {r['rltf_fp32']:7.1f} {r['rltf_bf16']:6.1f}"
            f" | {r['rltf_bf16'] / hf_best:14.2f} {r['rltf_bf16'] / r['floor_bf16']:14.2f}"
            f" {r['rltf_fp32'] / r['hf_fp32']:11.2f}"
            f" {r['rltf_bf16'] / r['rltf_bf16_keep']:9.2f} {r['weight_push_s']:6.2f}"
        )
        if "rltf_bf16_n4" in r:
            print(f"         {r['batch'] // SHARED} prompts x {SHARED} samples, bf16: "
                  f"{r['rltf_bf16_n4']:.1f} tok/s shared prefill, "
                  f"{r['rltf_bf16_n4_noshare']:.1f} without "
                  f"({r['rltf_bf16_n4'] / r['rltf_bf16_n4_noshare']:.2f}x)")  # fmt: skip
        if "floor_bf16_compiled" in r:
            print(f"         torch.compile: floor {r['floor_bf16_compiled']:.1f} tok/s "
                  f"({r['floor_bf16_compiled'] / r['floor_bf16']:.2f}x eager), HF static cache "
                  f"{r['hf_bf16_static_compiled']:.1f} ({r['hf_bf16_static_compiled'] / r['hf_bf16']:.2f}x"
                  f" eager HF); rltf16 / compiled floor "
                  f"{r['rltf_bf16'] / r['floor_bf16_compiled']:.2f}")  # fmt: skip
        print(f"         bf16 behaviour vs fp32 learner log-probs: {r['bf16_logprobs']}")


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="tiny,smollm2", help="comma list: tiny, smollm2")
    ap.add_argument("--batches", default="16,64", help="comma list of batch sizes")
    ap.add_argument("--new-tokens", type=int, default=16, help="max new tokens per sequence")
    ap.add_argument("--learner-batch", type=int, default=8, help="sequences per learner step")
    ap.add_argument("--learner-tokens", type=int, default=32, help="tokens per learner sequence")
    ap.add_argument("--repeat", type=int, default=2, help="learner steps per setting (best kept)")
    ap.add_argument("--gen-repeat", type=int, default=2, help="runs per generation (best kept)")
    ap.add_argument("--compile", action="store_true", help="add torch.compile rows (slow)")
    ap.add_argument("--no-learner", action="store_true", help="skip the learner step timing")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args(argv)
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        ap.error(f"--batches: expected integers separated by commas, got {args.batches!r}")
    if args.new_tokens < 1 or any(b < 1 for b in batches):
        ap.error("--new-tokens and --batches must be >= 1")
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"cpu bf16: {cpu_supports_bf16()}", flush=True)  # fmt: skip
    rows, learners = [], []
    sampler = [bench_sampler(49152, b, 3) for b in batches]
    with tempfile.TemporaryDirectory() as workdir, threads(args.threads):
        for name in args.models.split(","):
            t0 = time.perf_counter()
            pol = load(name, workdir)
            load_s = time.perf_counter() - t0
            print(f"{name}: loaded in {load_s:.1f} s", flush=True)
            for batch in batches:
                rows.append(bench_batch(pol, name, batch, args))
            if not args.no_learner:
                learners.append(bench_learner(pol, name, args))
    report(rows)
    for lr in learners:
        print(f"learner {lr['model']}: fp32 {lr['step_fp32_s']:.3f} s, bf16 autocast "
              f"{lr['step_bf16_s']:.3f} s ({lr['speedup']:.2f}x); loss rel diff "
              f"{lr['loss_rel_diff']:.2e}, grad cosine {lr['grad_cosine']:.5f}, "
              f"grad rel L2 {lr['grad_rel_l2']:.3f}")  # fmt: skip
    print(f"uptime after: {os.popen('uptime').read().strip()}")
    if args.json:
        for lr in learners:
            lr.pop("grad", None)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"sampler": sampler, "generation": rows, "learner": learners}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
