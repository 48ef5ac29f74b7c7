"""`rltf datasets list | show SPEC[/ID] | validate SPEC`.

``validate`` checks a dataset in two passes: the schema (every row; all invalid rows are reported,
not only the first), then every reference solution through the execution sandbox. A problem
whose own reference solution fails its tests is reported: either the solution or the tests are
wrong, and RL on such a problem rewards the wrong thing. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rltf.cli._common import add_config_args
from rltf.config import ConfigError
from rltf.records import AssertTests, CallTests, Problem, RecordError, Verdict
from rltf.tasks import FORMATS, STYLES, builtin_catalog, format_prompt, load_dataset
from rltf.tasks.prompts import auto_style

HELP = "List the built-in datasets and formats, show a problem, or validate a dataset (schema, then reference solutions through the sandbox)."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("datasets", parents=[common], help=HELP, description=HELP)
    add_config_args(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    # -v/-q after the action too; SUPPRESS so that the action's parser does not reset a -v given
    # before it (argparse lets a subparser's defaults override the parent's values).
    flags = argparse.ArgumentParser(add_help=False)
    verbosity = flags.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=1,
        dest="verbosity",
        default=argparse.SUPPRESS,
    )
    verbosity.add_argument(
        "-q", "--quiet", action="store_const", const=-1, dest="verbosity", default=argparse.SUPPRESS
    )

    ls = actions.add_parser("list", parents=[flags], help="the built-in datasets and the formats")
    ls.set_defaults(func=run_list)

    show = actions.add_parser(
        "show", parents=[flags], help="show one problem with its tests and prompt"
    )
    show.add_argument(
        "target",
        metavar="SPEC[/ID]",
        help="a dataset spec, optionally followed by /ID (e.g. humaneval/HumanEval/0); "
        "without an ID: a summary and the first problem",
    )
    show.add_argument("--id", help="the problem id (instead of SPEC/ID)")
    show.add_argument("--style", default="auto", choices=[s for s in STYLES if s != "chat"])
    show.add_argument("--json", action="store_true", help="print the native record as JSON")
    show.set_defaults(func=run_show)

    val = actions.add_parser(
        "validate",
        parents=[flags],
        help="check the schema, then run the reference solutions in the sandbox",
    )
    val.add_argument("spec", metavar="SPEC")
    val.add_argument("--workers", type=int, default=None, help="sandbox workers (default: CPUs)")
    val.add_argument(
        "--max-solutions",
        type=int,
        default=None,
        metavar="K",
        help="run at most K reference solutions per problem (default: all)",
    )
    val.add_argument("--limit", type=int, default=None, metavar="N", help="first N problems only")
    val.add_argument("--schema-only", action="store_true", help="check the schema, run nothing")
    val.set_defaults(func=run_validate)


# --------------------------------------------------------------------------------------------
# list


def run_list(args: argparse.Namespace) -> int:
    print("Built-in benchmarks (builtin:NAME[:SPLIT]):")
    catalog = builtin_catalog()
    if not catalog:
        print("  (none installed)")
    for name, description in catalog.items():
        print(f"  builtin:{name:<12} {description}")
    print("\nDataset specs:")
    for description in FORMATS.values():
        print(f"  {description}")
    return 0


# --------------------------------------------------------------------------------------------
# show


def resolve(target: str, explicit_id: str | None) -> tuple[list[Problem], str | None]:
    """Split ``SPEC[/ID]``: the whole target if it loads, else the longest loadable prefix
    whose problems contain the rest as an id (ids contain slashes: ``HumanEval/0``)."""
    if explicit_id is not None:
        return load_dataset(target), explicit_id
    first_error: Exception | None = None
    candidates = [(target, None)] + [
        (target[:i], target[i + 1 :]) for i in range(len(target) - 1, 0, -1) if target[i] == "/"
    ]
    for spec, pid in candidates:
        try:
            problems = load_dataset(spec)
        except (ConfigError, RecordError, FileNotFoundError, NotADirectoryError) as e:
            first_error = first_error or e
            continue
        if pid is None or any(p.id == pid for p in problems):
            return problems, pid
    assert first_error is not None
    raise first_error


def run_show(args: argparse.Namespace) -> int:
    problems, pid = resolve(args.target, args.id)
    if pid is None:
        if not problems:
            print(f"{args.target}: no problems")
            return 1
        print(summary(problems) + "\n")
        problem = problems[0]
    else:
        matches = [p for p in problems if p.id == pid]
        if not matches:
            raise ConfigError("dataset", args.target, f"no problem with id {pid!r}")
        problem = matches[0]
    if args.json:
        print(json.dumps(problem.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render(problem, args.style))
    return 0


def summary(problems: Sequence[Problem]) -> str:
    kinds: dict[str, int] = {}
    levels: dict[str, int] = {}
    for p in problems:
        kinds[p.tests.type] = kinds.get(p.tests.type, 0) + 1
        level = p.difficulty or "-"
        levels[level] = levels.get(level, 0) + 1
    with_sol = sum(1 for p in problems if p.solutions)
    return (
        f"{len(problems)} problems; tests: {_counts(kinds)}; difficulty: {_counts(levels)}; "
        f"{with_sol} with reference solutions"
    )


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items()))


def render(problem: Problem, style: str = "auto") -> str:
    rule = "-" * 72
    head = f"id: {problem.id}"
    if problem.difficulty:
        head += f"   difficulty: {problem.difficulty}"
    parts = [head]
    if problem.meta:
        parts.append("meta: " + json.dumps(dict(problem.meta), ensure_ascii=False))
    parts += [rule, "PROMPT", problem.prompt.rstrip()]
    if problem.starter_code:
        parts += [rule, "STARTER CODE", problem.starter_code.rstrip()]
    parts += [rule, f"TESTS ({problem.tests.type}, {problem.num_tests})", render_tests(problem)]
    if problem.solutions:
        parts += [
            rule,
            f"REFERENCE SOLUTION 1 of {len(problem.solutions)}",
            problem.solutions[0].rstrip(),
        ]
    prompt = format_prompt(problem, style)
    shown = auto_style(problem) if style == "auto" else style
    parts += [rule, f"MODEL PROMPT (style {shown})", prompt.text]
    if prompt.stop:
        parts.append(f"stop strings: {list(prompt.stop)!r}")
    return "\n".join(parts)


def render_tests(problem: Problem, max_cases: int = 5, max_chars: int = 300) -> str:
    t = problem.tests
    lines: list[str] = []
    if isinstance(t, AssertTests):
        if t.setup:
            lines += ["# setup", t.setup.rstrip()]
        if t.entry_point:
            lines.append(f"# candidate = {t.entry_point}")
        lines += list(t.asserts[:max_cases])
        n = len(t.asserts)
    elif isinstance(t, CallTests):
        lines += [
            f"{t.fn_name}({_clip(', '.join(json.dumps(a) for a in c.args), max_chars)})"
            f" -> {_short(c.expected, max_chars)}"
            for c in t.cases[:max_cases]
        ]
        n = len(t.cases)
    else:
        for i, c in enumerate(t.cases[:max_cases]):
            lines += [f"# case {i}: input", _clip(c.input, max_chars), "# expected output"]
            lines.append(_clip(c.output, max_chars))
        n = len(t.cases)
    if n > max_cases:
        lines.append(f"... and {n - max_cases} more")
    return "\n".join(lines)


def _short(value: Any, max_chars: int) -> str:
    return _clip(json.dumps(value), max_chars)


def _clip(text: str, max_chars: int) -> str:
    text = text.rstrip("\n")
    return text if len(text) <= max_chars else text[:max_chars] + f"... ({len(text)} chars)"


# --------------------------------------------------------------------------------------------
# validate


class Pool(Protocol):
    def run_batch(
        self,
        jobs: Sequence[tuple[Problem, str]],
        mode: Literal["train", "eval"] = ...,
        progress: bool = ...,
    ) -> list[Verdict]: ...


@dataclass(frozen=True)
class SolutionFailure:
    problem_id: str
    solution_index: int
    verdict: Verdict

    def describe(self) -> str:
        v = self.verdict
        text = (
            f"{self.problem_id} solution {self.solution_index}: {v.outcome} "
            f"({v.passed}/{v.total} tests passed)"
        )
        if v.error is not None:
            where = f" line {v.error.line}" if v.error.line else ""
            text += f": {v.error.type}{where}: {v.error.message}"
        else:
            reasons = [t.reason for t in v.tests if t.outcome != "passed" and t.reason]
            if reasons:
                text += f": {reasons[0]}"
        return text


def check_solutions(
    problems: Sequence[Problem], pool: Pool, max_solutions: int | None = None
) -> tuple[int, list[SolutionFailure]]:
    """Run every reference solution (up to ``max_solutions`` per problem) and return the number
    run and the failures. Mode "train" runs every test, so the report shows how many fail."""
    jobs = [
        (p, i, program) for p in problems for i, program in enumerate(p.solutions[:max_solutions])
    ]
    verdicts = pool.run_batch([(p, program) for p, _, program in jobs], mode="train", progress=True)
    failures = [
        SolutionFailure(p.id, i, v)
        for (p, i, _), v in zip(jobs, verdicts, strict=True)
        if v.outcome != "passed"
    ]
    return len(jobs), failures


def make_pool(workers: int | None) -> Any:
    """The sandbox pool (imported here: listing and showing datasets must not need it)."""
    execution = importlib.import_module("rltf.execution")
    if not hasattr(execution, "ExecutionPool"):
        raise NotImplementedError("the execution engine (rltf.execution.ExecutionPool)")
    return execution.ExecutionPool(workers=workers)


def run_validate(args: argparse.Namespace) -> int:
    invalid: list[RecordError] = []
    problems = load_dataset(args.spec, skip_invalid=True, skipped=invalid)
    if args.limit is not None:
        problems = problems[: args.limit]
    print(f"schema: {len(problems)} valid problems, {len(invalid)} invalid rows")
    for e in invalid:
        print(f"  INVALID {e}")
    ok = not invalid
    if args.schema_only:
        return 0 if ok else 1
    without = [p.id for p in problems if not p.solutions]
    if without:
        print(f"solutions: {len(without)} problems have no reference solution (not checked)")
    with make_pool(args.workers) as pool:
        ran, failures = check_solutions(problems, pool, args.max_solutions)
    failed_problems = sorted({f.problem_id for f in failures})
    print(
        f"solutions: {ran - len(failures)}/{ran} reference solutions pass; "
        f"{len(failed_problems)} problems have a failing reference solution"
    )
    for f in failures:
        print(f"  FAILED {f.describe()}")
    return 0 if ok and not failures else 1
