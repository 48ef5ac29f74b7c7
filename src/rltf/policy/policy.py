"""The Policy: one Hugging Face model + tokenizer behind the interface training and evaluation use.

Causal (GPT-2, CodeGen, Llama, Qwen, SmolLM2) and encoder-decoder (T5, CodeT5) models go through
the same code; only the tensor layout differs (see :mod:`rltf.policy.sampling`).

Decisions that the rest of rltf relies on:

* ``Sample.logprobs[i]`` is log p_T(token_i), the log-prob under the distribution the token was
  drawn from, ``softmax(logits / T)`` at the sampling temperature T (T = 1 for greedy; top-p
  truncation is not applied, as in TRL and veRL), i.e. exactly what
  :meth:`Policy.token_logprobs` returns with ``temperature=T`` for the same weights. The learner
  differentiates that same p_T, and these values are its importance-ratio denominators.
* ``token_ids`` are the sampled ids. An EOS token, when sampled, is kept (learning when to stop is
  part of the policy) and has an empty span at the end of ``text``.
* ``text``, ``offsets`` and stop strings follow :mod:`rltf.policy.text`. ``truncated`` is True only
  when ``max_new_tokens`` were generated without EOS and without a stop string.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch

from rltf.policy import lora as lora_mod
from rltf.policy.config import GenerationConfig
from rltf.policy.logprobs import causal_token_logprobs, seq2seq_token_logprobs
from rltf.policy.precision import GenerationModel, learner_autocast, resolve_compute_dtype
from rltf.policy.sampling import RawGeneration, sample_batch
from rltf.policy.stops import IncrementalStops
from rltf.policy.text import cut_tokens, fenced_code_span, find_stop, token_offsets
from rltf.policy.weights import full_tensor, load_state_file, read_state_version
from rltf.records import Sample

POLICY_META = "rltf_policy.json"


class PromptLike(Protocol):
    """What generation reads from ``rltf.tasks.prompts.Prompt`` (duck-typed: no import cycle)."""

    @property
    def text(self) -> str: ...
    @property
    def program_prefix(self) -> str: ...
    @property
    def stop(self) -> tuple[str, ...]: ...
    @property
    def extract_code(self) -> bool: ...


class Policy:
    """A model and its tokenizer, plus the weight ``version`` stamped on every Sample."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, version: int = 0) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.version = version
        config = model.config
        self.is_seq2seq: bool = bool(getattr(config, "is_encoder_decoder", False))
        self.eos_ids = _eos_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        self.pad_id: int = int(pad if pad is not None else min(self.eos_ids, default=0))
        start = getattr(config, "decoder_start_token_id", None)
        if start is None:
            start = getattr(
                getattr(model, "generation_config", None), "decoder_start_token_id", None
            )
        self.decoder_start_id: int | None = start
        if self.is_seq2seq and start is None:
            raise ValueError("encoder-decoder model without decoder_start_token_id in its config")
        # bf16 autocast for token_logprobs (None: off); set from PolicyConfig.learner_dtype.
        self.learner_dtype: torch.dtype | None = None
        self._generation_model = GenerationModel()

    # ------------------------------------------------------------------ properties

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def is_lora(self) -> bool:
        return lora_mod.is_lora(self.model)

    # ------------------------------------------------------------------ generation

    def encode_prompt(self, prompt: PromptLike, max_tokens: int | None = None) -> list[int]:
        """Token ids the model is conditioned on: ``prompt.text`` with the tokenizer's special
        tokens (unless the text already starts with BOS, e.g. a chat template), keeping the last
        ``max_tokens``. A causal model always gets at least one token (BOS or EOS)."""
        text = prompt.text
        bos = self.tokenizer.bos_token
        add_special = not (bos and text.startswith(bos))
        ids: list[int] = list(self.tokenizer(text, add_special_tokens=add_special)["input_ids"])
        if not ids and not self.is_seq2seq:
            first = self.tokenizer.bos_token_id
            ids = [int(first if first is not None else min(self.eos_ids, default=self.pad_id))]
        if max_tokens is not None and len(ids) > max_tokens:
            ids = ids[-max_tokens:]
        return ids

    def generate(
        self,
        prompts: Sequence[PromptLike],
        problem_ids: Sequence[str],
        gen: GenerationConfig,
        n: int = 1,
    ) -> list[Sample]:
        """``n`` samples per prompt, grouped by prompt (``sample_index`` 0..n-1), in batches of
        ``gen.batch_size`` sequences. Stop strings: ``gen.stop`` + ``prompt.stop``."""
        gen.validate()
        if len(prompts) != len(problem_ids):
            raise ValueError(f"generate: {len(prompts)} prompts but {len(problem_ids)} problem ids")
        if n < 1:
            raise ValueError(f"generate: n must be >= 1, got {n}")
        encoded = [self.encode_prompt(p, gen.max_prompt_tokens) for p in prompts]
        self._check_length(encoded, problem_ids, gen)
        stops = [tuple(dict.fromkeys((*gen.stop, *p.stop))) for p in prompts]
        generator = None
        if gen.seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(gen.seed)
        model = self.generation_model(gen)
        samples: dict[tuple[int, int], Sample] = {}
        was_training = self.model.training
        self.model.eval()
        try:
            for chunk in _chunks(_jobs_by_length(encoded, n), gen.batch_size):
                rows = [stops[i] for i, _ in chunk]
                raws = sample_batch(
                    model,
                    [encoded[i] for i, _ in chunk],
                    gen,
                    is_seq2seq=self.is_seq2seq,
                    pad_id=self.pad_id,
                    eos_ids=self.eos_ids,
                    decoder_start_id=self.decoder_start_id,
                    generator=generator,
                    stops=IncrementalStops(self.tokenizer, rows) if any(rows) else None,
                )
                for (i, k), raw in zip(chunk, raws, strict=True):
                    samples[i, k] = self._to_sample(
                        raw, prompts[i], problem_ids[i], encoded[i], stops[i], gen, k
                    )
        finally:
            self.model.train(was_training)
        return [samples[i, k] for i in range(len(prompts)) for k in range(n)]

    def generation_model(self, gen: GenerationConfig) -> torch.nn.Module:
        """The module sampling runs on: ``self.model``, or its cached copy in ``gen.dtype``
        (see :mod:`rltf.policy.precision`)."""
        dtype = resolve_compute_dtype(gen.dtype, self.device)
        return self._generation_model.get(self.model, dtype)

    def _check_length(
        self, encoded: list[list[int]], problem_ids: Sequence[str], gen: GenerationConfig
    ) -> None:
        """A causal model cannot attend past its context window (GPT-2's learned positions would
        fail deep inside torch): say which problem and what to change instead."""
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if self.is_seq2seq or not isinstance(limit, int):
            return
        for ids, pid in zip(encoded, problem_ids, strict=True):
            if len(ids) + gen.max_new_tokens > limit:
                raise ValueError(
                    f"problem {pid!r}: {len(ids)} prompt tokens + max_new_tokens="
                    f"{gen.max_new_tokens} exceed the model's context of {limit} tokens; "
                    "set generation max_prompt_tokens (keeps the end of the prompt)"
                )

    def _to_sample(
        self,
        raw: RawGeneration,
        prompt: PromptLike,
        problem_id: str,
        prompt_ids: list[int],
        stops: tuple[str, ...],
        gen: GenerationConfig,
        index: int,
    ) -> Sample:
        ids, logprobs = raw.token_ids, raw.logprobs
        text, offsets = token_offsets(self.tokenizer, ids)
        cut = find_stop(text, stops)
        if cut is not None:
            offsets = cut_tokens(offsets, cut)
            ids, logprobs, text = ids[: len(offsets)], logprobs[: len(offsets)], text[:cut]
            truncated = False
        else:
            truncated = not raw.hit_eos and len(ids) >= gen.max_new_tokens
        code_start, code_end = fenced_code_span(text) if prompt.extract_code else (0, None)
        return Sample(
            problem_id=problem_id,
            prompt_ids=tuple(prompt_ids),
            token_ids=tuple(ids),
            text=text,
            offsets=tuple(offsets),
            logprobs=tuple(logprobs),
            truncated=truncated,
            policy_version=self.version,
            sample_index=index,
            greedy=not gen.do_sample,
            program_prefix=prompt.program_prefix,
            code_start=code_start,
            code_end=code_end,
        )

    # ------------------------------------------------------------------ learner

    def token_logprobs(
        self,
        prompt_ids: Sequence[Sequence[int]],
        token_ids: Sequence[Sequence[int]],
        temperature: float = 1.0,
    ) -> list[torch.Tensor]:
        """Differentiable log p_T(token_t | prompt, tokens_<t) with p_T = softmax(logits / T),
        one 1-D tensor per sequence (see :mod:`rltf.policy.logprobs`). Equal to generation-time
        ``Sample.logprobs`` for the same weights in eval mode when T is the sampling
        temperature; SL uses T = 1. With ``learner_dtype`` bf16 the forward runs under autocast
        (the backward of a loss built from these follows it; log-probs are float32)."""
        with learner_autocast(self.learner_dtype, self.device):
            if self.is_seq2seq:
                assert self.decoder_start_id is not None
                return seq2seq_token_logprobs(
                    self.model, prompt_ids, token_ids, self.pad_id, self.decoder_start_id,
                    temperature,
                )  # fmt: skip
            return causal_token_logprobs(
                self.model, prompt_ids, token_ids, self.pad_id, temperature
            )

    # ------------------------------------------------------------------ weights

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The parameters that training changes (all of them, or only the LoRA adapters): what a
        learner needs to send an actor. Whole tensors: with FSDP every rank calls this together."""
        return {
            n: full_tensor(p.detach()) for n, p in self.model.named_parameters() if p.requires_grad
        }

    @torch.no_grad()
    def load_weights(
        self, state: Mapping[str, torch.Tensor] | Policy, version: int, *, partial: bool = False
    ) -> None:
        """Refresh this (actor) policy from a learner's weights and take its ``version``.

        ``state``: another Policy of the same architecture, or a state dict (e.g. from
        :func:`rltf.policy.load_state_file`). ``partial=True`` accepts a subset of the parameters
        (e.g. :meth:`trainable_state`); unknown names are always an error."""
        sd = state.model.state_dict() if isinstance(state, Policy) else dict(state)
        result = self.model.load_state_dict(sd, strict=False)
        if result.unexpected_keys:
            raise KeyError(f"load_weights: unknown parameters {result.unexpected_keys[:5]}")
        if result.missing_keys and not partial:
            raise KeyError(f"load_weights: missing parameters {result.missing_keys[:5]}")
        self.version = int(version)

    def refresh_from_file(self, path: str | Path) -> bool:
        """Load the snapshot at ``path`` if its version differs from ours; True if loaded."""
        version = read_state_version(path)
        if version is None or version == self.version:
            return False
        state, version = load_state_file(path, self.device)
        self.load_weights(state, version, partial=True)
        return True

    def merge_lora(self) -> None:
        """Fold LoRA adapters into the base weights in place (for evaluation)."""
        self.model = lora_mod.merge(self.model)

    def save(self, path: str | Path) -> Path:
        """Save as a Hugging Face directory (only the adapters when LoRA) with the tokenizer."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)  # type: ignore[operator]
        self.tokenizer.save_pretrained(path)
        meta = {"version": self.version, "lora": self.is_lora}
        (path / POLICY_META).write_text(json.dumps(meta) + "\n", encoding="utf-8")
        return path


def _eos_ids(model: torch.nn.Module, tokenizer: Any) -> frozenset[int]:
    """Every id that ends a generation: the tokenizer's EOS and the model's (generation) config
    EOS, which for chat models is often a different token (e.g. <|im_end|> vs <|endoftext|>)."""
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return frozenset(ids)


def _jobs_by_length(encoded: Sequence[Sequence[int]], n: int) -> list[tuple[int, int]]:
    """(prompt index, sample index) jobs ordered by prompt length (stable), so a batch holds
    prompts of similar length: less left padding, and short prompts do not wait on long ones.
    ``generate`` restores the (prompt, sample) order afterwards."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    return [(i, k) for i in order for k in range(n)]


def _chunks(items: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["POLICY_META", "Policy", "PromptLike"]
