"""Atomic, unpickling-free checkpoints.

A checkpoint is a directory ``ckpt-<step>`` holding

    model.safetensors     the learner's trainable parameters (all weights, or only LoRA adapters)
    actor.safetensors     the actor's weights when they differ from the learner's (optional)
    trainer.pt            optimizer, scheduler and RNG states: tensors and plain containers only,
                          read back with ``torch.load(weights_only=True)``
    state.json            counters, sampler positions, config, Python RNG state
    buffer.json.gz        the online buffer (plain JSON data)

It is written into a temporary sibling directory, every file is fsync'ed, and the directory is
renamed into place (then the parent is fsync'ed), so a crash at any moment leaves either the old
set of checkpoints or the new one, never a half-written ``ckpt-*``. The newest ``keep_last`` are kept.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from rltf.policy.weights import full_tensor
from rltf.training.distributed import copy_full_into

FORMAT_VERSION = 1
PREFIX = "ckpt-"


# --------------------------------------------------------------------------------------------
# weights: trainable parameters only, so full fine-tuning and LoRA share one code path


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters the optimizer updates (tied weights appear once), detached CPU copies of
    the whole tensors (FSDP: every rank calls this together)."""
    return {
        name: full_tensor(p.detach()).to("cpu", copy=True).contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }


def load_trainable_state(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Copy ``state`` into the model's trainable parameters (into this rank's shards when FSDP
    shards them); the key sets must match exactly."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    missing, unexpected = sorted(set(params) - set(state)), sorted(set(state) - set(params))
    if missing or unexpected:
        raise ValueError(
            f"checkpoint weights do not match the model: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    with torch.no_grad():
        for name, p in params.items():
            copy_full_into(p, state[name])


# --------------------------------------------------------------------------------------------
# RNG states


def capture_rng() -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensor part for trainer.pt, JSON part for state.json) of every global RNG we rely on."""
    np_state: Any = np.random.get_state(legacy=True)
    tensors: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["cuda"] = torch.cuda.get_rng_state_all()
    version, py_state, gauss = random.getstate()
    plain = {
        "python": [version, list(py_state), gauss],
        "numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, plain


def restore_rng(tensors: Mapping[str, Any], plain: Mapping[str, Any]) -> None:
    torch.set_rng_state(tensors["torch"])
    if "cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(tensors["cuda"])
    version, py_state, gauss = plain["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, pos, has_gauss, cached = plain["numpy"]
    keys = tensors["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state((name, keys, pos, has_gauss, cached))


# --------------------------------------------------------------------------------------------
# atomic directory writes


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Checkpoint:
    path: Path
    step: int
    weights: dict[str, torch.Tensor]
    actor_weights: dict[str, torch.Tensor] | None
    trainer: dict[str, Any]
    state: dict[str, Any]
    buffer: dict[str, Any] | None


class CheckpointManager:
    def __init__(self, root: str | Path, keep_last: int = 2) -> None:
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last}")
        self.root = Path(root)
        self.keep_last = keep_last

    def list(self) -> list[tuple[int, Path]]:
        """Complete checkpoints, oldest first (temporary directories are never listed)."""
        if not self.root.is_dir():
            return []
        found = []
        for p in self.root.iterdir():
            if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX) :].isdigit():
                found.append((int(p.name[len(PREFIX) :]), p))
        return sorted(found)

    def latest(self) -> Path | None:
        found = self.list()
        return found[-1][1] if found else None

    def save(
        self,
        step: int,
        *,
        weights: Mapping[str, torch.Tensor],
        trainer: Mapping[str, Any],
        state: Mapping[str, Any],
        buffer: Mapping[str, Any] | None = None,
        actor_weights: Mapping[str, torch.Tensor] | None = None,
    ) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / f"{PREFIX}{step:08d}"
        tmp = self.root / f".tmp-{PREFIX}{step:08d}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        files = []
        save_file(dict(weights), str(tmp / "model.safetensors"), metadata={"step": str(step)})
        files.append(tmp / "model.safetensors")
        if actor_weights is not None:
            save_file(dict(actor_weights), str(tmp / "actor.safetensors"))
            files.append(tmp / "actor.safetensors")
        torch.save(dict(trainer), tmp / "trainer.pt")
        files.append(tmp / "trainer.pt")
        if buffer is not None:
            # mtime=0: identical buffers give identical bytes.
            with gzip.GzipFile(tmp / "buffer.json.gz", "wb", compresslevel=1, mtime=0) as g:
                g.write(json.dumps(buffer, separators=(",", ":")).encode("utf-8"))
            files.append(tmp / "buffer.json.gz")
        body = {"format_version": FORMAT_VERSION, "step": step, **state}
        (tmp / "state.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
        files.append(tmp / "state.json")
        for f in files:
            _fsync_file(f)
        _fsync_dir(tmp)
        if final.exists():  # re-saving a step (e.g. a signal right after a periodic save)
            old = self.root / f".old-{final.name}-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old)
        else:
            tmp.rename(final)
        _fsync_dir(self.root)
        self._prune()
        return final

    def _prune(self) -> None:
        for _, path in self.list()[: -self.keep_last]:
            shutil.rmtree(path, ignore_errors=True)
        for p in self.root.iterdir():  # leftovers of runs killed mid-save
            if p.name.startswith((".tmp-", ".old-")):
                shutil.rmtree(p, ignore_errors=True)

    @staticmethod
    def load(path: str | Path) -> Checkpoint:
        p = Path(path)
        state_file = p / "state.json"
        if not state_file.is_file():
            raise FileNotFoundError(f"{p}: not a checkpoint (no state.json)")
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{state_file}: unsupported format_version {state.get('format_version')}"
            )
        actor = p / "actor.safetensors"
        buf = p / "buffer.json.gz"
        buffer = None
        if buf.is_file():
            with gzip.open(buf, "rb") as g:
                buffer = json.loads(g.read().decode("utf-8"))
        return Checkpoint(
            path=p,
            step=int(state["step"]),
            weights=load_file(str(p / "model.safetensors")),
            actor_weights=load_file(str(actor)) if actor.is_file() else None,
            # weights_only: tensors and plain containers, never arbitrary pickled objects.
            trainer=torch.load(p / "trainer.pt", weights_only=True, map_location="cpu"),
            state=state,
            buffer=buffer,
        )
