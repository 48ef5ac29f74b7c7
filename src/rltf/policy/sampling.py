"""The sampling loop: batched, KV-cached, for causal and encoder-decoder models alike.

A short explicit loop instead of ``model.generate`` because RL needs three things ``generate``
does not give directly: (1) the log-prob of each sampled token under the distribution it was drawn
from, ``log_softmax(logits / temperature)`` (top-p only truncates the support and is not applied,
as in TRL and veRL), which is what the learner differentiates (``token_logprobs(...,
temperature=T)`` recomputes exactly this, and a test checks the two agree); (2) a private ``torch.Generator`` so a seed
reproduces samples without touching global RNG state; (3) per-row stopping on EOS and stop strings.

Speed (issue 13; docs/generation.md has the measurements): top-p without a vocabulary sort
(:class:`Nucleus`), sampling by inverse CDF instead of ``torch.multinomial`` (:func:`draw`), one
fused log-softmax per step for both the draw and the log-prob, stop strings detected on new text
only (:mod:`rltf.policy.stops`), and every per-token record kept in preallocated tensors. The
dtype the loop runs in is the model's: ``Policy.generate`` hands it a bf16 copy when asked
(:mod:`rltf.policy.precision`).

Layout shared with :mod:`rltf.policy.logprobs` (so both compute the same function): causal prompts
are left-padded, ``position_ids = cumsum(attention_mask) - 1`` (0 on padding, as transformers 5's
``generate`` does); encoder inputs are right-padded and the decoder starts from
``decoder_start_token_id``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

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


TOP_P_CANDIDATES = 64  # first prefilter width; grows when a nucleus does not fit (see Nucleus)
WIDEN = 8  # factor by which the prefilter widens for rows whose nucleus did not fit


def top_k_filter(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """Keep the ``top_k`` most likely tokens (and any tied with the k-th), as transformers'
    TopKLogitsWarper does; ``top_k <= 0`` keeps everything."""
    if top_k <= 0 or top_k >= logits.shape[-1]:
        return logits
    kth = logits.topk(top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def uniforms(rows: int, generator: torch.Generator | None) -> torch.Tensor:
    """One float64 uniform per row, shape (rows, 1), on the CPU (the generator's device)."""
    return torch.rand((rows, 1), generator=generator, dtype=torch.float64)


def draw(
    weights: torch.Tensor, generator: torch.Generator | None, u: torch.Tensor | None = None
) -> torch.Tensor:
    """One index per row with probability proportional to ``weights`` (>= 0, rows not all 0),
    by inverse CDF: one uniform per row (``u``, else drawn now) and a binary search.
    ``torch.multinomial`` does the same job but took 200 ms for 64 x 49k on this CPU (vs < 10 ms
    for a softmax of that size)."""
    cdf = weights.double().cumsum(-1)
    u = uniforms(len(weights), generator) if u is None else u
    u = u.to(weights.device) * cdf[:, -1:]
    index = torch.searchsorted(cdf, u, right=True).squeeze(-1)
    return index.clamp_(max=weights.shape[-1] - 1)


class Nucleus:
    """Exact top-p (and top-k) sampling without sorting the vocabulary.

    ``torch.topk`` of the ``k`` most likely tokens costs O(V) per row instead of the full sort's
    O(V log V) (the sort took 75 ms a step for 64 x 49k in the issue's measurement, 400 ms under
    load here). A row's nucleus lies inside its top-k candidates exactly when their probability
    mass reaches ``top_p``; those rows sample among the candidates with the rule of
    :func:`top_p_filter` written in descending order (a token is kept while the mass strictly
    before it is < top_p; the most likely token always is). Rows whose nucleus is wider are redone
    with ``WIDEN`` times more candidates, up to the whole vocabulary (a full sort), and the width
    stays raised for the next steps so that a flat distribution (a random tiny model) does not
    pay twice per step. Same distribution as the full sort up to float rounding at the boundary
    and the order among tied logits; the random draws differ from the previous implementation's
    (fewer candidates), so a seed reproduces samples of this implementation.
    """

    def __init__(self, top_p: float, top_k: int = 0, candidates: int = TOP_P_CANDIDATES) -> None:
        self.top_p = top_p
        self.top_k = top_k
        self.k = top_k if top_k > 0 else candidates
        self.fallbacks = 0  # rows that needed a wider prefilter (for benchmarks and tests)

    def sample(
        self, logp: torch.Tensor, generator: torch.Generator | None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Token ids drawn from ``exp(logp)`` (``logp``: log-softmax rows) truncated to the top-k,
        then to the nucleus; ``u``: the rows' uniforms, if drawn already."""
        vocab = logp.shape[-1]
        if self.top_p >= 1.0 and not 0 < self.top_k < vocab:  # no truncation at all
            return draw(logp.exp(), generator, u)
        return self._sample(logp, generator, min(self.k, vocab), u)

    def _sample(
        self,
        logp: torch.Tensor,
        generator: torch.Generator | None,
        k: int,
        u: torch.Tensor | None = None,
    ) -> torch.Tensor:
        vocab = logp.shape[-1]
        values, index = logp.topk(k, dim=-1)  # sorted, descending
        probs = values.exp()  # probabilities in the full row
        bounded = 0 < self.top_k <= k  # the top-k cut bounds the support: renormalise over it
        if bounded:
            probs = probs / probs.sum(-1, keepdim=True)
        cum = probs.cumsum(-1)
        keep = (cum - probs) < self.top_p
        keep[:, 0] = True
        tokens = index.gather(-1, draw(probs * keep, generator, u)[:, None]).squeeze(-1)
        if bounded or k == vocab:
            return tokens
        wide = (cum[:, -1] < self.top_p).nonzero().squeeze(-1)
        if len(wide):
            self.fallbacks += len(wide)
            self.k = min(WIDEN * k, vocab)
            tokens[wide] = self._sample(logp[wide], generator, self.k)
        return tokens


def pick(
    logits: torch.Tensor,
    gen: GenerationConfig,
    generator: torch.Generator | None,
    nucleus: Nucleus | None = None,
    u: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Choose the next token of each row; return (token ids, their log-probs under the sampling
    distribution ``softmax(logits / T)``, computed in float32; T = 1 for greedy decoding).

    One ``log_softmax`` of the row serves both (it is a fused kernel; ``torch.logsumexp`` was
    20-50x slower on this CPU)."""
    scaled = logits.float()
    if gen.do_sample and gen.temperature != 1.0:
        scaled = scaled / gen.temperature
    logp = torch.log_softmax(scaled, dim=-1)
    if gen.do_sample:
        tokens = (nucleus or Nucleus(gen.top_p, gen.top_k)).sample(logp, generator, u)
    else:
        tokens = scaled.argmax(-1)
    return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)


def cache_keyword(model: torch.nn.Module) -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache``; models written against older
    versions (and remote code) still take ``past_key_values``."""
    return "cache" if accepts(model, "cache") else "past_key_values"


def output_cache(out: object) -> object:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else getattr(out, "past_key_values", None)


class StopDetector(Protocol):
    """Per-row stop-string detection fed with each step's sampled ids (see
    :class:`rltf.policy.stops.IncrementalStops`)."""

    def feed(self, tokens: list[int], active: list[bool]) -> list[int]:
        """Append ``tokens[b]`` to every ``active`` row; return the rows that produced a stop."""
        ...


@dataclass
class _Prefill:
    out: Any  # the model output holding the first logits and the cache
    mask: torch.Tensor  # causal: attention mask so far; seq2seq: encoder mask
    next_pos: torch.Tensor | None  # causal: position of the next token
    encoder_outputs: Any = None


SHARE_PROMPT_PREFILL = True  # run a prompt shared by several rows once (benchmarks turn it off)


class _RowSelectable(Protocol):
    def batch_select_indices(self, indices: torch.Tensor) -> None: ...


def selectable(cache: object) -> TypeGuard[_RowSelectable]:
    """Whether rows of ``cache`` can be selected or copied (a transformers ``Cache``)."""
    return hasattr(cache, "batch_select_indices")


def _prefill(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    *,
    is_seq2seq: bool,
    pad_id: int,
    decoder_start_id: int | None,
) -> _Prefill:
    """The first forward pass: the whole prompt (causal) or the encoder + decoder start."""
    device = next(model.parameters()).device
    if is_seq2seq:
        if decoder_start_id is None:
            raise ValueError("an encoder-decoder model needs decoder_start_token_id in its config")
        enc_ids, enc_mask = right_pad(prompts, pad_id, device)
        encoder_outputs = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask)  # type: ignore[operator]
        start = torch.full((len(prompts), 1), decoder_start_id, dtype=torch.long, device=device)
        out = model(
            encoder_outputs=encoder_outputs,
            attention_mask=enc_mask,
            decoder_input_ids=start,
            use_cache=True,
        )
        return _Prefill(out, enc_mask, None, encoder_outputs)
    if any(len(p) == 0 for p in prompts):
        raise ValueError("a causal model needs at least one prompt token (e.g. BOS)")
    # The k samples of a problem share its prompt: run each distinct prompt once and give every
    # row a copy of its cache (one index copy, as when finished rows are dropped).
    first: dict[tuple[int, ...], int] = {}
    which = [first.setdefault(tuple(p), len(first)) for p in prompts]
    if not SHARE_PROMPT_PREFILL or len(first) == len(prompts):
        return _prefill_causal(model, prompts, pad_id, device)
    state = _prefill_causal(model, [list(p) for p in first], pad_id, device)
    cache = output_cache(state.out)
    if not selectable(cache):  # a legacy tuple cache: prefill every row
        return _prefill_causal(model, prompts, pad_id, device)
    rows = torch.tensor(which, device=device)
    cache.batch_select_indices(rows)
    state.out.logits = state.out.logits[rows]
    assert state.next_pos is not None
    return _Prefill(state.out, state.mask[rows], state.next_pos[rows])


def _prefill_causal(
    model: torch.nn.Module, prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device
) -> _Prefill:
    ids, mask = left_pad(prompts, pad_id, device)
    pos = position_ids(mask)
    extra = {"logits_to_keep": 1} if accepts(model, "logits_to_keep") else {}
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **extra)
    return _Prefill(out, mask, pos[:, -1] + 1)


def _decode_step(
    model: torch.nn.Module, state: _Prefill, step_input: torch.Tensor, cache_kw: str
) -> None:
    """One cached forward step with ``step_input`` (B, 1); updates ``state`` in place."""
    cache = {cache_kw: output_cache(state.out)}
    if state.encoder_outputs is not None:
        state.out = model(
            encoder_outputs=state.encoder_outputs,
            attention_mask=state.mask,
            decoder_input_ids=step_input,
            use_cache=True,
            **cache,
        )
        return
    assert state.next_pos is not None
    state.mask = torch.cat([state.mask, state.mask.new_ones((len(step_input), 1))], dim=-1)
    state.out = model(
        input_ids=step_input,
        attention_mask=state.mask,
        position_ids=state.next_pos[:, None],
        use_cache=True,
        **cache,
    )
    state.next_pos = state.next_pos + 1


DROP_FINISHED_SHARE = 0.25  # compact the batch once this share of its rows has finished


def _drop_finished(state: _Prefill, rows: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
    """Remove finished rows from the batch (cache, mask, positions) once they are a quarter of
    it: a decode step costs about 30 ms + 2 ms per row for SmolLM2 at bf16 here, so rows that hit
    EOS early should stop paying for the longest one. One index copy of the KV cache, about the
    cost of the concatenation every step does anyway. Causal models with a transformers
    ``Cache`` only (encoder-decoder and legacy tuple caches keep their rows)."""
    done = finished[rows]
    n_done = int(done.sum())
    cache = output_cache(state.out)
    if (
        n_done == 0
        or n_done < DROP_FINISHED_SHARE * len(rows)
        or state.encoder_outputs is not None
        or not selectable(cache)
    ):
        return rows
    keep = (~done).nonzero().squeeze(-1)
    cache.batch_select_indices(keep)
    state.mask = state.mask[keep]
    assert state.next_pos is not None
    state.next_pos = state.next_pos[keep]
    return rows[keep]


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
    stops: StopDetector | None = None,
) -> list[RawGeneration]:
    """Generate one continuation per prompt (at most ``gen.max_new_tokens`` tokens each).

    Per step the only host work is one ``all finished`` check, plus one ``tolist`` of the step's
    ids when stop strings are watched: ids, log-probs, EOS and lengths stay in preallocated
    tensors and are converted once at the end."""
    device = next(model.parameters()).device
    batch, steps = len(prompts), gen.max_new_tokens
    cache_kw = cache_keyword(model)
    state = _prefill(
        model, prompts, is_seq2seq=is_seq2seq, pad_id=pad_id, decoder_start_id=decoder_start_id
    )
    eos = torch.tensor(sorted(eos_ids), dtype=torch.long, device=device)
    ids = torch.full((batch, steps), pad_id, dtype=torch.long, device=device)
    logps = torch.zeros((batch, steps), dtype=torch.float32, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    hit_eos = torch.zeros(batch, dtype=torch.bool, device=device)
    nucleus = Nucleus(gen.top_p, gen.top_k) if gen.do_sample else None
    rows = torch.arange(batch, device=device)  # the original row of each row still in the batch
    for step in range(steps):
        # uniforms for the whole batch, used by the rows still in it: a row's draws do not depend
        # on which other rows finished (and were dropped) before it
        u = uniforms(batch, generator)[rows.cpu()] if gen.do_sample else None
        tokens, lp = pick(state.out.logits[:, -1, :], gen, generator, nucleus, u)
        done = finished[rows]
        ids[rows, step] = tokens.masked_fill(done, pad_id)
        logps[rows, step] = lp.masked_fill(done, 0.0)
        lengths[rows] += (~done).long()
        ended = ~done & torch.isin(tokens, eos)
        hit_eos[rows] |= ended
        finished[rows] |= ended
        if stops is not None:
            active = torch.zeros(batch, dtype=torch.bool, device=device)
            active[rows] = ~done
            stopped = stops.feed(ids[:, step].tolist(), active.tolist())
            if stopped:
                finished[torch.tensor(stopped, device=device)] = True
        if step == steps - 1 or bool(finished.all()):
            break
        rows = _drop_finished(state, rows, finished)
        step_input = ids[rows, step].masked_fill(finished[rows], pad_id)
        _decode_step(model, state, step_input[:, None], cache_kw)
    return [
        RawGeneration(row[:n], lp_row[:n], e)
        for row, lp_row, n, e in zip(
            ids.tolist(), logps.tolist(), lengths.tolist(), hit_eos.tolist(), strict=True
        )
    ]


__all__ = [
    "TOP_P_CANDIDATES",
    "Nucleus",
    "RawGeneration",
    "StopDetector",
    "accepts",
    "cache_keyword",
    "draw",
    "left_pad",
    "pick",
    "position_ids",
    "right_pad",
    "sample_batch",
    "top_k_filter",
    "top_p_filter",
    "uniforms",
]
