"""benchmarks/ablation.py end to end on the demo's micro preset: rows, seeds, table, reuse."""

import json
import sys
from pathlib import Path

import pytest

from benchmark_scripts import load_benchmark
from rltf.config import from_dict
from rltf.demo import PRESETS, deep_merge
from rltf.training.config import SFTConfig
from rltf.training.sft import run_sft
from test_demo import MICRO


def test_ablation_table_and_reuse(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(PRESETS, "micro", MICRO)
    sft = from_dict(SFTConfig, deep_merge(MICRO.sft, {"run_dir": str(tmp_path / "sft")}), "t")
    assert run_sft(sft) == 0
    ablation = load_benchmark("ablation")
    out = tmp_path / "ablation"
    argv = ["ablation.py", "--warm-start", str(tmp_path / "sft" / "final"), "--out", str(out)]
    argv += ["--preset", "micro", "--rows", "sl", "rltf", "grpo", "--seeds", "0", "1"]
    argv += ["--set", "generation.max_new_tokens=12"]
    monkeypatch.setattr(sys, "argv", argv)
    assert ablation.main() == 0

    table = (out / "ablation.md").read_text()
    assert "| sl | 2 |" in table and "| rltf | 2 |" in table and "| grpo | 2 |" in table
    assert "| warm start | 1 |" in table
    assert "pass@1 (%) [95% CI]" in table and "pass@2 (%)" in table  # the preset's ks
    assert "Δ vs sl (points) [95% CI]" in table
    assert "generation.max_new_tokens=12" in table
    config = (out / "sl" / "seed1" / "train" / "config.yaml").read_text()
    assert "max_new_tokens: 12" in config  # --set reached every run
    saved = json.loads((out / "ablation.json").read_text())
    assert len(saved["scores"]["held-out"]["sl"]) == 2  # two seeds, per-problem scores
    for row, runs in saved["compute"].items():
        assert all(c["seconds"] > 0 and (c["programs"] > 0) == (row != "sl") for c in runs)
    # The reward switches reached the runs: the SL row's token rewards are all zero.
    sl_rows = [
        json.loads(line)
        for line in (out / "sl" / "seed0" / "train" / "metrics.jsonl").read_text().splitlines()
    ]
    assert all(r.get("reward/token_mean", 0.0) == 0.0 for r in sl_rows)
    assert not any("loss/rl" in r for r in sl_rows)  # SL only: no RL term at all
    grpo = (out / "grpo" / "seed0" / "train" / "config.yaml").read_text()
    assert "normalize: group" in grpo and "reward_compile: 0.0" in grpo
    full = (out / "rltf" / "seed0" / "train" / "metrics.jsonl").read_text()
    # the RL rows score their samples (raw rewards; a garbage micro model's advantages may all
    # be 0 when every sample of a problem fails alike)
    assert any(json.loads(line).get("reward/coarse", 0.0) != 0.0 for line in full.splitlines())

    # A rerun reuses every finished run and reports the compute they used, not zero.
    monkeypatch.setattr(ablation, "run_train", lambda *a, **k: 1 / 0)
    capsys.readouterr()
    assert ablation.main() == 0
    assert json.loads((out / "ablation.json").read_text())["compute"] == saved["compute"]


def test_evaluations_of_one_model_directory_never_overlap(tmp_path, monkeypatch):
    """Two drivers sharing one --out both evaluate the warm start: the lock file serialises them
    (without it both appended the same samples to its programs.jsonl)."""
    import threading
    import time

    ablation = load_benchmark("ablation")
    spans: list[tuple[float, float]] = []

    def slow_evaluate(model, out, args):
        start = time.monotonic()
        time.sleep(0.2)
        spans.append((start, time.monotonic()))
        return {}

    monkeypatch.setattr(ablation, "_evaluate", slow_evaluate)
    threads = [
        threading.Thread(target=ablation.evaluate, args=(Path("m"), tmp_path / "warm", None))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = sorted(spans)
    assert first[1] <= second[0], "two evaluations of one directory ran at the same time"


def test_eval_limit_sets_the_held_out_size_and_also_adds_transfer_sets(monkeypatch):
    """--eval-tier-only --eval-limit N evaluates the first N problems of the preset's tier, and
    without --eval-limit all of them (the preset's own eval_limit is the demo's, not ours);
    each --also dataset is evaluated whole, under its own name and directory."""
    from argparse import Namespace

    from rltf.tasks import load_dataset

    monkeypatch.setitem(PRESETS, "micro", MICRO)
    ablation = load_benchmark("ablation")
    seen: list[tuple] = []
    monkeypatch.setattr(
        ablation,
        "evaluate_held_out",
        lambda model, out, *a, problems, **k: seen.append((out.name, problems)) or out.name,
    )
    tier = [
        p for p in load_dataset(ablation.DATASET_TEST) if p.difficulty in MICRO.eval_difficulties
    ]
    spec = f"mbpp:{Path(__file__).parent / 'fixtures' / 'tasks' / 'mbpp.jsonl'}"
    n_also = len(load_dataset(spec))
    for limit, expected in ((None, len(tier)), (7, 7)):
        args = Namespace(preset="micro", eval_tier_only=True, eval_limit=limit, from_tests=False,
                         eval_seed=1, n=None, also=[spec])  # fmt: skip
        sets = ablation._evaluate(Path("m"), Path("out"), args)
        (held_name, held), (also_name, also) = seen[-2:]
        assert [p.id for p in held] == [p.id for p in tier[:expected]]
        assert list(sets) == ["held-out", spec] and held_name == "eval"
        assert (
            len(also) == n_also > 0 and also_name.startswith("eval-mbpp-") and "/" not in also_name
        )
    assert MICRO.eval_limit is not None and MICRO.eval_limit < len(tier)


def test_a_bad_also_dataset_is_refused_before_any_training(tmp_path, monkeypatch, capsys):
    ablation = load_benchmark("ablation")
    argv = ["ablation.py", "--from-tests", "--out", str(tmp_path), "--also", "mbpp:nowhere.jsonl"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as e:
        ablation.parse_args()
    assert e.value.code == 2 and "--also 'mbpp:nowhere.jsonl'" in capsys.readouterr().err
