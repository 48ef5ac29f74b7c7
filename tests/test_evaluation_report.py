"""Report aggregation on synthetic verdicts (no model, no sandbox) and its files."""

import json

import pytest

from rltf.evaluation.records import ProgramRow, ResultRow
from rltf.evaluation.report import EvalReport, build_report, render_markdown, write_report
from rltf.records import OUTCOMES, ErrorInfo, Problem, StdioCase, StdioTests, Verdict

TESTS = StdioTests((StdioCase("1\n", "1\n"),))


def problem(pid: str, difficulty: str | None = None) -> Problem:
    return Problem(id=pid, prompt="p", tests=TESTS, difficulty=difficulty)


def result(pid: str, index: int, outcome: str, error: ErrorInfo | None = None, **kw) -> ResultRow:
    passed = 1 if outcome == "passed" else 0
    return ResultRow(
        ProgramRow(pid, index, kw.pop("program", "print(1)\n"), **kw),
        Verdict(outcome, passed=passed, total=1, error=error),  # type: ignore[arg-type]
    )


IDX = ErrorInfo("IndexError", "list index out of range", 2, "line")
SYN = ErrorInfo("SyntaxError", "invalid syntax", 1, "line")
TMO = ErrorInfo("Timeout", "time limit", None, "global")


@pytest.fixture
def report() -> EvalReport:
    problems = [
        problem("a", "introductory"),
        problem("b", "introductory"),
        problem("c", "interview"),
        problem("d", "competition"),  # no results: counts as 0
    ]
    results = [
        # a: 2 of 4 passed
        result("a", 0, "passed"),
        result("a", 1, "passed"),
        result("a", 2, "failed"),
        result("a", 3, "runtime_error", IDX),
        # b: 0 of 4
        result("b", 0, "compile_error", SYN),
        result("b", 1, "timeout", TMO),
        result("b", 2, "runtime_error", IDX),
        result("b", 3, "sandbox_error"),
        # c: 4 of 4, plus a sample beyond n that must be ignored
        *[result("c", i, "passed") for i in range(4)],
        result("c", 4, "compile_error", SYN),
    ]
    return build_report(
        problems,
        results,
        n=4,
        ks=[1, 2, 5],
        dataset="jsonl:x",
        model="m",
        sampling={"temperature": 0.8},
        seed=3,
        timings={"total": 1.5},
    )


def test_pass_at_k_overall_and_per_difficulty(report):
    # pass@1: a 0.5, b 0, c 1, d 0 -> 1.5 / 4
    assert report.pass_at_k[1] == pytest.approx(1.5 / 4)
    # pass@2: a 1 - C(2,2)/C(4,2) = 5/6, c 1 -> (5/6 + 1) / 4
    assert report.pass_at_k[2] == pytest.approx((5 / 6 + 1) / 4)
    assert 5 not in report.pass_at_k and "k > n" in report.skipped_ks[5]
    levels = {g.name: g for g in report.per_difficulty}
    assert [g.name for g in report.per_difficulty] == ["introductory", "interview", "competition"]
    assert levels["introductory"].num_problems == 2
    assert levels["introductory"].pass_at_k[1] == pytest.approx(0.25)
    assert levels["interview"].pass_at_k[2] == pytest.approx(1.0)
    assert levels["competition"].pass_at_k[1] == 0.0
    assert report.problems_without_results == 1


def test_outcome_mix_errors_and_categories(report):
    assert report.num_samples == 12  # index 4 of c is beyond n
    assert set(report.outcomes) == set(OUTCOMES)
    assert report.outcomes == {
        "passed": 6,
        "failed": 1,
        "runtime_error": 2,
        "compile_error": 1,
        "timeout": 1,
        "sandbox_error": 1,
    }
    assert report.outcome_shares["passed"] == pytest.approx(0.5)
    assert sum(report.outcome_shares.values()) == pytest.approx(1.0)
    assert report.errors_by_type == {"IndexError": 2, "SyntaxError": 1, "Timeout": 1}
    assert next(iter(report.errors_by_type)) == "IndexError"  # most frequent first
    assert report.categories == {"global": 1, "line": 3, "ignore": 0}


def test_truncated_syntax_error_is_recategorised_global():
    rows = [result("a", 0, "compile_error", SYN, truncated=True, program="def f(:\n")]
    rep = build_report([problem("a")], rows, n=1, ks=[1], dataset="d")
    assert rep.categories["global"] == 1 and rep.categories["line"] == 0


def test_no_difficulty_means_no_per_difficulty_groups():
    rep = build_report([problem("a")], [result("a", 0, "passed")], n=1, ks=[1], dataset="d")
    assert rep.per_difficulty == () and rep.pass_at_k == {1: 1.0}


def test_mixed_difficulty_puts_missing_levels_last():
    rep = build_report(
        [problem("a", "hard"), problem("b"), problem("c", "easy")], [], n=1, ks=[1], dataset="d"
    )
    assert [g.name for g in rep.per_difficulty] == ["easy", "hard", "(none)"]
    assert rep.pass_at_k == {1: 0.0}


def test_unknown_problem_in_results_is_an_error():
    with pytest.raises(ValueError, match="unknown problem id 'zz'"):
        build_report([problem("a")], [result("zz", 0, "passed")], n=1, ks=[1], dataset="d")


def test_json_round_trip_and_files(report, tmp_path):
    json_path, md_path = write_report(report, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["pass_at_k"]["pass@1"] == pytest.approx(1.5 / 4)
    assert data["skipped_ks"] == {"pass@5": "k > n = 4"}
    assert data["model"] == "m" and data["seed"] == 3 and data["sampling"] == {"temperature": 0.8}
    assert EvalReport.from_dict(data) == report
    md = md_path.read_text()
    assert "| all | 4 | 4 | 37.50 | 45.83 |" in md
    assert "| introductory | 2 | 4 | 25.00 |" in md
    assert "| IndexError | 2 |" in md
    assert "pass@5 not reported" in md


def test_markdown_without_errors_or_ks():
    rep = build_report([problem("a")], [result("a", 0, "passed")], n=1, ks=[3], dataset="d")
    md = render_markdown(rep)
    assert "No k could be reported." in md and "No errors." in md
