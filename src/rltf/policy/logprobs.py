"""Log-probs of given token sequences under the current weights (the learner's forward pass).

Returns log p(token_t | prompt, tokens_<t) for each sequence, differentiable, computed with the same
layout as the sampling loop (:mod:`rltf.policy.sampling`) so that, for the same weights, they equal
the log-probs recorded at generation time up to float rounding:

* causal: ``[pad.. prompt | tokens ..pad]`` — prompts left-padded so every row's first generated
  token sits in the same column (one contiguous slice of logits), tokens right-padded; padding is
  masked and position ids skip it. Only the needed logits are computed (``logits_to_keep``).
* encoder-decoder: encoder input = prompt (right-padded, masked); decoder input =
  ``[decoder_start] + tokens[:-1]``; targets = tokens.

The per-token log-prob is ``log_softmax(z)[token]`` with ``z = logits / temperature`` in float32,
the same formula as the sampler's (:func:`rltf.policy.sampling.pick`); the fused log-softmax was
1.5x faster forward+backward than ``z[token] - logsumexp(z)`` on this CPU. The learner
differentiates the distribution the actor sampled from (TRL and veRL divide by the sampling
temperature the same way; top-p is not applied). Dropout follows the model's mode: call
``model.eval()`` for exact agreement with generation (RL fine-tuning code usually disables
dropout for this reason).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rltf.policy.sampling import accepts, left_pad, position_ids, right_pad


def _gather_logprobs(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logits = logits.float()
    if temperature != 1.0:
        logits = logits / temperature
    return torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None]).squeeze(-1)


def causal_token_logprobs(
    model: torch.nn.Module,
    prompt_ids: Sequence[Sequence[int]],
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    temperature: float = 1.0,
) -> list[torch.Tensor]:
    """See the module docstring. One 1-D tensor per sequence, of length ``len(token_ids[b])``."""
    _check_lengths(prompt_ids, token_ids)
    if any(len(p) == 0 for p in prompt_ids):
        raise ValueError("a causal model needs at least one prompt token (e.g. BOS)")
    device = next(model.parameters()).device
    p_ids, p_mask = left_pad(prompt_ids, pad_id, device)
    width = max((len(t) for t in token_ids), default=0)
    if width == 0:
        return [torch.zeros(0, device=device) for _ in token_ids]
    t_ids, t_mask = right_pad(token_ids, pad_id, device, width)
    ids = torch.cat([p_ids, t_ids], dim=1)
    mask = torch.cat([p_mask, t_mask], dim=1)
    extra = {"logits_to_keep": width + 1} if accepts(model, "logits_to_keep") else {}
    logits = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=position_ids(mask),
        use_cache=False,
        **extra,
    ).logits
    # The logit at column c predicts the token at column c + 1: columns P-1 .. P+width-2.
    logits = logits[:, -(width + 1) : -1]
    logps = _gather_logprobs(logits, t_ids, temperature)
    return [logps[b, : len(t)] for b, t in enumerate(token_ids)]


def seq2seq_token_logprobs(
    model: torch.nn.Module,
    prompt_ids: Sequence[Sequence[int]],
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    decoder_start_id: int,
    temperature: float = 1.0,
) -> list[torch.Tensor]:
    """See the module docstring. One 1-D tensor per sequence, of length ``len(token_ids[b])``."""
    _check_lengths(prompt_ids, token_ids)
    device = next(model.parameters()).device
    width = max((len(t) for t in token_ids), default=0)
    if width == 0:
        return [torch.zeros(0, device=device) for _ in token_ids]
    enc_ids, enc_mask = right_pad(prompt_ids, pad_id, device)
    t_ids, _ = right_pad(token_ids, pad_id, device, width)
    dec_in = torch.cat(
        [torch.full((len(token_ids), 1), decoder_start_id, device=device), t_ids[:, :-1]], dim=1
    )
    logits = model(
        input_ids=enc_ids, attention_mask=enc_mask, decoder_input_ids=dec_in, use_cache=False
    ).logits
    logps = _gather_logprobs(logits, t_ids, temperature)
    return [logps[b, : len(t)] for b, t in enumerate(token_ids)]


def _check_lengths(prompt_ids: Sequence[Sequence[int]], token_ids: Sequence[Sequence[int]]) -> None:
    if len(prompt_ids) != len(token_ids):
        raise ValueError(
            f"token_logprobs: {len(prompt_ids)} prompts but {len(token_ids)} token sequences"
        )


__all__ = ["causal_token_logprobs", "seq2seq_token_logprobs"]
