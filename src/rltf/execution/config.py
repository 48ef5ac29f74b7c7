"""Limits and switches of the execution sandbox (one frozen record, sent to every worker)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ExecutionConfig:
    """Limits for one program. Defaults follow APPS/CodeRL (4 s per test) and leave room for numpy.

    Memory is the address-space limit (``RLIMIT_AS``) of the sandboxed process, which already
    includes about 100 MiB of the preloaded interpreter and numpy. Processes count threads too
    (``RLIMIT_NPROC`` is per user, and every worker has its own sandbox user).
    """

    timeout_per_test: float = 4.0  # wall-clock seconds per test (program start included)
    timeout_per_program: float = 20.0  # wall-clock seconds for all tests of one program
    memory_mb: int = 1024  # RLIMIT_AS
    stack_mb: int = 64  # RLIMIT_STACK (deep recursion; below the 128 MiB gap under mmap_base)
    max_output_bytes: int = 2 << 20  # stdout returned per test; more is a failed test
    max_file_mb: int = 16  # RLIMIT_FSIZE: any file, stdout included
    max_open_files: int = 64  # RLIMIT_NOFILE
    max_processes: int = 64  # RLIMIT_NPROC (processes and threads of the sandbox user)
    scratch_mb: int = 64  # size of each worker's private tmpfs holding the working directories
    # Packages (besides the standard library) that programs may import; preloaded in the warm
    # worker and the only site-packages the sandbox can read (datasets must stay unreadable).
    preload: tuple[str, ...] = ("numpy",)
    # First uid of the per-worker sandbox users (two per worker: the sandbox user and the user
    # that sweeps it). None: derived from the pool's pid so concurrent pools never share one.
    sandbox_uid_base: int | None = None
    seccomp: bool = True
    landlock: bool = True
    # Grace for a worker beyond timeout_per_program before the pool declares it hung.
    worker_grace: float = 30.0
    # Run the import header a problem declares (``meta["program_header"]``: the APPS loaders set
    # the one every APPS harness prepends) before its programs. False: programs run bare.
    program_header: bool = True

    def validate(self) -> None:
        if self.timeout_per_test <= 0 or self.timeout_per_program <= 0:
            raise ValueError("timeouts must be positive")
        for f in ("memory_mb", "stack_mb", "max_output_bytes", "max_file_mb", "scratch_mb"):
            if getattr(self, f) <= 0:
                raise ValueError(f"{f} must be positive")
        if self.max_open_files < 16 or self.max_processes < 2:
            raise ValueError("max_open_files must be >= 16 and max_processes >= 2")
        if self.max_output_bytes > self.max_file_mb << 20:
            raise ValueError("max_output_bytes must not exceed max_file_mb")

    def __post_init__(self) -> None:
        self.validate()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["preload"] = list(self.preload)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExecutionConfig:
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        if "preload" in kwargs:
            kwargs["preload"] = tuple(kwargs["preload"])
        return cls(**kwargs)
