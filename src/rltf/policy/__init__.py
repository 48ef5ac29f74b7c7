"""The policy: Hugging Face models behind one interface (generation with log-probs and offsets).

policy = load_policy("smollm2-135m")            # or a directory, or a hub id
samples = policy.generate(prompts, ids, GenerationConfig(max_new_tokens=128), n=4)
logps = policy.token_logprobs([s.prompt_ids for s in samples], [s.token_ids for s in samples])
"""

from rltf.policy.config import GenerationConfig, LoraSettings, PolicyConfig
from rltf.policy.loading import load_policy, policy_from_config, resolve_model_path
from rltf.policy.lora import attach_lora, default_target_modules, load_adapter
from rltf.policy.policy import Policy, PromptLike
from rltf.policy.pretrained import REGISTRY, cache_root, resolve_bundled
from rltf.policy.text import fenced_code_span, token_offsets
from rltf.policy.tiny import build_tiny_model, train_bpe_tokenizer
from rltf.policy.weights import load_state_file, read_state_version, save_state_file

__all__ = [
    "REGISTRY",
    "GenerationConfig",
    "LoraSettings",
    "Policy",
    "PolicyConfig",
    "PromptLike",
    "attach_lora",
    "build_tiny_model",
    "cache_root",
    "default_target_modules",
    "fenced_code_span",
    "load_adapter",
    "load_policy",
    "load_state_file",
    "policy_from_config",
    "read_state_version",
    "resolve_bundled",
    "resolve_model_path",
    "save_state_file",
    "token_offsets",
    "train_bpe_tokenizer",
]
