"""`rltf generate`: sample n programs per problem and write them as a programs file (JSONL rows
``{"problem_id", "index", "program", ...}``), so generation (GPU) and execution (CPU sandbox) can
run on different machines; ``rltf evaluate --programs FILE`` then scores them.

    rltf generate --model smollm2-135m --dataset humaneval --n 10 --temperature 0.8 --out progs.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltf.cli._common import add_config_args, quiet_model_loading
from rltf.config import ConfigError, load_config
from rltf.evaluation.records import JsonlAppender, read_programs

if TYPE_CHECKING:
    from rltf.policy import GenerationConfig, Policy
    from rltf.records import Problem

log = logging.getLogger("rltf")

HELP = "Sample n programs per problem from a model and write them as JSONL (problem_id, index, program), so generation and execution can run on different machines."

PROMPT_STYLES = ("auto", "apps", "mbpp", "humaneval", "plain", "chat")


# ------------------------------------------------------------------------------------------------
# arguments shared with `rltf evaluate`


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        required=True,
        metavar="SPEC",
        help="jsonl:PATH | apps:DIR | mbpp:PATH[:SPLIT] | humaneval[:PATH] | hf:NAME[:SPLIT] | builtin:NAME[:SPLIT]",
    )
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")


def add_model_args(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--model",
        required=required,
        metavar="M",
        help="registered name (smollm2-135m), local Hugging Face directory or hub id",
    )
    p.add_argument("--lora", metavar="DIR", help="LoRA adapter directory to load on top of --model")
    p.add_argument("--dtype", default="float32", help="float32 | bfloat16 | float16 | auto")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.add_argument("--trust-remote-code", action="store_true")


def add_sampling_args(p: argparse.ArgumentParser, n_default: int | None) -> None:
    """Sampling flags. They override the GenerationConfig from ``--config``/``--set`` (whose keys
    are GenerationConfig fields, e.g. ``--set stop='["\\nif"]'``)."""
    add_config_args(p)
    for action in p._actions:  # the generic help speaks of training configs
        if action.dest == "config":
            action.help = "YAML file of GenerationConfig fields (stop, max_prompt_tokens, ...)"
        elif action.dest == "overrides":
            action.help = "override a GenerationConfig field, e.g. --set max_prompt_tokens=1024"
    p.add_argument(
        "--n",
        type=int,
        default=n_default,
        help="samples per problem (default "
        + (
            str(n_default)
            if n_default
            else "1 with --model, with --programs the most any problem has"
        )
        + ")",
    )
    p.add_argument("--temperature", type=float, help="0 means greedy decoding (default 1.0)")
    p.add_argument("--top-p", type=float, dest="top_p", help="nucleus sampling (default 0.95)")
    p.add_argument("--max-new-tokens", type=int, dest="max_new_tokens", help="(default 256)")
    p.add_argument("--batch-size", type=int, dest="batch_size", help="sequences per forward pass")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument(
        "--prompt-style", default="auto", choices=PROMPT_STYLES, help="prompt format (default auto)"
    )


def load_problems(args: argparse.Namespace) -> list[Problem]:
    from rltf.tasks import load_dataset

    problems = load_dataset(args.dataset)
    if args.limit is not None:
        if args.limit < 1:
            raise ConfigError("<command line>", "--limit", f"must be >= 1, got {args.limit}")
        problems = problems[: args.limit]
    if not problems:
        raise ConfigError("<command line>", "--dataset", f"{args.dataset} has no problems")
    return problems


def generation_config(args: argparse.Namespace) -> GenerationConfig:
    from rltf.policy import GenerationConfig

    gen = load_config(GenerationConfig, args.config, args.overrides)
    flags: dict[str, Any] = {
        k: getattr(args, k)
        for k in ("temperature", "top_p", "max_new_tokens", "batch_size")
        if getattr(args, k) is not None
    }
    if flags.get("temperature") == 0:
        flags.update(do_sample=False, temperature=1.0)  # temperature is unused when greedy
    gen = dataclasses.replace(gen, **flags)
    try:
        gen.validate()
    except ValueError as e:
        raise ConfigError("<command line>", "", str(e)) from None
    if args.n is not None and args.n < 1:
        raise ConfigError("<command line>", "--n", f"must be >= 1, got {args.n}")
    return gen


def load_model(args: argparse.Namespace) -> Policy:
    from rltf.policy import LoraSettings, load_policy

    if args.lora is not None and not Path(args.lora).is_dir():
        raise FileNotFoundError(f"--lora: adapter directory not found: {args.lora}")
    lora = LoraSettings(adapter=args.lora) if args.lora is not None else None
    quiet_model_loading()
    return load_policy(
        args.model,
        dtype=args.dtype,
        device=args.device,
        lora=lora,
        trust_remote_code=args.trust_remote_code,
    )


def model_label(args: argparse.Namespace) -> str:
    """The model as recorded in reports (with its adapter, which changes the samples)."""
    return args.model if args.lora is None else f"{args.model}+lora:{args.lora}"


# ------------------------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("generate", parents=[common], help=HELP, description=HELP)
    add_model_args(p, required=True)
    add_dataset_args(p)
    add_sampling_args(p, n_default=1)
    p.add_argument("--out", required=True, metavar="FILE", help="programs file to write (JSONL)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume", action="store_true", help="keep the rows already in --out, add the missing"
    )
    mode.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rltf.evaluation.generation import generate_programs

    out = Path(args.out)
    if out.exists() and not (args.resume or args.overwrite):
        raise ConfigError(
            "<command line>",
            "--out",
            f"{out} exists; pass --resume to add the missing samples "
            "(same settings!) or --overwrite to start over",
        )
    gen = generation_config(args)
    problems = load_problems(args)
    have = {}
    if out.exists() and args.resume:
        have = {r.key: r for r in read_programs(out, [p.id for p in problems])}
    elif out.exists():
        out.unlink()
    policy = load_model(args)
    log.info(
        "generating %d x %d programs with %s (%d already in %s)",
        len(problems),
        args.n,
        model_label(args),
        len(have),
        out,
    )
    with JsonlAppender(out) as sink:
        new = generate_programs(
            policy,
            problems,
            n=args.n,
            gen=gen,
            prompt_style=args.prompt_style,
            seed=args.seed,
            done=have,
            on_row=lambda row: sink.write(row.to_dict()),
        )
    log.info("wrote %d programs to %s", len(new), out)
    return 0
