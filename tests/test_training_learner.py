"""The learner: lr schedule, one joint SL+RL step, accumulation equal to one big batch for every
reduction, temperature-consistent log-probs, fine/adaptive/negative rewards, λ, non-finite
updates skipped."""

import math

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from rltf.feedback import Baseline, TokenRewards
from rltf.policy import Policy
from rltf.records import Sample
from rltf.training.buffer import ScoredSample
from rltf.training.checkpoint import trainable_state
from rltf.training.config import LearnerConfig, OptimConfig
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


def scored(tokens, reward, fine=None, adaptive=None, logprobs=None, prompt=(1, 3)) -> ScoredSample:
    """A sample whose per-token reward is coarse ``reward`` + ``fine[t]`` + ``adaptive[t]``."""
    n = len(tokens)
    fine = tuple(fine or (0.0,) * n)
    adaptive = tuple(adaptive or (0.0,) * n)
    s = Sample(
        "p",
        tuple(prompt),
        tuple(tokens),
        "x" * n,
        tuple((i, i + 1) for i in range(n)),
        tuple(logprobs or (-1.0,) * n),
        False,
        0,
    )
    r = TokenRewards(
        tuple(reward + f + a for f, a in zip(fine, adaptive, strict=True)),
        (reward,) * n,
        fine,
        adaptive,
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


def captured_gradient(learner: Learner) -> list[list[torch.Tensor]]:
    """Replace the optimizer's step by a capture of the accumulated (clipped) gradient."""
    grads: list[list[torch.Tensor]] = []
    params = [p for p in learner.policy.model.parameters() if p.requires_grad]
    learner.optimizer.step = lambda: grads.append([p.grad.clone() for p in params])  # type: ignore[method-assign]
    return grads


SL = [SLExample("p", (1, 3), (4, 5, 2)), SLExample("q", (1, 6), (7, 8, 9, 2))]


def rl_batch():
    return [
        scored([4, 5], 0.7, fine=[0.0, -0.3], adaptive=[0.2, 0.2]),
        scored([6, 7, 8], -0.6, fine=[-0.3, 0.0, 0.0], adaptive=[-0.1] * 3, prompt=(1, 9, 9)),
        scored([9], -1.0),
    ]


@pytest.mark.filterwarnings(r"ignore:Seems like `optimizer.step\(\)` has been overridden")
@pytest.mark.parametrize("reduction", ["token_mean", "sample_mean", "sum"])
def test_micro_batches_equal_one_big_batch_for_every_reduction(reduction):
    """One normaliser for the whole step: micro-batching never changes the gradient (SL and RL,
    with fine and adaptive parts and negative rewards)."""
    grads = []
    for size in (16, 1, 2):
        cfg = LearnerConfig(
            micro_batch_size=size, sl_loss_reduction=reduction, rl_loss_reduction=reduction
        )
        learner = Learner(policy(), OptimConfig(lr=0.1, grad_clip=None), 5, cfg)
        captured = captured_gradient(learner)
        learner.train_step(SL, rl_batch())
        grads.append(captured[0])
        assert learner.step == 1
    for other in grads[1:]:
        assert all(torch.allclose(x, y, atol=1e-6) for x, y in zip(grads[0], other, strict=True))


@pytest.mark.filterwarnings(r"ignore:Seems like `optimizer.step\(\)` has been overridden")
def test_one_step_descends_the_sum_of_sl_and_weighted_rl():
    """train_step(sl, rl) with λ applies ∇(L_sl + λ L_rl) once: it equals the SL-only gradient
    plus λ times the RL-only gradient."""
    parts = {}
    for name, sl, rl, lam in (
        ("sl", SL, [], 1.0),
        ("rl", [], rl_batch(), 1.0),
        ("both", SL, rl_batch(), 0.5),
    ):
        learner = Learner(
            policy(), OptimConfig(lr=0.1, grad_clip=None), 5, LearnerConfig(rl_weight=lam)
        )
        captured = captured_gradient(learner)
        stats = learner.train_step(sl, rl)
        parts[name] = captured[0]
        assert learner.step == 1
    assert "loss/sl" in stats and "loss/rl" in stats
    assert stats["learner/grad_norm_rl"] > 0 and stats["learner/grad_norm_sl"] > 0
    for g_sl, g_rl, g in zip(parts["sl"], parts["rl"], parts["both"], strict=True):
        assert torch.allclose(g, g_sl + 0.5 * g_rl, atol=1e-6)


def test_rl_weight_zero_leaves_the_weights_and_loss_is_reported_unweighted():
    learner = Learner(policy(), OptimConfig(lr=0.1), 5, LearnerConfig(rl_weight=0.0))
    before = trainable_state(learner.policy.model)
    learner.train_step([], [scored([4, 5], 1.0)])
    after = trainable_state(learner.policy.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    learner = Learner(policy(), OptimConfig(lr=0.1), 5)
    stats = learner.train_step([], [scored([4, 5], 1.0)])
    assert stats["loss/rl_coarse"] == pytest.approx(stats["loss/rl"])


@pytest.mark.parametrize(("reward", "direction"), [(1.0, 1), (-0.6, -1)])
def test_rl_step_moves_the_probability_of_the_sampled_tokens_with_the_sign_of_the_reward(
    reward, direction
):
    learner = Learner(policy(), OptimConfig(lr=0.05), 5)
    lp0 = float(learner.policy.token_logprobs([(1, 3)], [(4, 5)])[0].sum())
    for _ in range(3):  # on-policy: behaviour log-probs of the current weights
        with torch.no_grad():
            behaviour = learner.policy.token_logprobs([(1, 3)], [(4, 5)])[0].tolist()
        learner.train_step([], [scored([4, 5], reward, logprobs=behaviour)])
    lp1 = float(learner.policy.token_logprobs([(1, 3)], [(4, 5)])[0].sum())
    assert (lp1 - lp0) * direction > 0


def test_fine_penalty_lowers_only_the_error_line_tokens_relative_to_the_rest():
    learner = Learner(policy(), OptimConfig(lr=0.05), 5)
    lp0 = learner.policy.token_logprobs([(1, 3)], [(4, 5, 6)])[0].detach()
    sample = scored([4, 5, 6], 0.0, fine=[0.0, 0.0, -0.3], logprobs=lp0.tolist())
    for _ in range(3):
        learner.train_step([], [sample])
    lp1 = learner.policy.token_logprobs([(1, 3)], [(4, 5, 6)])[0].detach()
    assert lp1[2] < lp0[2]


def test_learner_log_probs_are_taken_at_the_sampling_temperature():
    """Samples recorded at T: on-policy the ratio is 1 only when the learner uses the same T."""
    pol = policy()
    prompts, tokens = [(1, 3)], [(4, 5, 6)]
    with torch.no_grad():
        at_t = pol.token_logprobs(prompts, tokens, temperature=0.6)[0].tolist()
    sample = scored(list(tokens[0]), 0.5, logprobs=at_t)
    same = Learner(pol, OptimConfig(lr=1e-9), 5, temperature=0.6).train_step([], [sample])
    assert same["learner/ratio_mean"] == pytest.approx(1.0, abs=1e-5)
    assert same["learner/kl_behaviour"] == pytest.approx(0.0, abs=1e-6)
    other = Learner(policy(), OptimConfig(lr=1e-9), 5, temperature=1.0).train_step([], [sample])
    assert abs(other["learner/ratio_mean"] - 1.0) > 1e-3


def test_stale_samples_are_clipped():
    """Behaviour log-probs far below the current ones (ρ ≫ 1 + ε) with a positive advantage:
    every token is clipped and the update has no RL gradient."""
    sample = scored([4, 5], 1.0, logprobs=[-30.0, -30.0])
    learner = Learner(policy(), OptimConfig(lr=0.1), 5, LearnerConfig(clip_eps=0.2))
    stats = learner.train_step([], [sample])
    assert stats["learner/clip_fraction"] == 1.0
    assert stats["learner/grad_norm"] == pytest.approx(0.0)
    paper = Learner(policy(), OptimConfig(lr=0.1), 5, LearnerConfig(clip_eps=None))
    assert paper.train_step([], [sample])["learner/grad_norm"] > 0  # plain REINFORCE moves


def test_kl_to_the_starting_policy_is_zero_at_the_start_and_grows():
    learner = Learner(policy(), OptimConfig(lr=0.05), 5, LearnerConfig(kl_coef=0.1))
    first = learner.train_step([], [scored([4, 5], 1.0)])
    assert first["learner/kl_ref"] == pytest.approx(0.0, abs=1e-9)
    later = learner.train_step([], [scored([4, 5], 1.0)])
    assert later["learner/kl_ref"] > 0


def test_advantage_metrics():
    stats = Learner(policy(), OptimConfig(lr=0.1), 5).train_step([], rl_batch())
    values = [a for s in rl_batch() for a in s.rewards.rewards]
    assert stats["advantage/mean"] == pytest.approx(sum(values) / len(values))
    assert stats["advantage/zero_share"] == 0.0
    assert stats["policy/entropy"] == pytest.approx(1.0)  # −mean of the recorded −1.0 log-probs


def test_non_finite_loss_skips_the_update():
    learner = Learner(policy(), OptimConfig(lr=0.1), 5)
    before = trainable_state(learner.policy.model)
    stats = learner.train_step([], [scored([4, 5], float("nan"))])
    assert stats["learner/skipped_nonfinite"] == 1.0
    assert learner.step == 0 and learner.skipped_nonfinite == 1
    after = trainable_state(learner.policy.model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_non_finite_gradient_skips_the_update():
    """A finite loss whose gradient overflows (forced with a hook): no step, counted."""
    learner = Learner(policy(), OptimConfig(lr=0.1), 5)
    param = next(p for p in learner.policy.model.parameters() if p.requires_grad)
    param.register_hook(lambda g: torch.full_like(g, float("inf")))
    before = trainable_state(learner.policy.model)
    stats = learner.train_step(SL, rl_batch())
    assert stats["learner/skipped_nonfinite"] == 1.0 and learner.step == 0
    after = trainable_state(learner.policy.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in learner.policy.model.parameters())


def test_empty_step_is_an_error():
    with pytest.raises(ValueError, match="empty step"):
        Learner(policy(), OptimConfig(lr=0.1), 5).train_step([], [])
