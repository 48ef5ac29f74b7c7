"""The two-stage bootstrap of the ablation: means, paired differences, intervals that cover."""

import random

import pytest

from rltf.evaluation.bootstrap import bootstrap_mean, paired_difference


def scores(values_by_seed):
    return {s: {f"p{i}": v for i, v in enumerate(vals)} for s, vals in values_by_seed.items()}


def test_constant_scores_have_a_point_interval():
    iv = bootstrap_mean(scores({0: [0.5, 0.5], 1: [0.5, 0.5]}))
    assert (iv.mean, iv.low, iv.high) == (0.5, 0.5, 0.5)
    assert (iv.seeds, iv.problems) == (2, 2)


def test_paired_difference_removes_the_shared_problem_effect():
    """b = a + 0.1 on every problem and seed: the paired interval is exactly 0.1 although the
    problems themselves vary from 0 to 0.9."""
    rng = random.Random(0)
    base = {s: [rng.random() * 0.9 for _ in range(30)] for s in range(3)}
    a, b = scores(base), scores({s: [v + 0.1 for v in vals] for s, vals in base.items()})
    diff = paired_difference(b, a)
    assert diff.mean == pytest.approx(0.1)
    assert diff.low == pytest.approx(0.1) and diff.high == pytest.approx(0.1)
    assert diff.excludes_zero()
    unpaired = bootstrap_mean(b)
    assert unpaired.high - unpaired.low > 0.1  # the problems' spread, which pairing removes


def test_noise_only_difference_covers_zero_and_missing_problems_count_zero():
    rng = random.Random(1)
    a = scores({s: [rng.random() for _ in range(40)] for s in range(3)})
    b = scores({s: [rng.random() for _ in range(40)] for s in range(3)})
    diff = paired_difference(a, b)
    assert diff.low < 0 < diff.high and not diff.excludes_zero()
    partial = {0: {"x": 1.0}}
    assert paired_difference(partial, {0: {"y": 1.0}}).mean == pytest.approx(0.0)
    assert "[" in diff.fmt() and diff.fmt().startswith(("+", "-"))


def test_errors():
    with pytest.raises(ValueError, match="share no seed"):
        paired_difference({0: {"p": 1.0}}, {1: {"p": 1.0}})
    with pytest.raises(ValueError, match="no seeds"):
        bootstrap_mean({})
