"""The learner: lr schedule, gradient accumulation, the RL weight λ, non-finite updates skipped."""

import math

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from rltf.feedback import Baseline, TokenRewards
from rltf.policy import Policy
from rltf.records import Sample
from rltf.training.buffer import ScoredSample
from rltf.training.checkpoint import trainable_state
from rltf.training.config import OptimConfig
from rltf.training.data import SLExample
from rltf.training.learner import Learner, lr_factor


class Tok:
    pad_token_id, eos_token_id, bos_token_id, bos_token = 0, 2, 1, None


def policy(seed=0) -> Policy:
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=30, n_positions=32, n_embd=8, n_layer=1, n_head=2, bos_token_id=1, eos_token_id=2
    )
    cfg.resid_pdrop = cfg.embd_pdrop = cfg.attn_pdrop = 0.0
    return Policy(GPT2LMHeadModel(cfg), Tok())


def scored(tokens, reward) -> ScoredSample:
    n = len(tokens)
    s = Sample(
        "p",
        (1, 3),
        tuple(tokens),
        "x" * n,
        tuple((i, i + 1) for i in range(n)),
        (-1.0,) * n,
        False,
        0,
    )
    r = TokenRewards(
        (reward,) * n,
        (reward,) * n,
        (0.0,) * n,
        (0.0,) * n,
        "paper",
        "failed",
        "ignore",
        None,
        0.0,
        -0.3,
        -0.3,
        0.0,
        Baseline("none"),
    )
    return ScoredSample(s, r)


def test_lr_schedule():
    cfg = OptimConfig(lr=1.0, warmup_steps=2, schedule="cosine", min_lr_ratio=0.1)
    assert [lr_factor(s, cfg, 10) for s in (0, 1)] == [0.5, 1.0]
    assert lr_factor(2, cfg, 10) == pytest.approx(1.0)
    assert lr_factor(6, cfg, 10) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert lr_factor(10, cfg, 10) == pytest.approx(0.1)
    linear = OptimConfig(schedule="linear")
    assert lr_factor(5, linear, 10) == pytest.approx(0.5)
    assert lr_factor(5, OptimConfig(), 10) == 1.0


@pytest.mark.filterwarnings(r"ignore:Seems like `optimizer.step\(\)` has been overridden")
def test_gradient_accumulation_equals_one_big_batch():
    a, b = SLExample("p", (1, 3), (4, 5, 2)), SLExample("q", (1, 6), (7, 8, 9, 2))
    grads = []
    for micro_batches in ([[a, b]], [[a], [b]]):
        learner = Learner(policy(), OptimConfig(lr=0.1), 5)
        params = [p for p in learner.policy.model.parameters() if p.requires_grad]
        # capture the accumulated gradient where the optimizer would use it
        learner.optimizer.step = lambda params=params: grads.append(  # type: ignore[method-assign]
            [p.grad.clone() for p in params]
        )
        learner.sl_step(micro_batches, "sample_mean")
        assert learner.step == 1
    assert all(torch.allclose(x, y, atol=1e-7) for x, y in zip(*grads, strict=True))


def test_rl_weight_zero_leaves_the_weights_and_loss_is_reported_unweighted():
    learner = Learner(policy(), OptimConfig(lr=0.1), 5)
    before = trainable_state(learner.policy.model)
    stats = learner.rl_step([[scored([4, 5], 1.0)]], weight=0.0)
    after = trainable_state(learner.policy.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert stats["loss/rl"] > 0 and stats["loss/rl_coarse"] == pytest.approx(stats["loss/rl"])


def test_rl_step_raises_the_probability_of_rewarded_tokens():
    learner = Learner(policy(), OptimConfig(lr=0.05), 5)
    good = scored([4, 5], 1.0)
    lp0 = float(learner.policy.token_logprobs([(1, 3)], [(4, 5)])[0].sum())
    for _ in range(3):
        learner.rl_step([[good]])
    lp1 = float(learner.policy.token_logprobs([(1, 3)], [(4, 5)])[0].sum())
    assert lp1 > lp0


def test_non_finite_loss_skips_the_update():
    learner = Learner(policy(), OptimConfig(lr=0.1), 5)
    before = trainable_state(learner.policy.model)
    stats = learner.rl_step([[scored([4, 5], float("nan"))]])
    assert stats["learner/skipped_nonfinite"] == 1.0
    assert learner.step == 0 and learner.skipped_nonfinite == 1
    after = trainable_state(learner.policy.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
