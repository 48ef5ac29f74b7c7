"""The learner's batch path and loading RewardConfig from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rltf.config import ConfigError, load_config
from rltf.feedback import (
    NotTrainableError,
    RewardConfig,
    batch_token_rewards,
    group_baseline,
    pad_rewards,
    token_rewards,
)
from rltf.records import ErrorInfo, Sample, Verdict


def sample(pid: str, text: str) -> Sample:
    n = len(text)
    return Sample(
        pid, (), tuple(range(n)), text, tuple((i, i + 1) for i in range(n)), (0.0,) * n, False, 0
    )


ERR = ErrorInfo("ZeroDivisionError", "division by zero", 2, "line")
SAMPLES = [sample("a", "x = 1\ny = x/0\n"), sample("a", "print(1)\n"), sample("b", "pass\n")]
VERDICTS = [
    Verdict("runtime_error", passed=0, total=2, error=ERR),
    Verdict("passed", passed=2, total=2),
    Verdict("failed", passed=1, total=3),
]


def test_batch_equals_one_by_one_and_pads() -> None:
    cfg = RewardConfig(baseline="group")
    a = group_baseline(VERDICTS[:2], cfg, SAMPLES[:2])
    bases = [a, a, group_baseline(VERDICTS[2:], cfg, SAMPLES[2:])]
    batch = batch_token_rewards(SAMPLES, VERDICTS, bases, cfg)
    for s, v, b, r in zip(SAMPLES, VERDICTS, bases, batch, strict=True):
        assert r == token_rewards(s, v, b, cfg)
    padded = pad_rewards(batch)
    assert padded.shape == (3, 14) and padded.dtype == torch.float32
    assert padded[1, 9:].abs().sum() == 0  # right padding with zeros
    assert torch.allclose(padded[0], torch.tensor(batch[0].rewards))
    fine = pad_rewards(batch, length=20, component="fine", dtype=torch.float64)
    assert fine.shape == (3, 20) and fine.dtype == torch.float64
    assert fine[0, 6:14].lt(0).all() and fine[0, :6].eq(0).all()
    with pytest.raises(ValueError, match="shorter"):
        pad_rewards(batch, length=5)
    assert pad_rewards([]).shape == (0, 0)


def test_group_of_one_problem_that_all_pass_gives_zero() -> None:
    cfg = RewardConfig(baseline="group")
    s = [sample("a", "print(1)\n")] * 3
    v = [Verdict("passed", passed=2, total=2)] * 3
    out = batch_token_rewards(s, v, [group_baseline(v, cfg)] * 3, cfg)
    assert pad_rewards(out).abs().sum() == 0


def test_batch_names_the_bad_item() -> None:
    cfg = RewardConfig(baseline="none")
    verdicts = [*VERDICTS[:2], Verdict("sandbox_error")]
    with pytest.raises(NotTrainableError, match="batch item 2"):
        batch_token_rewards(SAMPLES, verdicts, [None] * 3, cfg)
    with pytest.raises(ValueError, match="one each"):
        batch_token_rewards(SAMPLES, VERDICTS[:2], [None] * 3, cfg)


def test_reward_config_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rewards.yaml"
    path.write_text("mode: official\nbaseline: group\nfine_penalty: -0.5\nadaptive: false\n")
    cfg = load_config(RewardConfig, path, ["reward_fail=-0.2"])
    assert cfg == RewardConfig(
        mode="official", baseline="group", fine_penalty=-0.5, adaptive=False, reward_fail=-0.2
    )
    path.write_text("mode: official\ncoarse: false\n")
    with pytest.raises(ConfigError, match="coarse"):
        load_config(RewardConfig, path)
    path.write_text("baseline: mean\n")
    with pytest.raises(ConfigError, match="baseline"):
        load_config(RewardConfig, path)
    path.write_text("fine_penalty: .nan\n")
    with pytest.raises(ConfigError, match="fine_penalty"):
        load_config(RewardConfig, path)
