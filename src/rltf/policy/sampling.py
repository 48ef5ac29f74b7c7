"""The sampling loop: batched, KV-cached, for causal and encoder-decoder models alike.

A short explicit loop instead of ``model.generate`` because RL needs three things ``generate``
does not give directly: (1) the log-prob of each sampled token under the distribution it was drawn
from, ``log_softmax(logits / temperature)`` (top-p only truncates the support and is not applied,
as in TRL and veRL), which is what the learner differentiates (``token_logprobs(...,
temperature=T)`` recomputes exactly this, and a test checks the two agree); (2) a private ``torch.Generator`` so a seed
reproduces samples without touching global RNG state; (3) per-row stopping on EOS and stop strings.

Layout shared with :mod:`rltf.policy.logprobs` (so both compute the same function): causal prompts
are left-padded, ``position_ids = cumsum(attention_mask) - 1`` (0 on padding, as transformers 5's
``generate`` does); encoder inputs are right-padded and the decoder starts from
``decoder_start_token_id``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from rltf.policy.config import GenerationConfig


@dataclass(frozen=True)
class RawGeneration:
    """One row of the loop's output before text processing: ids as sampled (EOS included when
    emitted), their log-probs at the sampling temperature, and whether EOS ended it."""

    token_ids: list[int]
    logprobs: list[float]
    hit_eos: bool


def accepts(model: torch.nn.Module, name: str) -> bool:
    """Whether ``model.forward`` takes keyword ``name`` (e.g. ``logits_to_keep``); a peft wrapper
    passes keywords through to its base model, so ask the base model."""
    get_base = getattr(model, "get_base_model", None)
    base = get_base() if callable(get_base) else model
    return name in inspect.signature(base.forward).parameters


def left_pad(
    rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ids and attention mask (B, max_len)."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, r in enumerate(rows):
        if r:
            ids[b, width - len(r) :] = torch.tensor(list(r), dtype=torch.long)
            mask[b, width - len(r) :] = 1
    return ids.to(device), mask.to(device)


def right_pad(
    rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str, width: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and mask (B, max(width, max_len))."""
    width = max(width, max((len(r) for r in rows), default=0))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, r in enumerate(rows):
        if r:
            ids[b, : len(r)] = torch.tensor(list(r), dtype=torch.long)
            mask[b, : len(r)] = 1
    return ids.to(device), mask.to(device)


def position_ids(mask: torch.Tensor) -> torch.Tensor:
    """Positions that skip left padding, exactly as transformers 5 ``generate`` builds them."""
    return (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filtering (Holtzman et al. 2020): keep the smallest set of most likely tokens whose
    probability mass reaches ``top_p``; the rest get -inf. Same rule as transformers' TopPLogitsWarper
    (the most likely token always survives)."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=False, dim=-1)
    cum = sorted_logits.softmax(-1).cumsum(-1)
    drop_sorted = cum <= 1 - top_p
    drop_sorted[..., -1] = False
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def pick(
    logits: torch.Tensor, gen: GenerationConfig, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Choose the next token of each row; return (token ids, their log-probs under the sampling
    distribution ``softmax(logits / T)``; T = 1 for greedy decoding)."""
    logits = logits.float()
    if gen.do_sample:
        scaled = logits / gen.temperature
        probs = torch.softmax(top_p_filter(scaled, gen.top_p), dim=-1)
        tokens = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    else:
        scaled = logits
        tokens = logits.argmax(-1)
    logp = torch.log_softmax(scaled, dim=-1)
    return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)


def cache_keyword(model: torch.nn.Module) -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache``; models written against older
    versions (and remote code) still take ``past_key_values``."""
    return "cache" if accepts(model, "cache") else "past_key_values"


def output_cache(out: object) -> object:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else getattr(out, "past_key_values", None)


StopCheck = Callable[[int, list[int]], bool]  # (row, ids so far) -> a stop string was produced


@torch.inference_mode()
def sample_batch(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    gen: GenerationConfig,
    *,
    is_seq2seq: bool,
    pad_id: int,
    eos_ids: frozenset[int],
    decoder_start_id: int | None = None,
    generator: torch.Generator | None = None,
    stop_check: StopCheck | None = None,
) -> list[RawGeneration]:
    """Generate one continuation per prompt (at most ``gen.max_new_tokens`` tokens each)."""
    device = next(model.parameters()).device
    batch = len(prompts)
    cache_kw = cache_keyword(model)
    if is_seq2seq:
        if decoder_start_id is None:
            raise ValueError("an encoder-decoder model needs decoder_start_token_id in its config")
        enc_ids, enc_mask = right_pad(prompts, pad_id, device)
        encoder_outputs = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask)  # type: ignore[operator]
        step_input = torch.full((batch, 1), decoder_start_id, dtype=torch.long, device=device)
        out = model(
            encoder_outputs=encoder_outputs,
            attention_mask=enc_mask,
            decoder_input_ids=step_input,
            use_cache=True,
        )
    else:
        if any(len(p) == 0 for p in prompts):
            raise ValueError("a causal model needs at least one prompt token (e.g. BOS)")
        ids, mask = left_pad(prompts, pad_id, device)
        pos = position_ids(mask)
        extra = {"logits_to_keep": 1} if accepts(model, "logits_to_keep") else {}
        out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **extra)
        next_pos = pos[:, -1] + 1

    tokens_out: list[list[int]] = [[] for _ in range(batch)]
    logps_out: list[list[float]] = [[] for _ in range(batch)]
    finished = [False] * batch
    hit_eos = [False] * batch
    for step in range(gen.max_new_tokens):
        tokens, logps = pick(out.logits[:, -1, :], gen, generator)
        tok_list, lp_list = tokens.tolist(), logps.tolist()
        for b in range(batch):
            if finished[b]:
                continue
            tokens_out[b].append(tok_list[b])
            logps_out[b].append(lp_list[b])
            if tok_list[b] in eos_ids:
                finished[b] = hit_eos[b] = True
            elif stop_check is not None and stop_check(b, tokens_out[b]):
                finished[b] = True
        if all(finished) or step == gen.max_new_tokens - 1:
            break
        step_input = tokens.masked_fill(torch.tensor(finished, device=device), pad_id)[:, None]
        if is_seq2seq:
            out = model(
                encoder_outputs=encoder_outputs,
                attention_mask=enc_mask,
                decoder_input_ids=step_input,
                use_cache=True,
                **{cache_kw: output_cache(out)},
            )
        else:
            mask = torch.cat([mask, mask.new_ones((batch, 1))], dim=-1)
            out = model(
                input_ids=step_input,
                attention_mask=mask,
                position_ids=next_pos[:, None],
                use_cache=True,
                **{cache_kw: output_cache(out)},
            )
            next_pos = next_pos + 1
    return [
        RawGeneration(t, lp, e) for t, lp, e in zip(tokens_out, logps_out, hit_eos, strict=True)
    ]


__all__ = [
    "RawGeneration",
    "accepts",
    "cache_keyword",
    "left_pad",
    "pick",
    "position_ids",
    "right_pad",
    "sample_batch",
    "top_p_filter",
]
