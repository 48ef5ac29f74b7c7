"""Plots are written as non-empty PNG files, including for degenerate inputs."""

import json

from rltf.evaluation.plots import plot_outcomes, plot_pass_at_k, plot_report, plot_training_curves
from rltf.evaluation.records import ProgramRow, ResultRow
from rltf.evaluation.report import build_report
from rltf.records import Problem, StdioCase, StdioTests, Verdict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TESTS = StdioTests((StdioCase("1\n", "1\n"),))


def is_png(path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG_MAGIC) and len(data) > 1000


def make_report(difficulties=("introductory", "interview"), ks=(1, 2)):
    problems = [
        Problem(id=f"p{i}", prompt="", tests=TESTS, difficulty=d)
        for i, d in enumerate(difficulties)
    ]
    rows = [
        ResultRow(
            ProgramRow(p.id, i, "x"),
            Verdict("passed" if i == 0 else "failed", total=1, passed=int(i == 0)),
        )
        for p in problems
        for i in range(2)
    ]
    return build_report(problems, rows, n=2, ks=ks, dataset="d", model="m")


def test_report_plots_are_pngs(tmp_path):
    paths = plot_report(make_report(), tmp_path)
    assert [p.name for p in paths] == ["pass_at_k.png", "outcomes.png"]
    assert all(is_png(p) for p in paths)


def test_plots_of_degenerate_reports(tmp_path):
    empty = build_report([], [], n=1, ks=[1], dataset="d")  # no problems, no samples, no k
    assert is_png(plot_pass_at_k(empty, tmp_path / "a.png"))
    assert is_png(plot_outcomes(empty, tmp_path / "b.png"))
    flat = make_report(difficulties=(None,), ks=(5,))  # no difficulty, k > n
    assert is_png(plot_pass_at_k(flat, tmp_path / "sub" / "c.png"))


def test_training_curves_tolerate_missing_keys_and_junk(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    rows = [
        {"step": 1, "reward/mean": -0.5, "loss": 2.0},
        {"step": 2, "reward/mean": -0.2, "train": {"pass_rate": 0.1}},
        {"step": 3, "eval": {"pass@1": 0.2}, "note": "text is ignored"},
        {"reward_mean": float("nan")},
    ]
    metrics.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n\n")
    assert is_png(plot_training_curves(metrics, tmp_path / "curves.png"))


def test_training_curves_with_no_known_metrics(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"something": 1}\n')
    assert is_png(plot_training_curves(metrics, tmp_path / "curves.png"))


def test_training_curves_on_training_loop_keys(tmp_path):
    """The keys rltf.training's loop logs (reward/*, actor/pass_rate, loss/*)."""
    metrics = tmp_path / "metrics.jsonl"
    rows = [
        {
            "step": s,
            "time": 1e9 + s,
            "loss/sl": 3.0 / s,
            "loss/rl": 0.1,
            "reward/coarse": -0.6 + 0.1 * s,
            "reward/adaptive": -0.2,
            "actor/pass_rate": 0.05 * s,
            "total/pass_rate": 0.04 * s,
        }
        for s in range(1, 6)
    ]
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert is_png(plot_training_curves(metrics, tmp_path / "curves.png"))
