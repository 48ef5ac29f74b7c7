"""The demo end to end on a micro preset (same code path as `make demo`, minutes -> seconds)."""

import json

from rltf import demo
from rltf.demo import PRESETS, DemoPreset, comparison_table, deep_merge, run_demo

MICRO = DemoPreset(
    description="micro preset for tests",
    sft=deep_merge(
        PRESETS["tiny"].sft,
        {
            "tiny": {"vocab_size": 300, "n_layer": 1, "n_embd": 32, "n_head": 2},
            "data": {"limit": 8},
            "sft": {"steps": 4, "batch_size": 4, "torch_threads": 1},
            "checkpoint": {"every": 0},
            "metrics": {"tensorboard": False, "progress": False},
        },
    ),
    train=deep_merge(
        PRESETS["tiny"].train,
        {
            "data": {"limit": 8},
            "generation": {"max_new_tokens": 24, "batch_size": 16},
            "loop": {
                "steps": 4,
                "samples_per_problem": 2,
                "problems_per_round": 2,
                "rl_batch_size": 4,
                "sl_batch_size": 4,
                "exec_workers": 1,
                "torch_threads": 1,
                "synchronous": True,
            },
            "checkpoint": {"every": 0},
            "metrics": {"tensorboard": False, "progress": False},
        },
    ),
    eval_n=2,
    eval_ks=(1, 2),
    eval_max_new_tokens=24,
    eval_limit=4,
    eval_difficulties=("easy",),
    workers=1,
    seeds=2,
)


def test_demo_runs_every_stage_and_reuses_them(tmp_path, monkeypatch):
    monkeypatch.setitem(PRESETS, "micro", MICRO)
    out = tmp_path / "demo"
    assert run_demo("micro", out, seed=0) == 0
    for stage in ("sft/final", "rltf/final", "control/final", "eval-control/report.json"):
        assert (out / stage).exists(), stage
    summary = json.loads((out / "summary.json").read_text())
    before, after, control = summary["before"], summary["after"], summary["control"]
    assert before["num_problems"] == after["num_problems"] == control["num_problems"] == 4
    assert before["sampling"] == after["sampling"] == control["sampling"]  # same settings
    assert before.keys() == control.keys()
    # the control differs in the RL term only: same steps, no rewards, no actor
    control_cfg = (out / "control" / "config.yaml").read_text()
    assert "coarse: false" in control_cfg and "fine: false" in control_cfg
    rl_rows = [json.loads(r) for r in (out / "rltf" / "metrics.jsonl").open()]
    sl_rows = [json.loads(r) for r in (out / "control" / "metrics.jsonl").open()]
    assert [r["step"] for r in rl_rows] == [r["step"] for r in sl_rows]
    assert all("loss/rl" in r for r in rl_rows) and not any("loss/rl" in r for r in sl_rows)
    assert "held-out builtin:basic:test, easy tier" in (out / "summary.md").read_text()
    assert (out / "training.png").stat().st_size > 0
    # a second training seed of each, paired against each other
    assert (out / "rltf-seed1/final").exists() and (out / "control-seed1/final").exists()
    assert "seed: 1" in (out / "control-seed1" / "config.yaml").read_text()
    assert [s["seed"] for s in summary["per_seed"]] == summary["seeds"] == [0, 1]
    assert summary["per_seed"][0]["after"]["pass@1"] == after["pass_at_k"]["pass@1"]
    gain = summary["rltf_minus_control_pass_at_1"]
    assert gain["low"] <= gain["mean"] <= gain["high"]
    first = [s["after"]["pass@1"] - s["control"]["pass@1"] for s in summary["per_seed"]]
    assert abs(gain["mean"] - sum(first) / 2) < 1e-9  # the mean of the per-seed differences

    # A second run reuses the finished stages instead of training again.
    def fail(*args, **kwargs):
        raise AssertionError("a finished stage was run again")

    monkeypatch.setattr("rltf.training.sft.run_sft", fail)
    monkeypatch.setattr("rltf.training.loop.run_train", fail)
    assert run_demo("micro", out, seed=0) == 0


def test_unknown_preset_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="unknown demo preset"):
        run_demo("nope")


def test_presets_are_valid_configs():
    from rltf.config import from_dict
    from rltf.policy import GenerationConfig
    from rltf.training.config import SFTConfig, TrainConfig

    for name, preset in demo.PRESETS.items():
        from_dict(SFTConfig, preset.sft, f"preset {name}")
        from_dict(
            TrainConfig, deep_merge(preset.train, {"policy": {"model": "x"}}), f"preset {name}"
        )
        # the model is evaluated in the prompt format it was trained in
        for stage in (preset.sft, preset.train):
            assert stage["data"].get("prompt_style", "auto") == preset.prompt_style, name
        GenerationConfig(dtype=preset.eval_dtype).validate()


def test_comparison_table_rows():
    from rltf.evaluation.report import EvalReport

    def report(p1, passed):
        return EvalReport(
            dataset="d",
            n=2,
            ks=(1,),
            num_problems=3,
            num_samples=6,
            pass_at_k={1: p1},
            skipped_ks={},
            per_difficulty=(),
            outcomes={"passed": passed, "failed": 6 - passed},
            errors_by_type={},
            categories={},
            problems_without_results=0,
        )

    table = comparison_table(report(0.1, 1), [report(0.5, 3)], [report(0.2, 2)], "title")
    assert "| warm start | RLTF | SL-only control |" in table
    assert "| pass@1 | 10.00% | 50.00% | 20.00% |" in table
    assert "| passed | 16.7% | 50.0% | 33.3% |" in table
    # several training seeds: each column is their mean
    table = comparison_table(
        report(0.1, 1), [report(0.5, 3), report(0.3, 1)], [report(0.2, 2), report(0.2, 4)], "t"
    )
    assert "| warm start | RLTF (mean of 2 seeds) | SL-only control (mean of 2 seeds) |" in table
    assert "| pass@1 | 10.00% | 40.00% | 20.00% |" in table
    assert "| passed | 16.7% | 33.3% | 50.0% |" in table


def test_held_out_ks_report_pass_at_5_where_n_allows():
    from rltf.demo import held_out_ks

    assert held_out_ks(16) == (1, 5, 16)
    assert held_out_ks(5) == (1, 5)
    assert held_out_ks(2) == (1, 2)


def test_demo_overrides_reach_both_stages_and_guard_the_directory(tmp_path, monkeypatch, capsys):
    import pytest

    from rltf.cli import main
    from rltf.config import ConfigError

    monkeypatch.setitem(PRESETS, "micro", MICRO)
    out = tmp_path / "demo"
    overrides = {"sft": {"sft": {"steps": 2}}, "train": {"loop": {"steps": 2}}}
    assert run_demo("micro", out, seed=0, overrides=overrides) == 0
    assert "steps: 2" in (out / "sft" / "config.yaml").read_text()
    assert max(json.loads(r)["step"] for r in (out / "rltf" / "metrics.jsonl").open()) == 2
    assert json.loads((out / "summary.json").read_text())["overrides"] == overrides

    # A directory holding a run with other settings is not silently reused.
    with pytest.raises(ConfigError, match="other overrides"):
        run_demo("micro", out, seed=0, overrides={"train": {"loop": {"steps": 3}}})
    with pytest.raises(ConfigError, match=r"sft\. or train\."):
        run_demo("micro", tmp_path / "other", overrides={"optim": {"lr": 1.0}})
    assert main(["demo", "--preset", "micro", "--out", str(out), "--set", "nope.x=1"]) == 2
    assert "sft. or train." in capsys.readouterr().err
