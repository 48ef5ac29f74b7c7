"""The RLTF loss against hand-computed values and gradients (DESIGN.md §3)."""

import math

import pytest
import torch

from rltf.training.losses import normaliser, policy_loss, sl_loss


def leaf(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def test_on_policy_value_and_gradient_by_hand():
    """ρ = 1 (behaviour = current): the gradient is exactly the paper's −Σ A_t ∇log p."""
    lp1, lp2 = leaf([-1.0, -2.0]), leaf([-0.5])
    for eps in (None, 0.2):
        out = policy_loss([lp1, lp2], [[-1.0, -2.0], [-0.5]], [[0.5, 0.5], [-1.0]], 1.0, eps)
        lp1.grad = lp2.grad = None
        out.loss.backward()
        assert lp1.grad.tolist() == pytest.approx([-0.5, -0.5])  # ∂L/∂log p_t = −A_t
        assert lp2.grad.tolist() == pytest.approx([1.0])
        assert out.num_tokens == 3 and out.clipped_tokens == 0
        assert out.ratio_sum == pytest.approx(3.0) and out.kl_behaviour_sum == pytest.approx(0)
    # the paper's loss value: −Σ A log p = −(0.5·−1 + 0.5·−2 + −1·−0.5) = 1
    paper = policy_loss([lp1, lp2], [[-1.0, -2.0], [-0.5]], [[0.5, 0.5], [-1.0]], 1.0, None)
    assert paper.loss.item() == pytest.approx(1.0)


def test_ratio_clipping_by_hand():
    """ρ = e^{log p − log μ}. A > 0 and ρ > 1 + ε: clipped (no gradient); A > 0 and ρ < 1:
    not clipped (gradient ρ·A); A < 0 and ρ < 1 − ε: clipped; A < 0 and ρ > 1: not clipped."""
    lp = leaf([math.log(1.5), math.log(0.5), math.log(0.5), math.log(1.5)])
    old = [[0.0, 0.0, 0.0, 0.0]]
    adv = [[1.0, 1.0, -1.0, -1.0]]
    out = policy_loss([lp], old, adv, 4.0, clip_eps=0.2)
    # values: −min(1.5, 1.2) = −1.2; −min(0.5, 0.8) = −0.5; −min(−0.5, −0.8) = 0.8;
    #         −min(−1.5, −1.2) = 1.5   → sum 0.6, / z = 4
    assert out.loss.item() == pytest.approx((-1.2 - 0.5 + 0.8 + 1.5) / 4)
    assert out.clipped_tokens == 2
    out.loss.backward()
    # ∂/∂log p of −ρA = −ρA; clipped tokens have none
    assert lp.grad.tolist() == pytest.approx([0.0, -0.5 / 4, 0.0, 1.5 / 4])
    kl = sum((r - 1) - math.log(r) for r in (1.5, 0.5, 0.5, 1.5))
    assert out.kl_behaviour_sum == pytest.approx(kl)


@pytest.mark.parametrize(("reduction", "z"), [("sum", 1), ("token_mean", 3), ("sample_mean", 2)])
def test_normalisers(reduction, z):
    assert normaliser([2, 1], reduction) == z
    lp1, lp2 = leaf([-1.0, -2.0]), leaf([-0.5])
    out = policy_loss([lp1, lp2], [[-1.0, -2.0], [-0.5]], [[0.5, 0.5], [-1.0]], z, None)
    assert out.loss.item() == pytest.approx(1.0 / z)
    with pytest.raises(ValueError, match="unknown reduction"):
        normaliser([1], "mean")


def test_loss_through_softmax_matches_policy_gradient_by_hand():
    # one token drawn from softmax([0, ln 2, 0]) = [1/4, 1/2, 1/4]; token 1; advantage 2
    logits = torch.tensor([0.0, math.log(2.0), 0.0], dtype=torch.float64, requires_grad=True)
    logp = torch.log_softmax(logits, -1)[1:2]
    out = policy_loss([logp], [[math.log(0.5)]], [[2.0]], 1.0)
    out.loss.backward()
    # ∂/∂z of −A·log softmax(z)_k = −A·(onehot_k − softmax(z)) = −2·[−1/4, 1/2, −1/4]
    assert logits.grad.tolist() == pytest.approx([0.5, -1.0, 0.5])


def test_kl_to_the_reference_by_hand():
    lp = leaf([-1.0])
    ref = [torch.tensor([-1.5], dtype=torch.float64)]
    out = policy_loss([lp], [[-1.0]], [[0.0]], 1.0, 0.2, ref, kl_coef=0.5)
    q = -0.5  # log p_ref − log p
    assert out.kl_ref_sum == pytest.approx(math.exp(q) - q - 1)
    assert out.loss.item() == pytest.approx(0.5 * (math.exp(q) - q - 1))
    out.loss.backward()
    assert lp.grad.item() == pytest.approx(0.5 * (1 - math.exp(q)))  # ∂/∂lp of e^{r−lp} + lp


def test_components_are_reported_and_sum_to_the_loss_on_policy():
    lp = leaf([-1.0, -3.0])
    coarse, fine, adaptive = [0.7, 0.7], [0.0, -0.6], [0.2, 0.2]
    total = [c + f + a for c, f, a in zip(coarse, fine, adaptive, strict=True)]
    parts = {"coarse": [coarse], "fine": [fine], "adaptive": [adaptive]}
    out = policy_loss([lp], [[-1.0, -3.0]], [total], 2.0, None, components=parts)
    # coarse: −(0.7·−1 + 0.7·−3)/2 = 1.4 ; fine: −(−0.6·−3)/2 = −0.9 ; adaptive: −(0.2·−4)/2 = 0.4
    assert out.terms["coarse"] == pytest.approx(1.4)
    assert out.terms["fine"] == pytest.approx(-0.9)
    assert out.terms["adaptive"] == pytest.approx(0.4)
    assert out.loss.item() == pytest.approx(1.4 - 0.9 + 0.4)


def test_sl_loss_is_mean_nll_and_gradient_by_hand():
    lp1, lp2 = leaf([-1.0, -2.0]), leaf([-3.0])
    loss = sl_loss([lp1, lp2])  # token mean: (1 + 2 + 3) / 3
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert lp1.grad.tolist() == pytest.approx([-1 / 3, -1 / 3])
    assert sl_loss([leaf([-1.0, -2.0]), leaf([-3.0])], "sample_mean").item() == pytest.approx(3.0)
    assert sl_loss([leaf([-1.0, -2.0])], z=6.0).item() == pytest.approx(0.5)  # the step's Z


def test_sl_loss_masks_the_prompt_on_a_real_model():
    """The SL loss from target-only log-probs equals HF's loss with the prompt labelled −100."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(vocab_size=50, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    )
    model.eval()
    prompt, target = [3, 4, 5, 6], [7, 8, 9]
    ids = torch.tensor([prompt + target])
    labels = torch.tensor([[-100] * len(prompt) + target])
    hf = model(input_ids=ids, labels=labels).loss
    logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1], -1)
    target_lp = logp[len(prompt) - 1 :].gather(-1, torch.tensor(target)[:, None])[:, 0]
    assert sl_loss([target_lp]).item() == pytest.approx(hf.item(), rel=1e-5)


def test_shape_mismatches_are_errors():
    with pytest.raises(ValueError, match="sample 0 has 2 tokens but 1 advantages"):
        policy_loss([leaf([-1.0, -2.0])], [[0.0, 0.0]], [[1.0]], 1.0)
    with pytest.raises(ValueError, match="1 samples, 1 behaviour rows, 2 advantage rows"):
        policy_loss([leaf([-1.0])], [[0.0]], [[1.0], [1.0]], 1.0)
    with pytest.raises(ValueError, match="clip_eps"):
        policy_loss([leaf([-1.0])], [[0.0]], [[1.0]], 1.0, clip_eps=0.0)
    with pytest.raises(ValueError, match="empty"):
        sl_loss([])
    with pytest.raises(ValueError, match="unknown reduction"):
        sl_loss([leaf([-1.0])], "mean")  # type: ignore[arg-type]
