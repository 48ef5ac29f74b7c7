"""Versioned weight snapshots for refreshing an actor from a learner across processes.

The learner writes ``save_state_file(path, state, version)``; actors poll ``read_state_version``
and ``load_state_file`` when it changed. The file is safetensors (no pickle: loading cannot run
code) with the version in its metadata, written to a temporary file in the same directory, fsynced
and renamed over the old one, so a reader sees either the old or the new snapshot, never a torn one.
Tied parameters (e.g. input embedding = output head) are stored once and restored under every name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch

VERSION_KEY = "rltf_policy_version"
ALIASES_KEY = "rltf_aliases"


def full_tensor(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor of a parameter sharded by FSDP (a DTensor: every rank of the learner
    must call this together, it all-gathers); any other tensor as it is."""
    from torch.distributed.tensor import DTensor

    return t.full_tensor() if isinstance(t, DTensor) else t


def save_state_file(path: str | Path, state: Mapping[str, torch.Tensor], version: int) -> Path:
    """Atomically write ``state`` (a state dict) and ``version`` to ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple[object, ...], str] = {}
    for name, t in state.items():
        t = t.detach()
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.dtype)
        if t.numel() and key in seen:
            aliases[name] = seen[key]
            continue
        seen[key] = name
        tensors[name] = t.to("cpu").contiguous()
    metadata = {VERSION_KEY: str(int(version)), ALIASES_KEY: json.dumps(aliases)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def load_state_file(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], int]:
    """Read a snapshot written by :func:`save_state_file`: ``(state dict, version)``."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weight snapshot at {path}")
    with safe_open(str(path), framework="pt", device=str(device)) as f:
        meta = f.metadata() or {}
        if VERSION_KEY not in meta:
            raise ValueError(f"{path}: not an rltf weight snapshot (no '{VERSION_KEY}' metadata)")
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    for alias, name in json.loads(meta.get(ALIASES_KEY, "{}")).items():
        state[alias] = state[name]
    return state, int(meta[VERSION_KEY])


def read_state_version(path: str | Path) -> int | None:
    """The version of the snapshot at ``path`` without reading its tensors (None if absent)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except FileNotFoundError:
        return None
    v = meta.get(VERSION_KEY)
    return None if v is None else int(v)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["load_state_file", "read_state_version", "save_state_file"]
