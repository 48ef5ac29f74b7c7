"""Tiny-model builder, loading, LoRA (attach/save/load/merge), weight refresh with versions
(in process and through snapshot files), and the bundled-model cache logic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from rltf.policy import (
    GenerationConfig,
    LoraSettings,
    PolicyConfig,
    build_tiny_model,
    load_policy,
    load_state_file,
    policy_from_config,
    read_state_version,
    save_state_file,
)
from rltf.policy import pretrained as pretrained_mod
from rltf.tasks.prompts import Prompt

CORPUS = (Path(__file__).parent / "fixtures" / "policy" / "corpus.py.txt").read_text("utf-8")
TEXTS = CORPUS.split("\n\n")
PROMPTS = [Prompt("def add(a, b):\n"), Prompt("print(")]


@pytest.fixture(scope="module", params=["gpt2", "t5"])
def model_dir(request, tmp_path_factory) -> Path:
    return build_tiny_model(
        tmp_path_factory.mktemp(request.param), TEXTS, arch=request.param, vocab_size=400, seed=0
    )


def logprobs_of(policy, text="    return a + b\n"):
    ids = policy.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        return policy.token_logprobs([policy.encode_prompt(PROMPTS[0])], [ids])[0]


def digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.suffix in (".json", ".safetensors"):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- builder, loading


def test_builder_is_deterministic_and_seeded(tmp_path):
    a = build_tiny_model(tmp_path / "a", TEXTS, vocab_size=300, n_layer=1, n_embd=32, seed=0)
    b = build_tiny_model(tmp_path / "b", TEXTS, vocab_size=300, n_layer=1, n_embd=32, seed=0)
    c = build_tiny_model(tmp_path / "c", TEXTS, vocab_size=300, n_layer=1, n_embd=32, seed=1)
    assert digest(a) == digest(b) != digest(c)
    assert (a / "tokenizer.json").read_bytes() == (c / "tokenizer.json").read_bytes()


def test_builder_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="arch"):
        build_tiny_model(tmp_path, TEXTS, arch="bert")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vocab_size"):
        build_tiny_model(tmp_path, TEXTS, vocab_size=100)
    with pytest.raises(ValueError, match="empty"):
        build_tiny_model(tmp_path, [])


def test_tiny_models_load_as_ordinary_hf_models(model_dir):
    from transformers import AutoConfig

    policy = load_policy(str(model_dir))
    config = AutoConfig.from_pretrained(model_dir)
    assert policy.is_seq2seq == config.is_encoder_decoder
    assert policy.model.dtype == torch.float32 and policy.device.type == "cpu"
    assert not policy.model.training and policy.version == 0
    eval_scores = logprobs_of(policy)
    policy.model.train()  # no dropout in tiny models: train-mode log-probs equal generation's
    torch.testing.assert_close(logprobs_of(policy), eval_scores)
    policy.model.eval()
    # byte-level: any text round-trips, including characters never seen in training
    text = "λx: 変数 ✓"
    ids = policy.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert policy.tokenizer.decode(ids) == text


def test_load_options_and_errors(model_dir, tmp_path):
    policy = policy_from_config(PolicyConfig(model=str(model_dir), dtype="bfloat16"))
    assert policy.model.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        load_policy(str(model_dir), dtype="int3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        load_policy(str(tmp_path / "empty"))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            load_policy(str(model_dir), device="cuda")


# ----------------------------------------------------------------------------- LoRA


def test_lora_attach_save_load_merge(model_dir, tmp_path):
    policy = load_policy(str(model_dir), lora=LoraSettings(r=4, alpha=8))
    assert policy.is_lora
    trainable = policy.trainable_state()
    assert trainable and all("lora_" in name for name in trainable)
    base = logprobs_of(policy)  # fresh adapters start as the identity (B = 0)
    torch.testing.assert_close(base, logprobs_of(load_policy(str(model_dir))))
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)
    tuned = logprobs_of(policy)
    assert not torch.allclose(tuned, base, atol=1e-3)

    saved = policy.save(tmp_path / "adapter")
    assert (saved / "adapter_config.json").is_file()
    assert not (saved / "model.safetensors").exists()  # adapters only
    reloaded = load_policy(str(saved))
    assert reloaded.is_lora
    torch.testing.assert_close(logprobs_of(reloaded), tuned, atol=1e-5, rtol=0)
    via_settings = load_policy(str(model_dir), lora=LoraSettings(adapter=str(saved)))
    torch.testing.assert_close(logprobs_of(via_settings), tuned, atol=1e-5, rtol=0)
    # An adapter directory plus LoRA settings (RLTF after a LoRA warm start) continues training
    # the saved adapters; it does not stack fresh, zero-initialised ones on frozen old ones.
    continued = load_policy(str(saved), lora=LoraSettings(r=4, alpha=8))
    torch.testing.assert_close(logprobs_of(continued), tuned, atol=1e-5, rtol=0)
    assert set(continued.trainable_state()) == set(policy.trainable_state())
    with pytest.raises(ValueError, match="itself a LoRA adapter"):
        load_policy(str(saved), lora=LoraSettings(adapter=str(saved)))

    reloaded.merge_lora()
    assert not reloaded.is_lora
    assert not any("lora_" in n for n, _ in reloaded.model.named_parameters())
    torch.testing.assert_close(logprobs_of(reloaded), tuned, atol=1e-4, rtol=0)
    gen = GenerationConfig(max_new_tokens=8, do_sample=False)
    assert [s.token_ids for s in reloaded.generate(PROMPTS, ["a", "b"], gen)] == [
        s.token_ids for s in policy.generate(PROMPTS, ["a", "b"], gen)
    ]


def test_lora_settings_are_checked(model_dir):
    with pytest.raises(ValueError, match="r must"):
        load_policy(str(model_dir), lora=LoraSettings(r=0))
    with pytest.raises(FileNotFoundError, match="adapter"):
        load_policy(str(model_dir), lora=LoraSettings(adapter=str(model_dir)))


# ----------------------------------------------------------------------------- weight versions


def perturb(policy, seed=0):
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(seed)
        for p in policy.model.parameters():
            p.add_(torch.randn_like(p) * 0.2)


def test_refresh_in_process_bumps_version_and_changes_outputs(model_dir):
    actor, learner = load_policy(str(model_dir)), load_policy(str(model_dir))
    gen = GenerationConfig(max_new_tokens=8, seed=0)
    before, scores_before = actor.generate(PROMPTS, ["a", "b"], gen), logprobs_of(actor)
    assert {s.policy_version for s in before} == {0}
    perturb(learner)
    actor.load_weights(learner, version=1)
    after = actor.generate(PROMPTS, ["a", "b"], gen)
    assert actor.version == 1 and {s.policy_version for s in after} == {1}
    assert not torch.allclose(logprobs_of(actor), scores_before, atol=1e-3)
    torch.testing.assert_close(logprobs_of(actor), logprobs_of(learner))
    assert [s.logprobs for s in after] != [s.logprobs for s in before]


def test_refresh_through_an_atomic_snapshot_file(model_dir, tmp_path):
    actor, learner = load_policy(str(model_dir)), load_policy(str(model_dir))
    perturb(learner, seed=1)
    path = tmp_path / "weights" / "policy.safetensors"
    assert read_state_version(path) is None
    assert not actor.refresh_from_file(path)
    save_state_file(path, learner.model.state_dict(), version=3)
    assert [p.name for p in path.parent.iterdir()] == ["policy.safetensors"]  # no temp files left
    assert read_state_version(path) == 3
    assert actor.refresh_from_file(path) and actor.version == 3
    assert not actor.refresh_from_file(path)  # same version: nothing to do
    torch.testing.assert_close(logprobs_of(actor), logprobs_of(learner))
    state, version = load_state_file(path)
    assert version == 3 and set(state) == set(learner.model.state_dict())


def test_partial_refresh_of_lora_adapters(model_dir, tmp_path):
    settings = LoraSettings(r=2)
    actor, learner = (
        load_policy(str(model_dir), lora=settings),
        load_policy(str(model_dir), lora=settings),
    )
    with torch.no_grad():
        for name, p in learner.model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.3)
    path = save_state_file(tmp_path / "lora.safetensors", learner.trainable_state(), version=5)
    with pytest.raises(KeyError, match="missing"):
        actor.load_weights(load_state_file(path)[0], version=5)
    assert actor.refresh_from_file(path) and actor.version == 5
    torch.testing.assert_close(logprobs_of(actor), logprobs_of(learner))
    with pytest.raises(KeyError, match="unknown"):
        actor.load_weights({"no.such.weight": torch.zeros(1)}, version=6, partial=True)


def test_snapshot_file_rejects_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not an rltf weight snapshot"):
        load_state_file(tmp_path / "plain.safetensors")
    with pytest.raises(FileNotFoundError):
        load_state_file(tmp_path / "missing.safetensors")


# ----------------------------------------------------------------------------- bundled model cache


def test_bundled_model_is_converted_once_into_the_cache_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("RLTF_CACHE", str(tmp_path / "cache"))
    assert pretrained_mod.cache_root() == tmp_path / "cache"
    monkeypatch.setattr(pretrained_mod, "package_gguf", lambda spec: tmp_path / "model.gguf")
    calls = []

    def failing(gguf, out):
        (out / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pretrained_mod, "_convert_gguf", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        pretrained_mod.resolve_bundled("smollm2-135m")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written is left

    def convert(gguf, out):
        calls.append(gguf)
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(pretrained_mod, "_convert_gguf", convert)
    first = pretrained_mod.resolve_bundled("smollm2-135m")
    second = pretrained_mod.resolve_bundled("smollm2-135m")
    assert first == second == tmp_path / "cache" / "smollm2-135m-instruct"
    assert (first / "config.json").is_file() and len(calls) == 1
    with pytest.raises(KeyError, match="unknown bundled model"):
        pretrained_mod.resolve_bundled("gpt-5")


def test_cache_root_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("RLTF_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert pretrained_mod.cache_root() == tmp_path / "rltf"


def test_missing_local_model_directory_is_a_clear_error(tmp_path):
    from rltf.policy.loading import resolve_model_path

    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_path(str(tmp_path / "no-such-model"))
    assert resolve_model_path("org/model") == "org/model"  # a hub id is left to the hub client
