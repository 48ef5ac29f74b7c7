"""Load a Policy by registered name, local directory or hub id (causal or encoder-decoder)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from rltf.policy import lora as lora_mod
from rltf.policy.config import LoraSettings, PolicyConfig
from rltf.policy.policy import POLICY_META, Policy
from rltf.policy.precision import resolve_compute_dtype
from rltf.policy.pretrained import REGISTRY, resolve_bundled

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

log = logging.getLogger("rltf.policy")


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; otherwise the named device (checked)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 on a GPU that supports it, else float32."""
    if dtype == "auto":
        cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if cuda_bf16 else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r} (expected {', '.join(DTYPES)} or auto)")
    return DTYPES[dtype]


def resolve_model_path(name_or_path: str) -> str:
    """A registered name (e.g. ``smollm2-135m``) -> its converted cache directory; a path or hub
    id is returned unchanged."""
    if name_or_path in REGISTRY and not Path(name_or_path).exists():
        return str(resolve_bundled(name_or_path))
    # Something that can only be a local path (a hub id is "name" or "org/name") must exist:
    # otherwise the hub client reports a confusing "Repo id must be in the form ..." error.
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_local and not Path(name_or_path).expanduser().exists():
        raise FileNotFoundError(f"model directory {name_or_path!r} does not exist")
    return str(Path(name_or_path).expanduser()) if looks_local else name_or_path


def load_policy(
    name_or_path: str,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    lora: LoraSettings | None = None,
    trust_remote_code: bool = False,
) -> Policy:
    """Load model and tokenizer through ``AutoModelForCausalLM`` / ``AutoModelForSeq2SeqLM``
    (chosen by ``config.is_encoder_decoder``) and ``AutoTokenizer``.

    A directory saved by :meth:`Policy.save` with LoRA adapters loads its base model (recorded in
    adapter_config.json) and attaches the adapters (trainable). ``lora`` attaches fresh adapters
    (or ``lora.adapter``) to the loaded model.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    path = resolve_model_path(name_or_path)
    local = Path(path)
    adapter_dir: Path | None = None
    if (local / lora_mod.ADAPTER_CONFIG).is_file():
        adapter_dir = local
        base = json.loads((local / lora_mod.ADAPTER_CONFIG).read_text(encoding="utf-8"))
        path = resolve_model_path(str(base.get("base_model_name_or_path") or ""))
        if not path:
            raise ValueError(f"{local / lora_mod.ADAPTER_CONFIG}: no base_model_name_or_path")
    elif local.is_dir() and not (local / "config.json").is_file():
        raise FileNotFoundError(f"{local}: not a Hugging Face model directory (no config.json)")

    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    auto_cls: Any = (
        AutoModelForSeq2SeqLM
        if getattr(config, "is_encoder_decoder", False)
        else AutoModelForCausalLM
    )
    model = auto_cls.from_pretrained(path, dtype=torch_dtype, trust_remote_code=trust_remote_code)
    tok_source = (
        adapter_dir if adapter_dir and (adapter_dir / "tokenizer_config.json").is_file() else path
    )
    tokenizer = AutoTokenizer.from_pretrained(str(tok_source), trust_remote_code=trust_remote_code)
    model.to(dev)
    model.eval()
    if adapter_dir is not None:
        if lora is not None and lora.adapter is not None:
            raise ValueError(
                f"{local} is itself a LoRA adapter directory; do not also set lora.adapter "
                f"({lora.adapter})"
            )
        # Continue training the saved adapters (e.g. RLTF after a LoRA warm start): stacking
        # fresh adapters on them would leave the warm start's adapters frozen.
        model = lora_mod.load_adapter(model, adapter_dir, trainable=True)
        if lora is not None:
            log.info("%s: continuing its saved LoRA adapters (lora r/alpha settings unused)", local)
    elif lora is not None:
        model = lora_mod.attach_lora(model, lora)
    version = 0
    meta = Path(name_or_path) / POLICY_META
    if meta.is_file():
        version = int(json.loads(meta.read_text(encoding="utf-8")).get("version", 0))
    return Policy(model, tokenizer, version=version)


def policy_from_config(cfg: PolicyConfig) -> Policy:
    """:func:`load_policy` with the settings of a :class:`PolicyConfig`."""
    cfg.validate()
    policy = load_policy(
        cfg.model,
        dtype=cfg.dtype,
        device=cfg.device,
        lora=cfg.lora,
        trust_remote_code=cfg.trust_remote_code,
    )
    learner = resolve_compute_dtype(cfg.learner_dtype, policy.device)
    policy.learner_dtype = learner if learner != torch.float32 else None
    return policy


__all__ = [
    "load_policy",
    "policy_from_config",
    "resolve_device",
    "resolve_dtype",
    "resolve_model_path",
]
