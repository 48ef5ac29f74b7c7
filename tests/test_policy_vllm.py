"""The vLLM backend's plumbing against a fake engine (vLLM itself needs a GPU and is not
installed here): request building, weight push after a sync, LoRA requests, Samples built by
rltf's rules, and behaviour log-probs taken from the engine or recomputed by the learner."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from rltf.policy import GenerationConfig, LoraSettings, Policy, build_tiny_model, load_policy
from rltf.policy.lora import attach_lora
from rltf.policy.vllm_backend import VLLMBackend
from rltf.tasks.prompts import Prompt

CORPUS = (Path(__file__).parent / "fixtures" / "policy" / "corpus.py.txt").read_text("utf-8")


@dataclass
class Params:  # stands for vllm.SamplingParams: records its keywords
    kw: dict[str, Any]


def params(**kw: Any) -> Params:
    return Params(kw)


@dataclass
class FakeLLM:
    """Answers each request with fixed ids; log-probs as vLLM shapes them (id -> Logprob)."""

    policy: Policy
    answer: list[int]
    calls: list[tuple[list[Any], list[Params], dict[str, Any]]] = field(default_factory=list)
    loaded: list[tuple[str, torch.Tensor]] = field(default_factory=list)
    resets: int = 0

    def __post_init__(self) -> None:
        model = SimpleNamespace(load_weights=lambda items: self.loaded.extend(items))
        runner = SimpleNamespace(model=model)
        self.llm_engine = SimpleNamespace(
            model_executor=SimpleNamespace(driver_worker=SimpleNamespace(model_runner=runner))
        )

    def reset_prefix_cache(self) -> None:
        self.resets += 1

    def generate(self, requests, sampling_params, use_tqdm=False, **kw):
        self.calls.append((requests, sampling_params, kw))
        outs = []
        for req in requests:
            ids = self.answer
            lps = self.policy.token_logprobs([req["prompt_token_ids"]], [ids])[0].tolist()
            steps = [{t: SimpleNamespace(logprob=lp)} for t, lp in zip(ids, lps, strict=True)]
            outs.append(SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, logprobs=steps)]))
        return outs


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Policy:
    path = build_tiny_model(
        tmp_path_factory.mktemp("gpt2"), CORPUS.split("\n\n"), arch="gpt2",
        vocab_size=400, n_layer=2, n_embd=64, seed=0,
    )  # fmt: skip
    return load_policy(str(path))


def backend(policy: Policy, answer: str, **kw: Any) -> tuple[VLLMBackend, FakeLLM]:
    ids = policy.tokenizer(answer, add_special_tokens=False)["input_ids"]
    llm = FakeLLM(policy, [*ids, policy.tokenizer.eos_token_id])
    lora = lambda name, lid, path: SimpleNamespace(name=name, id=lid, path=path)  # noqa: E731
    return VLLMBackend(llm, policy, sampling_params=params, lora_request=lora, **kw), llm


def test_requests_are_token_ids_with_one_seeded_params_per_sample(tiny):
    be, llm = backend(tiny, "return a + b")
    prompts = [Prompt("def add(a, b):\n", stop=("\nprint",)), Prompt("x = 1")]
    gen = GenerationConfig(temperature=0.7, top_p=1.0, top_k=5, max_new_tokens=9, seed=3,
                           stop=("\n\n",))  # fmt: skip
    samples = be.generate(prompts, ["add", "x"], gen, n=2)
    requests, sps, _ = llm.calls[0]
    assert [r["prompt_token_ids"] for r in requests] == [
        tiny.encode_prompt(p) for p in prompts for _ in "ab"
    ]
    assert [p.kw["seed"] for p in sps] == [3, 4, 5, 6]
    first = sps[0].kw
    assert first["temperature"] == 0.7 and first["top_p"] == 1.0 and first["top_k"] == 5
    assert first["max_tokens"] == 9 and first["logprobs"] == 0
    assert first["stop"] == ["\n\n", "\nprint"] and sps[2].kw["stop"] == ["\n\n"]
    assert [(s.problem_id, s.sample_index) for s in samples] == [
        ("add", 0),
        ("add", 1),
        ("x", 0),
        ("x", 1),
    ]
    s = samples[0]
    assert s.text == "return a + b" and not s.truncated and s.token_ids == tuple(llm.answer)
    greedy = be.request_params(GenerationConfig(do_sample=False), (), None).kw
    assert greedy["temperature"] == 0.0 and greedy["top_k"] == -1


def test_behaviour_logprobs_from_the_engine_or_recomputed(tiny):
    be, llm = backend(tiny, "return 1")
    prompt = [Prompt("def f():\n")]
    plain = GenerationConfig(temperature=1.0, top_p=1.0, seed=0)
    (engine,) = be.generate(prompt, ["f"], plain)
    # the fake engine returns T = 1 log-probs; top_p = 1: taken as they are
    expected = tiny.token_logprobs([engine.prompt_ids], [engine.token_ids])[0]
    torch.testing.assert_close(torch.tensor(engine.logprobs), expected.detach())
    nucleus = GenerationConfig(temperature=0.5, top_p=0.9, seed=0)
    (recomputed,) = be.generate(prompt, ["f"], nucleus)  # truncated: the learner recomputes at T
    at_t = tiny.token_logprobs([engine.prompt_ids], [engine.token_ids], temperature=0.5)[0]
    torch.testing.assert_close(torch.tensor(recomputed.logprobs), at_t.detach())
    strict, _ = backend(tiny, "return 1", behaviour_logprobs="engine")
    with pytest.raises(ValueError, match="top_p = 1 and top_k = 0"):
        strict.generate(prompt, ["f"], nucleus)
    with pytest.raises(ValueError, match="behaviour_logprobs"):
        VLLMBackend(llm, tiny, behaviour_logprobs="old", sampling_params=params,  # type: ignore[arg-type]
                    lora_request=params)  # fmt: skip


def test_weight_push_reaches_the_engine_and_versions_the_samples(tiny):
    be, llm = backend(tiny, "pass")
    state = tiny.trainable_state()
    be.load_weights(state, version=4)
    assert [n for n, _ in llm.loaded] == list(state) and llm.resets == 1
    assert all(t is not None and not t.requires_grad for _, t in llm.loaded)
    (s,) = be.generate([Prompt("x")], ["x"], GenerationConfig(top_p=1.0, seed=0))
    assert s.policy_version == 4 and tiny.version == 0  # the learner's own version is untouched


def test_lora_policies_send_a_new_adapter_request_per_version(tiny):
    base = copy.deepcopy(tiny.model)  # peft injects adapters in place: keep the fixture clean
    lora_policy = Policy(attach_lora(base, LoraSettings(r=2)), tiny.tokenizer)
    be, llm = backend(lora_policy, "pass")
    be.load_weights(lora_policy.trainable_state(), version=1)
    first = be.lora
    assert llm.loaded == [] and first.id == 2
    assert (Path(first.path) / "adapter_config.json").is_file()
    be.load_weights(lora_policy.trainable_state(), version=2)
    assert be.lora.id == 3 and be.lora.path != first.path
    be.generate([Prompt("x")], ["x"], GenerationConfig(top_p=1.0, seed=0))
    assert llm.calls[-1][2] == {"lora_request": be.lora}
