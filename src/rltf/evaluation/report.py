"""The evaluation report: pass@k (overall and per difficulty), outcome mix, errors by type.

:func:`build_report` is pure (problems + executed samples in, :class:`EvalReport` out), so it is
tested on synthetic verdicts with no model or sandbox. :func:`write_report` writes
``report.json`` (:meth:`EvalReport.to_dict`) and ``report.md`` (tables for a human).

Counting rules (DESIGN.md §3):

* only samples with ``index < n`` are counted, so rerunning with a smaller ``n`` is meaningful;
* a problem without results counts as 0 for every k;
* a ``sandbox_error`` (the infrastructure failed) counts as a sample that did not pass — it never
  raises the score — and is shown in the outcome mix so a flaky run is visible;
* the outcome mix follows the paper's error analysis (Liu et al. 2023: pass / failed test /
  runtime error / compile error, here with timeouts on their own).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rltf.evaluation.passk import pass_at_k_table
from rltf.evaluation.records import ResultRow
from rltf.feedback.categories import categorize, count_lines
from rltf.records import CATEGORIES, JSON, OUTCOMES, Problem

# APPS difficulty levels in increasing order; other datasets' levels follow, sorted by name.
DIFFICULTY_ORDER = ("introductory", "interview", "competition")
NO_DIFFICULTY = "(none)"


@dataclass(frozen=True)
class ProblemResult:
    problem_id: str
    difficulty: str | None
    n: int  # samples counted (index < report n)
    c: int  # of which passed

    def to_dict(self) -> dict[str, JSON]:
        return {
            "problem_id": self.problem_id,
            "difficulty": self.difficulty,
            "n": self.n,
            "c": self.c,
        }


@dataclass(frozen=True)
class GroupPassAtK:
    """pass@k over one group of problems (one difficulty level)."""

    name: str
    num_problems: int
    pass_at_k: Mapping[int, float]
    skipped_ks: Mapping[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "num_problems": self.num_problems,
            "pass_at_k": _k_keys(self.pass_at_k),
            "skipped_ks": _k_keys(self.skipped_ks),
        }


@dataclass(frozen=True)
class EvalReport:
    """Everything an evaluation found; JSON round trip with :meth:`to_dict` / :meth:`from_dict`."""

    dataset: str
    n: int
    ks: tuple[int, ...]  # as requested; reported ones are the keys of ``pass_at_k``
    num_problems: int
    num_samples: int
    pass_at_k: Mapping[int, float]  # fractions in [0, 1]
    skipped_ks: Mapping[int, str]  # k -> why it is not reported (k > n, too few samples)
    per_difficulty: tuple[GroupPassAtK, ...]  # empty when the dataset has no difficulty levels
    outcomes: Mapping[str, int]  # every outcome in rltf.records.OUTCOMES, zero included
    errors_by_type: Mapping[str, int]  # exception type -> count, most frequent first
    categories: Mapping[
        str, int
    ]  # fine-grained feedback category of the errors (global/line/ignore)
    problems_without_results: int
    model: str | None = None
    sampling: Mapping[str, JSON] = field(default_factory=dict)  # temperature, top_p, ...
    seed: int | None = None
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds
    problems: tuple[ProblemResult, ...] = ()

    @property
    def outcome_shares(self) -> dict[str, float]:
        total = sum(self.outcomes.values())
        return {o: (c / total if total else 0.0) for o, c in self.outcomes.items()}

    def to_dict(self) -> dict[str, JSON]:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "n": self.n,
            "ks": list(self.ks),
            "seed": self.seed,
            "sampling": dict(self.sampling),
            "num_problems": self.num_problems,
            "num_samples": self.num_samples,
            "problems_without_results": self.problems_without_results,
            "pass_at_k": _k_keys(self.pass_at_k),
            "skipped_ks": _k_keys(self.skipped_ks),
            "per_difficulty": [g.to_dict() for g in self.per_difficulty],
            "outcomes": dict(self.outcomes),
            "outcome_shares": self.outcome_shares,
            "errors_by_type": dict(self.errors_by_type),
            "categories": dict(self.categories),
            "timings": dict(self.timings),
            "problems": [p.to_dict() for p in self.problems],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvalReport:
        return cls(
            model=d.get("model"),
            dataset=d["dataset"],
            n=int(d["n"]),
            ks=tuple(int(k) for k in d["ks"]),
            seed=d.get("seed"),
            sampling=dict(d.get("sampling", {})),
            num_problems=int(d["num_problems"]),
            num_samples=int(d["num_samples"]),
            problems_without_results=int(d.get("problems_without_results", 0)),
            pass_at_k=_from_k_keys(d["pass_at_k"]),
            skipped_ks=_from_k_keys(d.get("skipped_ks", {})),
            per_difficulty=tuple(
                GroupPassAtK(
                    g["name"],
                    int(g["num_problems"]),
                    _from_k_keys(g["pass_at_k"]),
                    _from_k_keys(g.get("skipped_ks", {})),
                )
                for g in d.get("per_difficulty", [])
            ),
            outcomes=dict(d["outcomes"]),
            errors_by_type=dict(d.get("errors_by_type", {})),
            categories=dict(d.get("categories", {})),
            timings=dict(d.get("timings", {})),
            problems=tuple(
                ProblemResult(p["problem_id"], p.get("difficulty"), int(p["n"]), int(p["c"]))
                for p in d.get("problems", [])
            ),
        )


def _k_keys(m: Mapping[int, Any]) -> dict[str, Any]:
    return {f"pass@{k}": v for k, v in sorted(m.items())}


def _from_k_keys(m: Mapping[str, Any]) -> dict[int, Any]:
    return {int(k.removeprefix("pass@")): v for k, v in m.items()}


def build_report(
    problems: Sequence[Problem],
    results: Iterable[ResultRow],
    *,
    n: int,
    ks: Sequence[int],
    dataset: str,
    model: str | None = None,
    sampling: Mapping[str, JSON] | None = None,
    seed: int | None = None,
    timings: Mapping[str, float] | None = None,
) -> EvalReport:
    """Aggregate executed samples into a report. Results for problems not in ``problems`` are an
    error (``ValueError``); samples with ``index >= n`` are ignored."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    by_id = {p.id: p for p in problems}
    counted: list[ResultRow] = []
    for row in results:
        if row.sample.problem_id not in by_id:
            raise ValueError(f"result for unknown problem id {row.sample.problem_id!r}")
        if row.sample.index < n:
            counted.append(row)

    n_per: Counter[str] = Counter()
    c_per: Counter[str] = Counter()
    outcomes: Counter[str] = Counter({o: 0 for o in OUTCOMES})
    errors: Counter[str] = Counter()
    categories: Counter[str] = Counter({c: 0 for c in CATEGORIES})
    for row in counted:
        pid, verdict = row.sample.problem_id, row.verdict
        n_per[pid] += 1
        c_per[pid] += verdict.outcome == "passed"
        outcomes[verdict.outcome] += 1
        if verdict.error is not None:
            errors[verdict.error.type or "(unknown)"] += 1
            categories[_category(row)] += 1

    per_problem = tuple(
        ProblemResult(p.id, p.difficulty, n_per[p.id], c_per[p.id]) for p in problems
    )
    requested = tuple(sorted(set(ks)))
    overall = _pass_at_k(per_problem, requested, n)

    groups: list[GroupPassAtK] = []
    if any(p.difficulty is not None for p in problems):
        levels = {p.difficulty or NO_DIFFICULTY for p in problems}
        for level in sorted(levels, key=_difficulty_rank):
            members = [r for r in per_problem if (r.difficulty or NO_DIFFICULTY) == level]
            values, skipped = _pass_at_k(members, requested, n)
            groups.append(GroupPassAtK(level, len(members), values, skipped))

    return EvalReport(
        model=model,
        dataset=dataset,
        n=n,
        ks=requested,
        seed=seed,
        sampling=dict(sampling or {}),
        num_problems=len(problems),
        num_samples=len(counted),
        problems_without_results=sum(1 for r in per_problem if r.n == 0),
        pass_at_k=overall[0],
        skipped_ks=overall[1],
        per_difficulty=tuple(groups),
        outcomes=dict(outcomes),
        errors_by_type=dict(sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))),
        categories=dict(categories),
        timings=dict(timings or {}),
        problems=per_problem,
    )


def _pass_at_k(
    rows: Sequence[ProblemResult], ks: Sequence[int], n: int
) -> tuple[dict[int, float], dict[int, str]]:
    too_big = {k: f"k > n = {n}" for k in ks if k > n}
    table = pass_at_k_table([(r.n, r.c) for r in rows], [k for k in ks if k <= n])
    return dict(table.values), {**too_big, **table.skipped}


def _category(row: ResultRow) -> str:
    """The verdict's category, refined with the sample's truncation flag: execution computes
    categories with truncated=False (INTERFACES.md), a truncated syntax error is ``global``."""
    error = row.verdict.error
    assert error is not None
    if not row.sample.truncated:
        return error.category
    program = row.sample.program
    return categorize(
        error.type,
        error.message,
        error.line,
        program_lines=count_lines(program),
        truncated=True,
    )


def _difficulty_rank(level: str) -> tuple[int, str]:
    if level in DIFFICULTY_ORDER:
        return (DIFFICULTY_ORDER.index(level), level)
    return (len(DIFFICULTY_ORDER) + (level == NO_DIFFICULTY), level)


# ------------------------------------------------------------------------------------------------
# writing


def write_report(report: EvalReport, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def render_markdown(report: EvalReport) -> str:
    """A readable report: settings, pass@k table (percent), outcome mix, errors by type."""
    lines = [f"# Evaluation: {report.model or '(programs file)'} on {report.dataset}", ""]
    settings = {
        "model": report.model or "-",
        "dataset": report.dataset,
        "problems": report.num_problems,
        "samples per problem (n)": report.n,
        "samples counted": report.num_samples,
        "problems without results (count as 0)": report.problems_without_results,
        "seed": "-" if report.seed is None else report.seed,
        **{f"sampling: {k}": v for k, v in report.sampling.items()},
        **{f"time of this invocation: {k} (s)": f"{v:.1f}" for k, v in report.timings.items()},
    }
    lines += ["| setting | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in settings.items()]

    reported = sorted(report.pass_at_k)
    lines += ["", "## pass@k (%)", ""]
    if reported:
        header = ["problems", "n"] + [f"pass@{k}" for k in reported]
        lines += ["| " + " | ".join(["group", *header]) + " |", "|" + "---|" * (len(header) + 1)]
        groups = [("all", report.num_problems, report.pass_at_k)]
        groups += [(g.name, g.num_problems, g.pass_at_k) for g in report.per_difficulty]
        for name, count, values in groups:
            cells = [_pct(values[k]) if k in values else "-" for k in reported]
            lines.append("| " + " | ".join([name, str(count), str(report.n), *cells]) + " |")
    else:
        lines.append("No k could be reported.")
    for k, why in sorted(report.skipped_ks.items()):
        lines.append(f"\n- pass@{k} not reported: {why}")

    lines += ["", "## Outcomes", "", "| outcome | samples | share (%) |", "|---|---|---|"]
    shares = report.outcome_shares
    lines += [f"| {o} | {c} | {_pct(shares[o])} |" for o, c in report.outcomes.items()]

    lines += ["", "## Errors by type", ""]
    if report.errors_by_type:
        lines += ["| exception | samples |", "|---|---|"]
        lines += [f"| {t} | {c} |" for t, c in report.errors_by_type.items()]
        cats = ", ".join(f"{c}: {v}" for c, v in report.categories.items())
        lines += ["", f"Fine-grained feedback category of these errors (RLTF §3.2): {cats}"]
    else:
        lines.append("No errors.")
    return "\n".join(lines) + "\n"
