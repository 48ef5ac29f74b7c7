"""A vLLM rollout backend (optional extra ``rltf[vllm]``; GPU only): the engine TRL, veRL and
OpenRLHF sample with, behind the same ``generate`` interface as :class:`rltf.policy.Policy`.

NOT VERIFIED ON A GPU: no accelerator was available while this was written. What is tested here
(tests/test_policy_vllm.py) is the plumbing against a fake engine that records calls: request
building, the weight push after each sync, LoRA requests, and turning vLLM outputs into Samples.

How it follows the peers:

* requests are token ids (``{"prompt_token_ids": ids}``, vLLM's ``TokensPrompt``), encoded by the
  Policy exactly as its own sampler would; ``SamplingParams(n=1, temperature, top_p, top_k,
  max_tokens, stop, seed, logprobs=0)``, one request per (prompt, sample) with seed
  ``gen.seed + job`` so a seed reproduces a run;
* the Sample is built by the Policy itself (``Policy._to_sample``) from vLLM's token ids: text,
  offsets, stop-string trimming and ``truncated`` follow rltf's conventions, not vLLM's text;
* weights: full fine-tuning pushes the learner's tensors into the engine's model with
  ``model.load_weights(iterable of (name, tensor))`` then resets the prefix cache (what TRL's
  colocated vLLM does, ``llm.llm_engine.model_executor.driver_worker.model_runner.model``); LoRA
  saves the adapters to a fresh directory and sends a new ``LoRARequest`` per version (vLLM
  caches adapters by id, so a new version needs a new id), as OpenRLHF does;
* behaviour log-probs: rltf's contract is log softmax(logits / T)[token] *without* the top-p/top-k
  truncation. vLLM's ``logprobs_mode="processed_logprobs"`` returns exactly that when no
  truncation is applied (top_p = 1, top_k = 0); with truncation vLLM returns the truncated,
  renormalised distribution's, so the backend then recomputes them with the learner's
  ``Policy.token_logprobs`` (veRL recomputes "old log-probs" with the actor for the same reason).
  ``behaviour_logprobs="engine"`` refuses truncation instead of silently changing the contract.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from rltf.policy.config import GenerationConfig
from rltf.policy.policy import Policy, PromptLike
from rltf.policy.sampling import RawGeneration
from rltf.records import Sample

LogprobSource = Literal["auto", "engine", "recompute"]


def _vllm_classes() -> tuple[Callable[..., Any], Callable[..., Any]]:
    try:
        from vllm import SamplingParams
        from vllm.lora.request import LoRARequest
    except ImportError as exc:  # pragma: no cover - vllm is not installable on these CPUs
        raise ImportError("the vLLM backend needs `pip install rltf[vllm]` (GPU)") from exc
    return SamplingParams, LoRARequest


def engine_model(llm: Any) -> Any:
    """The torch model inside an in-process ``vllm.LLM`` (the path TRL's colocate mode uses)."""
    return llm.llm_engine.model_executor.driver_worker.model_runner.model


class VLLMBackend:
    """Sample with a ``vllm.LLM`` built by the caller (e.g. ``LLM(model=dir, dtype="bfloat16",
    logprobs_mode="processed_logprobs", enable_lora=lora)``); ``policy`` is the learner's Policy
    (tokenizer, prompt encoding, Sample building, recomputed log-probs)."""

    def __init__(
        self,
        llm: Any,
        policy: Policy,
        *,
        behaviour_logprobs: LogprobSource = "auto",
        sampling_params: Callable[..., Any] | None = None,
        lora_request: Callable[..., Any] | None = None,
    ) -> None:
        if behaviour_logprobs not in ("auto", "engine", "recompute"):
            raise ValueError(f"behaviour_logprobs must be auto, engine or recompute, got "
                             f"{behaviour_logprobs!r}")  # fmt: skip
        if sampling_params is None or lora_request is None:
            default_sp, default_lora = _vllm_classes()
            sampling_params = sampling_params or default_sp
            lora_request = lora_request or default_lora
        self.llm = llm
        self.policy = policy
        self.behaviour_logprobs = behaviour_logprobs
        self._sampling_params = sampling_params
        self._lora_request = lora_request
        self.version = policy.version
        self.lora: Any = None  # the LoRARequest of the current adapters (LoRA policies)
        self._lora_dir = tempfile.TemporaryDirectory(prefix="rltf-vllm-lora-")

    # ------------------------------------------------------------------ weights

    @torch.no_grad()
    def load_weights(self, state: Mapping[str, torch.Tensor], version: int) -> None:
        """Push the learner's weights (``Policy.trainable_state()``) and take ``version``."""
        if self.policy.is_lora:
            self._push_lora(version)
        else:
            engine_model(self.llm).load_weights(_engine_names(state.items()))
            reset = getattr(self.llm, "reset_prefix_cache", None)
            if callable(reset):
                reset()  # cached prefixes hold KV of the old weights
        self.version = int(version)

    def _push_lora(self, version: int) -> None:
        """vLLM loads adapters from a directory: save the policy's current adapters there."""
        path = Path(self._lora_dir.name) / f"v{version}"
        self.policy.model.save_pretrained(path)  # type: ignore[operator]
        # ids must be > 0 and new for new weights: vLLM caches adapters by id
        self.lora = self._lora_request(f"rltf-v{version}", version + 1, str(path))

    # ------------------------------------------------------------------ generation

    def request_params(
        self, gen: GenerationConfig, stops: tuple[str, ...], seed: int | None
    ) -> Any:
        """vLLM ``SamplingParams`` for one (prompt, sample) job."""
        greedy = not gen.do_sample
        return self._sampling_params(
            n=1,
            temperature=0.0 if greedy else gen.temperature,
            top_p=1.0 if greedy else gen.top_p,
            top_k=-1 if greedy or gen.top_k <= 0 else gen.top_k,
            max_tokens=gen.max_new_tokens,
            stop=list(stops),
            seed=seed,
            logprobs=0,  # the sampled token's log-prob only
            skip_special_tokens=True,
        )

    def _engine_logprobs(self, gen: GenerationConfig) -> bool:
        truncated = gen.do_sample and (gen.top_p < 1.0 or gen.top_k > 0)
        if self.behaviour_logprobs == "engine" and truncated:
            raise ValueError(
                "behaviour_logprobs='engine' needs top_p = 1 and top_k = 0: with truncation vLLM "
                "returns the truncated distribution's log-probs, not softmax(logits / T)"
            )
        return self.behaviour_logprobs == "engine" or (
            self.behaviour_logprobs == "auto" and not truncated
        )

    def generate(
        self,
        prompts: Sequence[PromptLike],
        problem_ids: Sequence[str],
        gen: GenerationConfig,
        n: int = 1,
    ) -> list[Sample]:
        """Same contract as :meth:`rltf.policy.Policy.generate` (order, fields, log-probs)."""
        gen.validate()
        if len(prompts) != len(problem_ids):
            raise ValueError(f"generate: {len(prompts)} prompts but {len(problem_ids)} problem ids")
        if n < 1:
            raise ValueError(f"generate: n must be >= 1, got {n}")
        pol = self.policy
        encoded = [pol.encode_prompt(p, gen.max_prompt_tokens) for p in prompts]
        stops = [tuple(dict.fromkeys((*gen.stop, *p.stop))) for p in prompts]
        jobs = [(i, k) for i in range(len(prompts)) for k in range(n)]
        requests = [{"prompt_token_ids": encoded[i]} for i, _ in jobs]
        params = [
            self.request_params(gen, stops[i], None if gen.seed is None else gen.seed + j)
            for j, (i, _) in enumerate(jobs)
        ]
        extra = {"lora_request": self.lora} if self.lora is not None else {}
        outputs = self.llm.generate(requests, params, use_tqdm=False, **extra)
        raws = [self._raw(out.outputs[0]) for out in outputs]
        if not self._engine_logprobs(gen):
            raws = self._recompute(raws, [encoded[i] for i, _ in jobs], gen)
        elif any(len(r.logprobs) != len(r.token_ids) for r in raws):
            raise ValueError("vLLM returned no log-probs: the requests ask for logprobs=0")
        # Samples carry the version of the weights the engine holds, not the learner's.
        pol_version, pol.version = pol.version, self.version
        try:
            return [
                pol._to_sample(raw, prompts[i], problem_ids[i], encoded[i], stops[i], gen, k)
                for (i, k), raw in zip(jobs, raws, strict=True)
            ]
        finally:
            pol.version = pol_version

    def _raw(self, completion: Any) -> RawGeneration:
        ids = [int(t) for t in completion.token_ids]
        steps = completion.logprobs or []
        logps = [_sampled_logprob(step, t) for step, t in zip(steps, ids, strict=False)]
        return RawGeneration(ids, logps, bool(ids) and ids[-1] in self.policy.eos_ids)

    def _recompute(
        self, raws: list[RawGeneration], prompts: list[list[int]], gen: GenerationConfig
    ) -> list[RawGeneration]:
        """Behaviour log-probs from the learner's weights (the engine's are the same weights)."""
        temperature = gen.temperature if gen.do_sample else 1.0
        with torch.no_grad():
            lps = self.policy.token_logprobs(prompts, [r.token_ids for r in raws], temperature)
        return [
            RawGeneration(r.token_ids, [float(x) for x in lp], r.hit_eos)
            for r, lp in zip(raws, lps, strict=True)
        ]


def _sampled_logprob(step: Any, token: int) -> float:
    """vLLM returns, per generated token, a dict token id -> Logprob (``.logprob``)."""
    entry = step[token]
    return float(getattr(entry, "logprob", entry))


def _engine_names(items: Iterable[tuple[str, torch.Tensor]]) -> Iterable[tuple[str, torch.Tensor]]:
    """HF parameter names as vLLM's ``load_weights`` expects them (it maps HF checkpoints'
    names itself, fused q/k/v included); tensors are detached."""
    for name, tensor in items:
        yield name, tensor.detach()


__all__ = ["LogprobSource", "VLLMBackend", "engine_model"]
