"""What ``rltf sft`` and ``rltf train`` share: the run directory, seeding, determinism, stopping
on SIGINT/SIGTERM with a final checkpoint, and wall-time accounting per stage."""

from __future__ import annotations

import logging
import random
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch

from rltf.config import ConfigError, dump_yaml, to_dict
from rltf.training.checkpoint import CheckpointManager

log = logging.getLogger("rltf.training")


def prepare_run_dir(
    run_dir: str | Path, checkpoint_dir: str | None, resume: bool, overwrite: bool
) -> tuple[Path, CheckpointManager]:
    """Create the run directory. A directory that already holds checkpoints is only reused with
    ``--resume`` (continue) or ``--overwrite`` (start again), never silently clobbered."""
    root = Path(run_dir)
    ckpt_root = Path(checkpoint_dir) if checkpoint_dir else root / "checkpoints"
    manager = CheckpointManager(ckpt_root)
    if manager.list() and not resume:
        if not overwrite:
            raise ConfigError(
                str(root),
                "run_dir",
                "already holds checkpoints: pass --resume to continue, --overwrite to start "
                "again, or --set run_dir=...",
            )
        for _, path in manager.list():
            shutil.rmtree(path)
    root.mkdir(parents=True, exist_ok=True)
    return root, manager


def save_config(cfg: Any, run_dir: Path) -> None:
    dump_yaml(cfg, run_dir / "config.yaml")


def config_changes(saved: dict[str, Any], cfg: Any) -> list[str]:
    """Dotted keys whose value differs between a checkpoint's config and the current one."""
    out: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{prefix}{key}.")
        elif a != b:
            out.append(prefix.rstrip("."))

    walk(saved, to_dict(cfg), "")
    return out


def seed_everything(seed: int, deterministic: bool, threads: int | None) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True)


class StopRequest:
    """Set by SIGINT / SIGTERM; the loop finishes its step, checkpoints and exits. A second
    signal falls back to the default behaviour (immediate exit), so a stuck run can still die."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.event.is_set()

    def set(self, signum: int = signal.SIGINT) -> None:
        self.signum = signum
        self.event.set()

    @property
    def exit_code(self) -> int:
        return 128 + self.signum if self.signum is not None else 0

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals can only be handled in the main thread
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            log.warning(
                "%s: finishing the current step and writing a checkpoint (again to force)",
                signal.Signals(signum).name,
            )
            signal.signal(signal.SIGINT, signal.default_int_handler)  # KeyboardInterrupt
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self.set(signum)

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in old.items():
                signal.signal(s, h)


class StageClock:
    """Busy seconds per stage (generate, execute, reward, learn, wait, ...), thread-safe.

    Stages run concurrently (actor thread, execution workers, learner), so their shares of wall
    time can sum to more than 1: that overlap is the point. ``execute`` is the time during which
    at least one program was running (tracked with :meth:`exec_started` / :meth:`exec_finished`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()
        self._running = 0
        self._exec_since = 0.0

    def restart(self) -> None:
        """Start counting from now (after set-up: model loading is not a stage of the loop)."""
        with self._lock:
            self.seconds = {}
            self.start = time.perf_counter()

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - t0)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def exec_started(self, n: int = 1) -> None:
        with self._lock:
            if self._running == 0:
                self._exec_since = time.perf_counter()
            self._running += n

    def exec_finished(self, n: int = 1) -> None:
        with self._lock:
            self._running -= n
            if self._running == 0:
                now = time.perf_counter()
                self.seconds["execute"] = self.seconds.get("execute", 0.0) + now - self._exec_since

    def snapshot(self) -> dict[str, float]:
        """Busy seconds per stage so far (a copy)."""
        with self._lock:
            return dict(self.seconds)

    def wall(self) -> float:
        return time.perf_counter() - self.start

    def shares(self) -> dict[str, float]:
        wall = max(self.wall(), 1e-9)
        with self._lock:
            seconds = dict(self.seconds)
            if self._running:
                seconds["execute"] = seconds.get("execute", 0.0) + (
                    time.perf_counter() - self._exec_since
                )
        return {stage: s / wall for stage, s in sorted(seconds.items())}
