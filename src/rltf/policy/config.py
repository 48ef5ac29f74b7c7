"""Typed settings of the policy (loaded from YAML by rltf.config.load_config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationConfig:
    """How to sample. Paper/official code: temperature 0.6-1.0, top-p 0.95, <= 512 new tokens.

    ``stop`` strings are added to each prompt's own stop strings. ``seed`` makes sampling
    reproducible through a private ``torch.Generator`` (None: the global torch RNG, so a script's
    ``torch.manual_seed`` applies). ``max_prompt_tokens`` keeps only the last N prompt tokens (the
    end of a prompt, e.g. APPS's "ANSWER:", is what the model must continue from).
    """

    temperature: float = 1.0
    top_p: float = 0.95
    max_new_tokens: int = 256
    do_sample: bool = True  # False: greedy decoding (the baseline of the official code)
    batch_size: int = 16  # sequences per forward pass
    stop: tuple[str, ...] = ()
    seed: int | None = None
    max_prompt_tokens: int | None = None
    top_k: int = 0
    dtype: str = "float32"

    def validate(self) -> None:
        if self.do_sample and not self.temperature > 0:
            raise ValueError(f"temperature must be > 0 when sampling, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_prompt_tokens is not None and self.max_prompt_tokens < 1:
            raise ValueError(f"max_prompt_tokens must be >= 1, got {self.max_prompt_tokens}")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must not be empty")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: off), got {self.top_k}")
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(
                f"generation dtype must be auto, float32 or bfloat16, got {self.dtype!r}"
            )


@dataclass(frozen=True)
class LoraSettings:
    """LoRA adapters through peft. ``target_modules`` empty: the attention query/value projections
    of the architecture (GPT-2 ``c_attn``, T5 ``q``/``v``, Llama/Qwen/SmolLM2 ``q_proj``/``v_proj``).
    ``adapter``: a directory of saved adapters to load instead of fresh ones."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ()
    adapter: str | None = None

    def validate(self) -> None:
        if self.r < 1:
            raise ValueError(f"lora r must be >= 1, got {self.r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"lora dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class PolicyConfig:
    """Which model to load and how. ``model``: a registered name (``smollm2-135m``), a local
    Hugging Face directory or a hub id. ``dtype``: float32 | bfloat16 | float16 | auto;
    ``device``: cpu | cuda | cuda:N | auto (CUDA when available). ``learner_dtype``: bfloat16
    runs the learner's forward/backward (``Policy.token_logprobs``) under bf16 autocast with
    float32 weights and optimizer state; ``auto``: bf16 where native; float32 (default): none."""

    model: str = "smollm2-135m"
    dtype: str = "float32"
    device: str = "cpu"
    trust_remote_code: bool = False
    lora: LoraSettings | None = None
    learner_dtype: str = "float32"

    def validate(self) -> None:
        if self.learner_dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(
                f"learner_dtype must be auto, float32 or bfloat16, got {self.learner_dtype!r}"
            )
        if self.dtype not in ("float32", "bfloat16", "float16", "auto"):
            raise ValueError(
                f"dtype must be float32, bfloat16, float16 or auto, got {self.dtype!r}"
            )
        if not self.model:
            raise ValueError("model must name a model")


__all__ = ["GenerationConfig", "LoraSettings", "PolicyConfig"]
