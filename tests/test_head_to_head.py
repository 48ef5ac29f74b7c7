"""benchmarks/head_to_head.py: arms resume from result.json, and the table pairs rltf with each
TRL arm by seed and problem (the training arms themselves are exercised by test_integrations_trl
and the loop's tests; a real run takes minutes)."""

import json

from benchmark_scripts import load_benchmark


def fake_run(per_problem: dict[str, float], steps: int) -> dict:
    return {
        "steps": steps,
        "train_wall_s": 10.0,
        "samples_per_s": 6.4 * steps / 10,
        "pass_at_k": {"1": sum(per_problem.values()) / len(per_problem), "5": 0.5},
        "per_problem": per_problem,
    }


def test_finished_arm_is_reused_not_retrained(tmp_path):
    h2h = load_benchmark("head_to_head")
    (tmp_path / "result.json").write_text(json.dumps({"final": "x", "steps": 3}))

    def train():
        raise AssertionError("a finished arm was trained again")

    assert h2h.arm(tmp_path, train, n=4) == {"final": "x", "steps": 3}


def test_table_means_over_seeds_and_pairs_rltf_with_each_trl_arm():
    h2h = load_benchmark("head_to_head")
    res = {
        "seeds": [0, 1],
        "warm_start": {"pass_at_k": {"1": 0.1, "5": 0.3}},
        "seed0": {
            "rltf": fake_run({"a": 1.0, "b": 0.0}, 100),
            "trl": fake_run({"a": 0.0, "b": 0.0}, 70),
        },
        "seed1": {
            "rltf": fake_run({"a": 1.0, "b": 1.0}, 100),
            "trl": fake_run({"a": 1.0, "b": 0.0}, 80),
        },
    }
    lines = h2h.table(res, ["rltf", "trl"]).splitlines()
    assert lines[2].startswith("| warm start | 0 | 0 | - | 10.00 | - | 30.00 |")
    rltf, trl = lines[3].split(" | "), lines[4].split(" | ")
    assert rltf[1:4] == ["100", "10", "64.0"] and rltf[4].startswith("75.00 [")
    assert trl[1] == "75" and trl[4].startswith("25.00 [")
    # rltf - trl, paired: seed 0 (1-0 + 0-0)/2 = 0.5, seed 1 (0 + 1)/2 = 0.5 -> +50 points
    assert trl[5].startswith("+50.00 [")
