"""score_round: the advantages the actor trains on, checked against hand-computed values for
every baseline kind (greedy per problem, group mean, leave-one-out, none) and normalisation."""

from __future__ import annotations

import math

import pytest

from rltf.feedback import RewardConfig, score_round
from rltf.records import ErrorInfo, Sample, Verdict


def sample(pid: str, text: str = "x = 1\ny = x/0\n", index: int = 0) -> Sample:
    n = len(text)
    offsets = tuple((i, i + 1) for i in range(n))
    return Sample(pid, (1,), tuple(range(n)), text, offsets, (0.0,) * n, False, 0, index)


ERR = ErrorInfo("ZeroDivisionError", "division by zero", 2, "line")
PASS = Verdict("passed", passed=2, total=2)
HALF = Verdict("failed", passed=1, total=2)  # R_coarse −0.3, R_adaptive −0.3 + 1.3/2 = 0.35
CRASH = Verdict("runtime_error", passed=0, total=2, error=ERR)  # −0.6, −0.3, R_fine −0.3
# Problem "a": pass, half, crash. Problem "b": one failed sample.
SAMPLES = [sample("a", index=i) for i in range(3)] + [sample("b")]
VERDICTS = [PASS, HALF, CRASH, Verdict("failed", passed=0, total=3)]
COARSE = {"coarse": True, "fine": False, "adaptive": False}


def per_token(scored: list, i: int) -> float:
    """The (constant) per-token reward of sample i."""
    r = scored[i].rewards
    assert max(r) == pytest.approx(min(r))
    return r[0]


def test_group_baseline_is_the_mean_of_the_problems_samples() -> None:
    out = score_round(SAMPLES, VERDICTS, RewardConfig(baseline="group", **COARSE)).rewards
    mean_a = (1.0 - 0.3 - 0.6) / 3
    assert [per_token(out, i) for i in range(3)] == pytest.approx(
        [1.0 - mean_a, -0.3 - mean_a, -0.6 - mean_a]
    )
    assert per_token(out, 3) == pytest.approx(0.0)  # b's only sample is its own baseline


def test_leave_one_out_excludes_the_sample_itself() -> None:
    out = score_round(SAMPLES, VERDICTS, RewardConfig(baseline="loo", **COARSE)).rewards
    # sample 0: mean(−0.3, −0.6) = −0.45; sample 1: mean(1, −0.6) = 0.2; 2: mean(1, −0.3) = 0.35
    assert [per_token(out, i) for i in range(3)] == pytest.approx([1.45, -0.5, -0.95])
    assert [out[i].baseline.n for i in range(3)] == [2, 2, 2]
    assert per_token(out, 3) == pytest.approx(0.0)  # a group of one: no other sample


def test_greedy_baseline_is_looked_up_per_problem() -> None:
    greedy = {
        "a": (sample("a"), HALF),  # −0.3
        "b": (sample("b"), PASS),  # +1
    }
    scored = score_round(SAMPLES, VERDICTS, RewardConfig(baseline="greedy", **COARSE), greedy)
    out = scored.rewards
    assert [per_token(out, i) for i in range(4)] == pytest.approx([1.3, 0.0, -0.3, -1.3])
    assert scored.fallbacks == 0


def test_greedy_falls_back_to_the_group_mean_when_its_verdict_is_unusable() -> None:
    greedy = {"a": (sample("a"), Verdict("sandbox_error")), "b": (sample("b"), None)}
    scored = score_round(SAMPLES, VERDICTS, RewardConfig(baseline="greedy", **COARSE), greedy)
    mean_a = (1.0 - 0.3 - 0.6) / 3
    assert per_token(scored.rewards, 0) == pytest.approx(1.0 - mean_a)
    assert scored.fallbacks == 2


def test_group_normalisation_divides_by_the_population_std() -> None:
    cfg = RewardConfig(baseline="group", normalize="group", **COARSE)
    out = score_round(SAMPLES, VERDICTS, cfg).rewards
    mean_a = (1.0 - 0.3 - 0.6) / 3
    std = math.sqrt(sum((r - mean_a) ** 2 for r in (1.0, -0.3, -0.6)) / 3)  # 0.6944
    assert std == pytest.approx(0.69442, abs=1e-4)
    assert per_token(out, 0) == pytest.approx((1.0 - mean_a) / std)
    assert out[0].outcome_scale == pytest.approx(1 / std)
    # a group of equal rewards is scaled by at most 1/normalize_min_std, and stays 0
    same = [sample("c", index=i) for i in range(2)]
    flat = score_round(same, [PASS, PASS], cfg).rewards
    assert flat[0] is not None and flat[0].outcome_scale == pytest.approx(10.0)
    assert flat[0].rewards == (0.0,) * len(flat[0])


def test_normalisation_uses_the_terms_that_are_on() -> None:
    """Adaptive on: the group's returns are R_coarse + R_adaptive."""
    cfg = RewardConfig(baseline="group", normalize="group", fine=False)
    out = score_round(SAMPLES[:3], VERDICTS[:3], cfg).rewards
    returns = [1.0 + 1.0, -0.3 + 0.35, -0.6 - 0.3]
    mean = sum(returns) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 3)
    assert per_token(out, 0) == pytest.approx((returns[0] - mean) / std)


def test_fine_term_is_baselined_within_the_group_and_bounded() -> None:
    cfg = RewardConfig(baseline="group", coarse=False, adaptive=False, fine=True)
    out = score_round(SAMPLES[:3], VERDICTS[:3], cfg).rewards
    crash = out[2]
    assert crash is not None and crash.span == (6, 13)  # "y = x/0\n"
    # R_fine − mean R_fine = −0.3 − (−0.1) = −0.2 on each line-2 token (α capped at 1)
    assert crash.fine[6:14] == pytest.approx((-0.2,) * 8) and crash.fine[:6] == (0.0,) * 6
    # every sample errs alike: no line is singled out
    alike = score_round(SAMPLES[:1] * 2, [CRASH, CRASH], cfg).rewards
    assert all(r is not None and r.rewards == (0.0,) * len(r) for r in alike)


def test_sandbox_errors_train_nothing_and_count_in_no_baseline() -> None:
    verdicts = [PASS, Verdict("sandbox_error"), CRASH, None]
    out = score_round(SAMPLES, verdicts, RewardConfig(baseline="group", **COARSE)).rewards
    assert out[1] is None and out[3] is None
    assert per_token(out, 0) == pytest.approx(1.0 - (1.0 - 0.6) / 2)


def test_no_baseline_and_length_mismatch() -> None:
    out = score_round(SAMPLES, VERDICTS, RewardConfig(baseline="none", **COARSE)).rewards
    assert [per_token(out, i) for i in range(4)] == pytest.approx([1.0, -0.3, -0.6, -0.3])
    with pytest.raises(ValueError, match="verdicts"):
        score_round(SAMPLES, VERDICTS[:2], RewardConfig())


def test_normalize_needs_a_group_baseline() -> None:
    with pytest.raises(ValueError, match="normalize"):
        RewardConfig(baseline="greedy", normalize="group").validate()
