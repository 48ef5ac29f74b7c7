"""benchmarks/plot_ablation.py on a fabricated ablation directory: the figure and the table."""

import json
from pathlib import Path

from benchmark_scripts import load_benchmark


def fake_run(root: Path, row: str, seed: int, rl: bool) -> None:
    run = root / row / f"seed{seed}" / "train"
    run.mkdir(parents=True)
    lines = []
    for step in range(1, 11):
        m = {"step": step, "loss/sl": 1.0 - 0.05 * step}
        if rl:
            m |= {"actor/pass_rate": 0.1 * step, "policy/entropy": 0.3, "reward/coarse": 0.0,
                  "learner/kl_behaviour": 0.001, "learner/clip_fraction": 0.0}  # fmt: skip
        lines.append(json.dumps(m))
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def test_plot_and_training_table(tmp_path):
    plot_ablation = load_benchmark("plot_ablation")
    scores = {"0": {"p1": 0.5, "p2": 0.0}}
    saved = {"scores": {"held-out": {"warm start": scores, "sl": scores, "rltf": scores},
                        "withheld": {"warm start": scores, "sl": scores, "rltf": scores}}}  # fmt: skip
    (tmp_path / "ablation.json").write_text(json.dumps(saved))
    for seed in (0, 1):
        fake_run(tmp_path, "sl", seed, rl=False)
        fake_run(tmp_path, "rltf", seed, rl=True)
    png = plot_ablation.plot(tmp_path, tmp_path / "curves.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = plot_ablation.training_summary(tmp_path, ["sl", "rltf"], window=2)
    sl, rltf = table.splitlines()[2:]
    assert sl.startswith("| sl (2 seeds) | — |") and "0.925 → 0.525" in sl  # SL loss ends
    assert rltf.startswith("| rltf (2 seeds) | 0.150 → 0.950 |")  # actor pass rate ends
