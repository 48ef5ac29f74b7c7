"""LoRA adapters (Hu et al. 2021) through peft, for any causal or encoder-decoder model.

Only the adapters train and get saved (a few MB instead of the model); ``merge`` folds them into
the base weights for evaluation, so evaluated models run at full speed with no peft wrapper.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rltf.policy.config import LoraSettings

ADAPTER_CONFIG = "adapter_config.json"


def default_target_modules(model: torch.nn.Module) -> list[str]:
    """The attention query/value projections of ``model``'s architecture (peft's own table:
    GPT-2 ``c_attn``, T5 ``q``/``v``, Llama/Qwen2/SmolLM2 ``q_proj``/``v_proj``, ...)."""
    from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as TABLE

    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type in TABLE:
        return list(TABLE[model_type])
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    for guess in (["q_proj", "v_proj"], ["query", "value"], ["c_attn"], ["qkv_proj"]):
        if set(guess) <= names:
            return guess
    raise ValueError(
        f"no default LoRA target modules for model type {model_type!r}; "
        "set lora.target_modules (names of the attention projections)"
    )


def attach_lora(model: torch.nn.Module, settings: LoraSettings) -> Any:
    """Wrap ``model`` in a peft model: fresh adapters, or ``settings.adapter`` loaded (trainable)."""
    from peft import LoraConfig, PeftModel, TaskType, get_peft_model

    settings.validate()
    if settings.adapter is not None:
        return load_adapter(model, settings.adapter, trainable=True)
    is_seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
    targets = list(settings.target_modules) or default_target_modules(model)
    config = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM if is_seq2seq else TaskType.CAUSAL_LM,
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=targets,
        # GPT-2 style Conv1D layers store weights transposed.
        fan_in_fan_out=getattr(model.config, "model_type", "") in ("gpt2", "gpt_bigcode"),
    )
    peft_model = get_peft_model(model, config)
    assert isinstance(peft_model, PeftModel)
    return peft_model


def load_adapter(model: torch.nn.Module, path: str | Path, trainable: bool = False) -> Any:
    """Attach saved adapters from ``path`` (a directory with adapter_config.json)."""
    from peft import PeftModel

    path = Path(path)
    if not (path / ADAPTER_CONFIG).is_file():
        raise FileNotFoundError(f"{path}: no {ADAPTER_CONFIG} (not a saved LoRA adapter)")
    return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)


def is_lora(model: torch.nn.Module) -> bool:
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


def merge(model: torch.nn.Module) -> torch.nn.Module:
    """Fold the adapters into the base weights and drop the peft wrapper (for evaluation)."""
    if not is_lora(model):
        return model
    return model.merge_and_unload()  # type: ignore[operator]


__all__ = ["attach_lora", "default_target_modules", "is_lora", "load_adapter", "merge"]
