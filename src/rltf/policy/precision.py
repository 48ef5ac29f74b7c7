"""Reduced precision where the hardware has it: a bf16 copy of the model for sampling, and bf16
autocast for the learner's forward/backward.

Why a copy for sampling instead of autocast: CPU autocast re-casts activations around every
linear layer (measured here: SmolLM2-135M's cached forward step ran 2x *slower* under autocast
than in fp32, while the model cast to bf16 ran 1.8x faster). The copy is refreshed lazily:
every parameter's in-place version counter (``Tensor._version``, bumped by ``optimizer.step``,
``load_state_dict`` and ``copy_``) is compared before each generation, so a learner update, an
actor weight push or a LoRA merge is always seen; a refresh copies the weights into the existing
bf16 tensors (0.4 s for 135M parameters on this CPU, the "weight push" cost of each sync).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path

import torch

DTYPE_CHOICES = ("auto", "float32", "bfloat16")


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 matrix instructions (AVX512-BF16 or AMX). oneDNN's own
    check is used when torch exposes it; /proc/cpuinfo otherwise (Linux)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        pass
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_compute_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 where the device computes it natively (CUDA with bf16, a CPU with
    AVX512-BF16/AMX), else float32; ``float32`` / ``bfloat16`` as named."""
    if name not in DTYPE_CHOICES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_CHOICES)}, got {name!r}")
    if name == "float32":
        return torch.float32
    if name == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return torch.bfloat16 if device.type == "cpu" and cpu_supports_bf16() else torch.float32


def _fingerprint(model: torch.nn.Module) -> tuple[tuple[int, int], ...]:
    return tuple((id(t), t._version) for t in (*model.parameters(), *model.buffers()))


class GenerationModel:
    """The model sampling runs on: ``model`` itself when it already has the dtype, else a cached
    copy in that dtype whose weights follow ``model``'s (see the module docstring)."""

    def __init__(self) -> None:
        self._copy: torch.nn.Module | None = None
        self._source: int | None = None  # id of the model the copy was made from
        self._seen: tuple[tuple[int, int], ...] = ()
        self.refreshes = 0  # weight copies made (tests and benchmarks read it)

    def get(self, model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
        if next(model.parameters()).dtype == dtype:
            return model
        if self._copy is None or self._source != id(model) or self._dtype() != dtype:
            self._copy = copy.deepcopy(model).to(dtype).requires_grad_(False)
            self._source, self._seen = id(model), _fingerprint(model)
            return self._copy.eval()
        seen = _fingerprint(model)
        if seen != self._seen:
            self._refresh(model)
            self._seen = seen
        return self._copy.eval()

    def _dtype(self) -> torch.dtype | None:
        return None if self._copy is None else next(self._copy.parameters()).dtype

    @torch.no_grad()
    def _refresh(self, model: torch.nn.Module) -> None:
        assert self._copy is not None
        src = dict(model.named_parameters()) | dict(model.named_buffers())
        dst = dict(self._copy.named_parameters()) | dict(self._copy.named_buffers())
        if src.keys() != dst.keys():  # structure changed (e.g. adapters attached): start over
            self._copy = copy.deepcopy(model).to(self._dtype()).requires_grad_(False)
        else:
            for name, tensor in src.items():
                dst[name].copy_(tensor)
        self.refreshes += 1


@contextlib.contextmanager
def learner_autocast(dtype: torch.dtype | None, device: torch.device) -> Iterator[None]:
    """bf16 autocast for the learner's forward (the backward follows it); ``None`` or float32:
    no autocast. Parameters, gradients and the optimizer state stay float32 (mixed precision);
    log-probs are taken in float32 from the (bf16-computed) logits."""
    if dtype is None or dtype == torch.float32:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


__all__ = [
    "DTYPE_CHOICES",
    "GenerationModel",
    "cpu_supports_bf16",
    "learner_autocast",
    "resolve_compute_dtype",
]
