"""benchmarks/generation.py runs end to end on the tiny model and reports every engine."""

import json

from benchmark_scripts import load_benchmark


def test_generation_benchmark_reports_every_engine(tmp_path):
    bench = load_benchmark("generation")
    out = tmp_path / "gen.json"
    argv = ["--models", "tiny", "--batches", "4", "--new-tokens", "4", "--gen-repeat", "1"]
    assert bench.main([*argv, "--repeat", "1", "--threads", "1", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    (row,) = saved["generation"]
    engines = ["floor_fp32", "floor_bf16", "hf_fp32", "hf_bf16", "rltf_fp32", "rltf_bf16"]
    assert all(row[k] > 0 for k in [*engines, "rltf_bf16_keep", "rltf_bf16_n4"])
    assert set(row["rltf_bf16_breakdown_s"]) >= {"prefill", "decode", "sampler", "total"}
    assert row["bf16_logprobs"]["tokens"] > 0 and row["bf16_logprobs"]["ratio_min"] > 0.5
    (learner,) = saved["learner"]
    assert learner["step_fp32_s"] > 0 and learner["grad_cosine"] > 0.9
