"""Metrics go to JSONL and TensorBoard; a resume drops entries past the checkpoint."""

import json

from rltf.training.metrics import MetricsLogger


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_tensorboard_and_samples(tmp_path):
    with MetricsLogger(tmp_path) as m:
        m.log(1, {"loss/sl": 2.5, "outcome/passed": 3, "note": "x", "bad": float("nan")})
        m.log_samples(1, [{"problem_id": "p", "program": "print(1)", "outcome": "passed"}])
    (r,) = rows(tmp_path / "metrics.jsonl")
    assert r["step"] == 1 and r["loss/sl"] == 2.5 and r["bad"] == "nan"
    assert rows(tmp_path / "samples.jsonl")[0]["program"] == "print(1)"
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_resume_truncates_and_fresh_start_clears(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as m:
        for step in range(1, 6):
            m.log(step, {"x": step})
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 6, "x"')  # cut by a kill mid-write
    with MetricsLogger(tmp_path, tensorboard=False, resume_step=3) as m:
        m.log(4, {"x": 40})
    assert [(r["step"], r["x"]) for r in rows(tmp_path / "metrics.jsonl")] == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 40),
    ]
    with MetricsLogger(tmp_path, tensorboard=False):
        pass
    assert rows(tmp_path / "metrics.jsonl") == []
