"""The RLTF loss against hand-computed values and gradients (DESIGN.md §3)."""

import math

import pytest
import torch

from rltf.training.losses import approx_kl, rl_loss, sl_loss


def leaf(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def test_rl_loss_value_and_gradient_by_hand():
    # two samples: 2 tokens with reward 0.5 each, 1 token with reward −1
    lp1, lp2 = leaf([-1.0, -2.0]), leaf([-0.5])
    out = rl_loss([lp1, lp2], [[0.5, 0.5], [-1.0]], reduction="sum")
    # −(0.5·(−1) + 0.5·(−2) + (−1)·(−0.5)) = −(−0.5 − 1 + 0.5) = 1
    assert out.loss.item() == pytest.approx(1.0)
    assert out.num_tokens == 3
    out.loss.backward()
    # ∂L/∂log p_t = −r_t
    assert lp1.grad.tolist() == pytest.approx([-0.5, -0.5])
    assert lp2.grad.tolist() == pytest.approx([1.0])


@pytest.mark.parametrize(("reduction", "z"), [("sum", 1), ("token_mean", 3), ("sample_mean", 2)])
def test_rl_loss_reductions(reduction, z):
    lp1, lp2 = leaf([-1.0, -2.0]), leaf([-0.5])
    out = rl_loss([lp1, lp2], [[0.5, 0.5], [-1.0]], reduction=reduction)
    assert out.loss.item() == pytest.approx(1.0 / z)
    out.loss.backward()
    assert lp2.grad.item() == pytest.approx(1.0 / z)


def test_rl_loss_through_softmax_matches_policy_gradient_by_hand():
    # one token drawn from softmax([0, ln 2, 0]) = [1/4, 1/2, 1/4]; token 1; reward 2
    logits = torch.tensor([0.0, math.log(2.0), 0.0], dtype=torch.float64, requires_grad=True)
    logp = torch.log_softmax(logits, -1)[1:2]
    out = rl_loss([logp], [[2.0]], reduction="sum")
    assert out.loss.item() == pytest.approx(-2.0 * math.log(0.5))
    out.loss.backward()
    # ∂/∂z of −r·log softmax(z)_k = −r·(onehot_k − softmax(z)) = −2·[−1/4, 1/2, −1/4]
    assert logits.grad.tolist() == pytest.approx([0.5, -1.0, 0.5])


def test_components_are_reported_and_sum_to_the_loss_in_paper_mode():
    lp = leaf([-1.0, -3.0])
    coarse, fine, adaptive = [0.7, 0.7], [0.0, -0.6], [0.2, 0.2]
    total = [c + f + a for c, f, a in zip(coarse, fine, adaptive, strict=True)]
    out = rl_loss(
        [lp],
        [total],
        reduction="token_mean",
        components={"coarse": [coarse], "fine": [fine], "adaptive": [adaptive]},
    )
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
    with pytest.raises(ValueError, match="sample 0 has 2 tokens but 1 token rewards"):
        rl_loss([leaf([-1.0, -2.0])], [[1.0]])
    with pytest.raises(ValueError, match="1 samples but 2 reward rows"):
        rl_loss([leaf([-1.0])], [[1.0], [1.0]])
    with pytest.raises(ValueError, match="empty"):
        sl_loss([])
    with pytest.raises(ValueError, match="unknown reduction"):
        sl_loss([leaf([-1.0])], "mean")  # type: ignore[arg-type]


def test_approx_kl():
    new = [torch.tensor([-1.0, -2.0])]
    assert approx_kl(new, [[-1.5, -2.5]]) == pytest.approx(-0.5)
    assert approx_kl(new, [[]]) == 0.0
